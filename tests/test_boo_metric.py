"""Binary-ones count (BOO): int8 symmetric per-tensor quantisation, two's-complement popcount."""

from __future__ import annotations

import math

import pytest
import torch

from nasforge.metrics.boo import binary_ones, binary_ones_of, int8_codes, ones_in_codes


def _reference_ones(values: list[float]) -> int:
    """Independent reference: quantise with Python floats, count bits of (code mod 256)."""
    peak = max(abs(v) for v in values)
    total = 0
    for v in values:
        code = 0 if peak == 0 else max(-127, min(127, round(v * 127 / peak)))
        total += bin(code % 256).count("1")
    return total


def test_codes_are_symmetric_per_tensor_int8():
    codes = int8_codes(torch.tensor([0.5, -1.0, 0.25, 1.0, 0.0]))
    assert codes.dtype == torch.int8
    assert codes.tolist() == [64, -127, 32, 127, 0]  # 63.5 rounds half-to-even to 64
    assert int8_codes(torch.zeros(3)).tolist() == [0, 0, 0]
    with pytest.raises(ValueError, match="NaN"):
        int8_codes(torch.tensor([1.0, float("nan")]))


def test_twos_complement_bit_counts():
    codes = torch.tensor([0, 1, -1, 127, -127, -128, 64], dtype=torch.int8)
    # 0:0, 1:1, -1=0xFF:8, 127=0x7F:7, -127=0x81:2, -128=0x80:1, 64=0x40:1
    assert ones_in_codes(codes) == 0 + 1 + 8 + 7 + 2 + 1 + 1


def test_model_boo_matches_an_independent_reference_and_is_per_tensor():
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Linear(4, 3))
    expected = sum(_reference_ones(p.detach().flatten().tolist()) for p in model.parameters())
    count = sum(p.numel() for p in model.parameters())
    result = binary_ones(model)
    assert result["boo"] == expected
    assert math.isclose(result["boo_per_param"], expected / count)
    assert 0 < result["boo_per_param"] <= 8
    # scaling one tensor does not change its codes: each tensor has its own scale
    with torch.no_grad():
        model[0].weight.mul_(1000.0)
    assert binary_ones(model)["boo"] == expected


def test_boo_tracks_weight_sign_and_magnitude():
    """Small negative weights cost many ones (0xFF...), zeros cost none: the bit-cost signal."""
    peak = torch.tensor([1.0])
    negative = binary_ones_of([torch.cat([peak, torch.full((99,), -0.004)])])
    zeros = binary_ones_of([torch.cat([peak, torch.zeros(99)])])
    assert zeros["boo"] == 7  # only the 127 code
    assert negative["boo"] == 7 + 99 * 8  # -0.004 * 127 = -0.508 -> code -1 = 0xFF
    assert negative["boo_per_param"] > zeros["boo_per_param"]
