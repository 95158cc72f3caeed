"""Quantised networks of the chain_precision space, their geometry and their hardware cost.

Each convolution position is ``ActQuant(a bits) -> conv with fake-quantised weight (w bits) -> BN
-> ReLU``; pooling as in the chain space; the classifier quantises its input and weight at the
space's ``head_bits``. In eval mode a layer's weight is computed as ``int codes x one scale``, the
same arithmetic the integer export uses, so the export reproduces the evaluated network exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

from ..architecture import Architecture
from ..errors import ConfigError
from ..metrics.cost import fixed_layer_cost, summarize
from ..oneshot.quant import FLOAT_BITS, ActQuant, quantize_weight, weight_codes
from ..spaces.chain import parse_function, pool_plan
from ..spaces.chain_precision import parse_precision_chain

_LAYERS = {
    1: (nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d, nn.AvgPool1d, nn.AdaptiveAvgPool1d),
    2: (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d),
}
_CONV = {1: nn.functional.conv1d, 2: nn.functional.conv2d}


@dataclass(frozen=True)
class ConvGeometry:
    """Shape facts of one convolution for cost: per example, batch 1."""

    c_in: int
    c_out: int
    kernel: int
    spatial_out: int  # output positions (H*W or L)
    dims: int

    @property
    def fan_in(self) -> int:
        return self.c_in * self.kernel**self.dims

    @property
    def params(self) -> int:
        return self.c_out * self.fan_in

    @property
    def macs(self) -> int:
        return self.params * self.spatial_out

    @property
    def inputs(self) -> int:
        return self.c_in * self.spatial_out  # 'same' padding: input positions = output positions


def position_shapes(layers: Sequence[Sequence[str]], input_shape: Sequence[int]) -> list[tuple[int, int]]:
    """``(channels in, spatial positions)`` entering each position; pooling follows ``pool_plan``.

    Every candidate of a position keeps or sets the same channel count, so the shapes do not depend
    on which candidate is chosen.
    """
    channels, sizes = int(input_shape[0]), [int(s) for s in input_shape[1:]]
    out = []
    for choices in layers:
        out.append((channels, math.prod(sizes)))
        first = parse_function(choices[0])
        if first.kind in ("max_pool", "avg_pool"):
            if pool_plan([choices[0]], sizes)[0]:
                sizes = [s // 2 for s in sizes]
        else:
            filters = {parse_function(n).filters for n in choices if parse_function(n).kind == "conv"}
            channels = filters.pop() if filters else channels
    out.append((channels, math.prod(sizes)))
    return out


def head_geometry(channels: int, num_classes: int) -> ConvGeometry:
    return ConvGeometry(channels, num_classes, 1, 1, 1)


class QuantConvBlock(nn.Module):
    """Activation quantiser -> convolution with a quantised weight -> BN -> ReLU."""

    def __init__(self, dims: int, c_in: int, c_out: int, kernel: int, w_bits: int, a_bits: int,
                 signed_input: bool) -> None:
        super().__init__()
        conv, bn = _LAYERS[dims][0], _LAYERS[dims][1]
        self.dims, self.w_bits, self.a_bits, self.padding = dims, w_bits, a_bits, kernel // 2
        self.act = ActQuant(signed_input)
        self.conv = conv(c_in, c_out, kernel, padding=kernel // 2, bias=False)
        self.bn = bn(c_out)
        self.relu = nn.ReLU()

    def quantized_weight(self) -> torch.Tensor:
        if self.w_bits >= FLOAT_BITS:
            return self.conv.weight
        if self.training:
            return quantize_weight(self.conv.weight, self.w_bits)[0]
        codes, scale = weight_codes(self.conv.weight, self.w_bits)
        return codes.float() * scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(x, self.a_bits)
        x = _CONV[self.dims](x, self.quantized_weight(), padding=self.padding)
        return self.relu(self.bn(x))


class QuantHead(nn.Module):
    """Global average pooling -> quantised input -> linear with a quantised weight (float bias)."""

    def __init__(self, dims: int, channels: int, num_classes: int, bits: int) -> None:
        super().__init__()
        self.bits = bits
        self.pool = _LAYERS[dims][4](1)
        self.act = ActQuant(signed=False)
        self.linear = nn.Linear(channels, num_classes)

    def quantized_weight(self) -> torch.Tensor:
        if self.bits >= FLOAT_BITS:
            return self.linear.weight
        if self.training:
            return quantize_weight(self.linear.weight, self.bits)[0]
        codes, scale = weight_codes(self.linear.weight, self.bits)
        return codes.float() * scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(torch.flatten(self.pool(x), 1), self.bits)
        return nn.functional.linear(x, self.quantized_weight(), self.linear.bias)


class QuantChainNetwork(nn.Module):
    """A derived mixed-precision chain; ``hardware_cost()`` reports its BitOps, memory, energy, BOO."""

    def __init__(self, layers: Sequence[tuple[str, int | None, int | None]], input_shape: Sequence[int],
                 num_classes: int, head_bits: int = 8) -> None:
        super().__init__()
        if len(input_shape) not in (2, 3):
            raise ConfigError(
                f"chain_precision networks need (channels, length) or (channels, height, width) inputs, got {tuple(input_shape)!r}"
            )
        self.dims = dims = len(input_shape) - 1
        self.layer_spec = tuple(layers)
        shapes = position_shapes([[name] for name, _, _ in layers], input_shape)
        blocks: list[nn.Module] = []
        self.geometry: list[tuple[ConvGeometry, int, int]] = []
        seen_relu = False
        plan = iter(pool_plan([name for name, _, _ in layers], input_shape[1:]))
        for (name, wb, ab), (c_in, spatial) in zip(layers, shapes):
            fn = parse_function(name)
            if fn.kind == "conv":
                blocks.append(QuantConvBlock(dims, c_in, fn.filters, fn.kernel, wb, ab, not seen_relu))
                self.geometry.append((ConvGeometry(c_in, fn.filters, fn.kernel, spatial, dims), wb, ab))
                seen_relu = True
            elif fn.kind in ("max_pool", "avg_pool") and next(plan):
                pool = _LAYERS[dims][2] if fn.kind == "max_pool" else _LAYERS[dims][3]
                blocks.append(pool(2, stride=2))
            else:
                blocks.append(nn.Identity())  # no_op, or a pool skipped on a too-small input
        self.features = nn.Sequential(*blocks)
        channels = shapes[-1][0]
        self.head = QuantHead(dims, channels, num_classes, head_bits)
        self.head_geometry = head_geometry(channels, num_classes)
        self.head_bits = head_bits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def hardware_cost(self) -> dict[str, float]:
        """``bitops_m``, ``weight_kb`` (weights at their bit-widths + 32-bit scales), ``energy_nj``
        and the binary-ones count of the real integer weight codes (``boo``, ``boo_per_param``)."""
        costs = [fixed_layer_cost(g.macs, g.params, g.inputs, g.fan_in, wb, ab) for g, wb, ab in self.geometry]
        g = self.head_geometry
        costs.append(fixed_layer_cost(g.macs, g.params, g.inputs, g.fan_in, self.head_bits, self.head_bits))
        quantised = sum(1 for _, wb, _ in self.geometry if wb < FLOAT_BITS) + (self.head_bits < FLOAT_BITS)
        out = summarize(costs, scale_bits=32 * quantised)
        out.update(weight_ones(self.weight_tensors()))
        return out

    def weight_tensors(self) -> list[tuple[torch.Tensor, int]]:
        blocks = [m for m in self.features if isinstance(m, QuantConvBlock)]
        return [(b.conv.weight, b.w_bits) for b in blocks] + [(self.head.linear.weight, self.head_bits)]


def weight_ones(tensors: Sequence[tuple[torch.Tensor, int]]) -> dict[str, float]:
    """Binary ones of the stored weights: b-bit two's-complement codes, IEEE-754 bits for float."""
    ones, count = 0, 0
    for w, bits in tensors:
        if bits >= FLOAT_BITS:
            pattern = w.detach().float().contiguous().view(torch.int32).to(torch.int64) & 0xFFFFFFFF
            width = 32
        else:
            pattern = weight_codes(w, bits)[0].to(torch.int64) & ((1 << bits) - 1)
            width = bits
        ones += sum(int(((pattern >> k) & 1).sum()) for k in range(width))
        count += w.numel()
    return {"boo": float(ones), "boo_per_param": ones / count if count else 0.0}


def build_chain_precision(arch: Architecture, input_shape: Sequence[int], num_classes: int,
                          head_bits: int = 8) -> QuantChainNetwork:
    """The quantised network of a chain_precision architecture (its string is self-describing)."""
    return QuantChainNetwork(parse_precision_chain(arch.string), input_shape, num_classes, head_bits)
