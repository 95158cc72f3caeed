"""Fake quantisation with a straight-through estimator, and the shared-weight mixed-precision conv.

Quantiser. Weights are quantised symmetrically per tensor to codes in ``[-(2^(b-1)-1), 2^(b-1)-1]``
(2 bits is ternary), activations after a ReLU unsigned to ``[0, 2^b - 1]`` (the network's input,
which is signed, symmetrically). Quantise-dequantise runs through torch's
``fake_quantize_per_tensor_affine`` (the op torch.ao.quantization's FakeQuantize wraps), whose
gradient is the clipped straight-through estimator: identity inside the range, zero outside.
32 bits means float (no quantisation).

Step sizes. With a max-based step a 2- or 4-bit quantiser rounds almost every weight to zero, so
the signal vanishes. Like EdMIPS (zhaoweicai/EdMIPS ``quant_module.py``) low bit-widths use the
step of the MSE-optimal uniform quantiser of a Gaussian, proportional to the tensor's std:
weights 0.996 sigma (2 bit), 0.336 sigma (4 bit); activations (half-wave Gaussian, HWGQ) 0.538 sigma
(2 bit), 0.185 sigma (4 bit); 8 bits uses max / q_max. Activation statistics are running averages
(updated in training, frozen in eval), so an exported network reproduces the eval forward exactly.

Forward-and-backward scaling (the "vanishing" fix of low-precision search). Each bit-width's
quantised weight is multiplied by ``c_b = std(W) / std(Q_b(W))`` (a constant, no gradient). Forward:
every branch of the bit mixture carries a weight of the same spread as the float weight, so the
mixture's output scale does not depend on which bit-width the architecture weights favour (no
branch vanishes because it is coarse). Backward: the STE gradient reaching the shared weight from
branch b is scaled by the same ``c_b``, so low-bit branches neither starve nor swamp the shared
weight. ``c_b * scale_b`` is still one per-tensor scale, so export stays integer codes x one scale.

Why not brevitas: a brevitas ``QuantConv2d`` binds one quantiser (one bit-width) to one layer;
a mixture over bit-widths of one shared weight would need one brevitas layer per bit-width, which is
exactly the costly non-shared variant (``share=False`` below, kept for the benchmark).

Convolution sharing (EdMIPS): convolution is linear in its weight and input, so
``sum_i sum_j p_i q_j conv(Q_j(x), Q_i(W)) == conv(sum_j q_j Q_j(x), sum_i p_i Q_i(W))``:
one convolution per layer instead of one per (weight bits, activation bits) pair.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

FLOAT_BITS = 32
#: Gaussian-optimal uniform step / std for symmetric weight codes (EdMIPS)
WEIGHT_STEP = {2: 0.996, 4: 0.336}
#: half-wave-Gaussian-optimal step / std for unsigned activation codes (HWGQ, as used by EdMIPS)
ACT_STEP = {2: 0.538, 4: 0.185}
EPS = 1e-8


def code_range(bits: int, signed: bool) -> tuple[int, int]:
    if signed:
        q = 2 ** (bits - 1) - 1
        return -q, q
    return 0, 2**bits - 1


def weight_scale(w: torch.Tensor, bits: int) -> torch.Tensor:
    """Per-tensor step for ``bits``-bit symmetric codes (no gradient)."""
    w = w.detach()
    _, q = code_range(bits, True)
    if bits in WEIGHT_STEP:
        step = WEIGHT_STEP[bits] * w.std(unbiased=False)
    else:
        step = w.abs().max() / q
    return step.clamp_min(EPS)


def fake_quant(x: torch.Tensor, scale: torch.Tensor, bits: int, signed: bool) -> torch.Tensor:
    """Quantise-dequantise with the clipped straight-through gradient."""
    low, high = code_range(bits, signed)
    zero = torch.zeros((), dtype=torch.int32, device=x.device)
    return torch.fake_quantize_per_tensor_affine(x, scale.reshape(()).float(), zero, low, high)


def quantize_weight(w: torch.Tensor, bits: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(scaled fake-quantised weight, effective per-tensor scale) -- see the module doc."""
    if bits >= FLOAT_BITS:
        return w, None
    scale = weight_scale(w, bits)
    q = fake_quant(w, scale, bits, True)
    with torch.no_grad():
        c = w.std(unbiased=False) / q.std(unbiased=False).clamp_min(EPS)
        c = torch.where(torch.isfinite(c) & (c > 0), c, torch.ones_like(c))
    return q * c, scale * c


def weight_codes(w: torch.Tensor, bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Integer codes and the effective scale with ``codes * scale == quantize_weight(w)`` (export)."""
    scale = weight_scale(w, bits)
    _, q = code_range(bits, True)
    codes = torch.clamp(torch.round(w.detach() / scale), -q, q)
    _, effective = quantize_weight(w.detach(), bits)
    return codes.to(torch.int8), effective


class ActQuant(nn.Module):
    """Activation fake-quantiser for a set of bit-widths, with running statistics shared by all.

    ``signed`` inputs (the normalised network input) use symmetric codes and Gaussian steps;
    non-negative inputs (after ReLU / pooling) unsigned codes and half-wave Gaussian steps.
    """

    def __init__(self, signed: bool, momentum: float = 0.1) -> None:
        super().__init__()
        self.signed = signed
        self.momentum = momentum
        self.register_buffer("mean_sq", torch.zeros(()))
        self.register_buffer("peak", torch.zeros(()))
        self.register_buffer("seen", torch.zeros((), dtype=torch.bool))

    def _update(self, x: torch.Tensor) -> None:
        with torch.no_grad():
            sq, peak = x.pow(2).mean(), x.abs().max()
            if not bool(self.seen):
                self.mean_sq.copy_(sq)
                self.peak.copy_(peak)
                self.seen.fill_(True)
            else:
                self.mean_sq.lerp_(sq, self.momentum)
                self.peak.lerp_(peak, self.momentum)

    def scale(self, bits: int) -> torch.Tensor:
        """The step of ``bits``-bit codes from the running statistics."""
        low, high = code_range(bits, self.signed)
        if bits in ACT_STEP:
            # std of the Gaussian: E[x^2] for signed inputs, 2 E[x^2] for its half-wave (ReLU) part
            sigma = (self.mean_sq * (1.0 if self.signed else 2.0)).sqrt()
            step = (WEIGHT_STEP if self.signed else ACT_STEP)[bits] * sigma
        else:
            step = self.peak / high
        return step.clamp_min(EPS)

    def forward(self, x: torch.Tensor, bits: int) -> torch.Tensor:
        if bits >= FLOAT_BITS:
            return x
        if self.training:
            self._update(x)
        return fake_quant(x, self.scale(bits), bits, self.signed)

    def each(self, x: torch.Tensor, bits: Sequence[int]) -> list[torch.Tensor]:
        """``[Q_b(x) for b in bits]`` with the statistics updated once."""
        if self.training:
            self._update(x)
        training, self.training = self.training, False
        try:
            return [self.forward(x, b) for b in bits]
        finally:
            self.training = training

    def mixture(self, x: torch.Tensor, bits: Sequence[int], probs: torch.Tensor) -> torch.Tensor:
        """``sum_j probs_j Q_j(x)``: one quantised input for all bit-widths of a layer."""
        return sum(p * q for p, q in zip(probs.unbind(0), self.each(x, bits)))


_CONV = {1: F.conv1d, 2: F.conv2d}


class MixedQuantConv(nn.Module):
    """One convolution weight searched over weight / activation bit-widths.

    ``share=True``: one convolution of the mixed input with the mixed weight (EdMIPS convolution
    sharing). ``share=False``: one convolution per (weight bits, activation bits) pair, mixed after
    (FBNet-V2's way; same function, kept to measure what sharing saves).
    """

    def __init__(self, dims: int, c_in: int, c_out: int, kernel: int, bits: Sequence[int],
                 share: bool = True) -> None:
        super().__init__()
        self.dims, self.kernel, self.padding = dims, kernel, kernel // 2
        self.bits = tuple(bits)
        self.share = share
        conv = nn.Conv1d if dims == 1 else nn.Conv2d
        self.weight = conv(c_in, c_out, kernel, padding=self.padding, bias=False).weight

    def mixed_weight(self, w_probs: torch.Tensor) -> torch.Tensor:
        return sum(p * quantize_weight(self.weight, b)[0] for p, b in zip(w_probs.unbind(0), self.bits))

    def forward(self, x_mixed: torch.Tensor | None, w_probs: torch.Tensor, x: torch.Tensor | None = None,
                act: ActQuant | None = None, a_probs: torch.Tensor | None = None) -> torch.Tensor:
        conv = _CONV[self.dims]
        if self.share:
            return conv(x_mixed, self.mixed_weight(w_probs), padding=self.padding)
        inputs = act.each(x, self.bits)
        out = 0
        for pw, bw in zip(w_probs.unbind(0), self.bits):
            wq = quantize_weight(self.weight, bw)[0]
            for pa, xq in zip(a_probs.unbind(0), inputs):
                out = out + pw * pa * conv(xq, wq, padding=self.padding)
        return out
