"""Binary-ones count (BOO), the bit-cost objective of EMONAS.

On accelerators that store and move weights as fixed-point words, switching energy grows with the
number of 1 bits, so counting them gives a hardware-free proxy for a model's energy cost.

Quantisation (the definition used everywhere in nasforge):

* every floating-point parameter tensor (weights, biases, norm affines) is quantised on its own;
* symmetric, per-tensor scale ``s = max|w| / 127``; codes ``q = clamp(round(w / s), -127, 127)``
  as int8 (round half to even, as ``torch.round``); an all-zero tensor gives all-zero codes;
* each code is read as its 8-bit two's-complement pattern (``-1`` is ``0b11111111``: 8 ones)
  and the 1 bits are counted over all parameters.

``boo`` is the total, ``boo_per_param`` the mean per parameter (0 to 8), which compares models of
different sizes. This module imports torch at the top: import it only where torch is wanted.
"""

from __future__ import annotations

from typing import Iterable

import torch

INT8_MAX = 127

# popcount of every byte 0..255, indexed by the unsigned view of an int8 code
_POPCOUNT = torch.tensor([bin(b).count("1") for b in range(256)], dtype=torch.int64)


def int8_codes(weight: torch.Tensor) -> torch.Tensor:
    """Symmetric per-tensor int8 codes of ``weight`` (scale = max|w| / 127)."""
    w = weight.detach().to(torch.float64)
    peak = w.abs().max() if w.numel() else torch.tensor(0.0, dtype=torch.float64)
    if not torch.isfinite(peak):
        raise ValueError("cannot quantise a tensor holding NaN or infinite values")
    if peak == 0:
        return torch.zeros_like(w, dtype=torch.int8)
    return torch.round(w * (INT8_MAX / peak)).clamp(-INT8_MAX, INT8_MAX).to(torch.int8)


def ones_in_codes(codes: torch.Tensor) -> int:
    """Number of 1 bits in the two's-complement bytes of int8 ``codes``."""
    unsigned = codes.to(torch.int64) & 0xFF
    return int(_POPCOUNT[unsigned].sum())


def binary_ones_of(tensors: Iterable[torch.Tensor]) -> dict[str, float]:
    """BOO over the given tensors, each quantised with its own scale."""
    ones = 0
    count = 0
    for tensor in tensors:
        if not torch.is_floating_point(tensor) or tensor.numel() == 0:
            continue
        ones += ones_in_codes(int8_codes(tensor))
        count += tensor.numel()
    return {"boo": float(ones), "boo_per_param": ones / count if count else 0.0}


def binary_ones(model: torch.nn.Module) -> dict[str, float]:
    """``{"boo", "boo_per_param"}`` of a model's parameters (see module doc for the definition)."""
    return binary_ones_of(p for p in model.parameters())
