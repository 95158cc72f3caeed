"""Torch networks for the ENAS-S block space, for 2-D images (C, H, W) and 1-D signals (C, L).

Blocks follow the ENAS-S block library: MobileNetV2 inverted residual (expansion 2, ReLU6),
ResNet basic block, a two-layer DenseNet bottleneck block (growth 12) closed by a 1x1 transition
to the block's width, identity; reductions are these blocks with stride 2, a factorised reduce
(two offset stride-2 1x1 convs) or 2x2 pooling + BN. The stem is a 3x3 conv with 16 channels.
The classifier is global average pooling + linear (the paper flattened an 8x8 CIFAR map; global
pooling works for any input size).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..architecture import Architecture
from ..errors import ConfigError

STEM = 16
GROWTH = 12


def _layers(dims: int):
    if dims == 1:
        return nn.Conv1d, nn.BatchNorm1d, nn.AvgPool1d, nn.MaxPool1d, nn.AdaptiveAvgPool1d
    return nn.Conv2d, nn.BatchNorm2d, nn.AvgPool2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d


class InvertedResidual(nn.Module):
    def __init__(self, dims: int, c_in: int, c_out: int, stride: int, expand: int = 2) -> None:
        super().__init__()
        conv, bn = _layers(dims)[:2]
        hidden = c_in * expand
        self.body = nn.Sequential(
            conv(c_in, hidden, 1, bias=False), bn(hidden), nn.ReLU6(),
            conv(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), bn(hidden), nn.ReLU6(),
            conv(hidden, c_out, 1, bias=False), bn(c_out))
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.residual else out


class BasicBlock(nn.Module):
    def __init__(self, dims: int, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        conv, bn = _layers(dims)[:2]
        self.body = nn.Sequential(conv(c_in, c_out, 3, stride, 1, bias=False), bn(c_out), nn.ReLU(),
                                  conv(c_out, c_out, 3, 1, 1, bias=False), bn(c_out))
        self.shortcut = nn.Identity() if stride == 1 and c_in == c_out else nn.Sequential(
            conv(c_in, c_out, 1, stride, bias=False), bn(c_out))
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class DenseBlock(nn.Module):
    def __init__(self, dims: int, c_in: int, c_out: int, stride: int, layers: int = 2) -> None:
        super().__init__()
        conv, bn, avg = _layers(dims)[:3]
        self.layers = nn.ModuleList()
        c = c_in
        for _ in range(layers):
            self.layers.append(nn.Sequential(
                bn(c), nn.ReLU(), conv(c, 4 * GROWTH, 1, bias=False),
                bn(4 * GROWTH), nn.ReLU(), conv(4 * GROWTH, GROWTH, 3, 1, 1, bias=False)))
            c += GROWTH
        transition: list[nn.Module] = [bn(c), nn.ReLU(), conv(c, c_out, 1, bias=False)]
        if stride == 2:
            transition.append(avg(2))
        self.transition = nn.Sequential(*transition)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = torch.cat([x, layer(x)], dim=1)
        return self.transition(x)


class FactorizedReduce(nn.Module):
    def __init__(self, dims: int, c_in: int, c_out: int) -> None:
        super().__init__()
        conv, bn = _layers(dims)[:2]
        self.dims = dims
        self.a = conv(c_in, c_out // 2, 1, 2, bias=False)
        self.b = conv(c_in, c_out - c_out // 2, 1, 2, bias=False)
        self.bn = bn(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shifted = x[..., 1:] if self.dims == 1 else x[..., 1:, 1:]
        a, b = self.a(x), self.b(shifted)
        if b.shape[2:] != a.shape[2:]:  # odd sizes: pad the shifted branch back
            pad = [0, a.shape[-1] - b.shape[-1]] + ([] if self.dims == 1 else [0, a.shape[-2] - b.shape[-2]])
            b = nn.functional.pad(b, pad)
        return self.bn(torch.relu(torch.cat([a, b], dim=1)))


def make_block(kind: str, dims: int, c_in: int, width: int, stride: int) -> tuple[nn.Module, int]:
    """(module, output channels) for a block or reduction token's kind."""
    _, bn, avg, mx, _ = _layers(dims)
    if kind == "mb":
        return InvertedResidual(dims, c_in, width, stride), width
    if kind == "res":
        return BasicBlock(dims, c_in, width, stride), width
    if kind == "dense":
        return DenseBlock(dims, c_in, width, stride), width
    if kind == "fr":
        return FactorizedReduce(dims, c_in, width), width
    if kind in ("avg", "max"):
        return nn.Sequential((avg if kind == "avg" else mx)(2), bn(c_in)), c_in
    return nn.Identity(), c_in  # id


class ENASSNetwork(nn.Module):
    def __init__(self, sections: Sequence[Sequence[str]], input_shape: Sequence[int], num_classes: int) -> None:
        super().__init__()
        if len(input_shape) not in (2, 3):
            raise ConfigError(f"enas_s networks need (C, L) or (C, H, W) inputs, got {tuple(input_shape)!r}")
        dims = len(input_shape) - 1
        conv, bn, *_rest, pool = _layers(dims)
        self.stem = nn.Sequential(conv(int(input_shape[0]), STEM, 3, 1, 1, bias=False), bn(STEM), nn.ReLU())
        c, blocks = STEM, []
        for s, section in enumerate(sections):
            for token in section:
                kind, _, width = token.partition("_")
                block, c = make_block(kind, dims, c, int(width) if width else c, 2 if s % 2 else 1)
                blocks.append(block)
        self.features = nn.Sequential(*blocks)
        self.pool = pool(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(self.stem(x))), 1))


def build_enas_s(arch: Architecture, input_shape: Sequence[int], num_classes: int) -> ENASSNetwork:
    """The network of an ENAS-S architecture (its string is self-describing)."""
    sections = [section.split(",") for section in arch.string.split(">")]
    return ENASSNetwork(sections, input_shape, num_classes)
