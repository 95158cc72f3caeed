"""The NAS-Bench-201 network: the macro skeleton every NB201 cell was trained in.

Stem (3x3 conv + BN), three stages of ``N`` cells with ``C``, ``2C``, ``4C`` channels, a residual
reduction block (ResNet basic block, stride 2, avg-pool + 1x1 conv shortcut) between stages, then
BN-ReLU, global average pooling and a linear classifier -- as in Dong & Yang, "NAS-Bench-201"
(ICLR 2020). Layer choices (bias-free convs, affine BN, ReLU-Conv-BN order, pooling without padded
zeros) follow the benchmark's network so parameter counts equal the published table; the tests
check that against the shared NB201 data.

Two deviations that never change a 32x32 / 16x16 CIFAR or ImageNet16 network: the stem takes any
channel count, and the shortcut's 2x2 average pool rounds up (``ceil_mode``) so odd spatial sizes
such as 7x7 still match the stride-2 conv branch.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..architecture import Architecture
from ..errors import ConfigError
from ..spaces.nb201 import EDGES, NB201Space


def relu_conv_bn(c_in: int, c_out: int, kernel: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ReLU(inplace=False),
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
    )


class Zero(nn.Module):
    """The ``none`` op: cuts the edge (kept as a module so the cell mirrors its genotype)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int) -> nn.Module:
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return relu_conv_bn(channels, channels, 1, 1)
    if name == "nor_conv_3x3":
        return relu_conv_bn(channels, channels, 3, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ConfigError(f"unknown nb201 op {name!r}")


class Cell(nn.Module):
    """Four nodes; node j is the sum of one op applied to every earlier node (the NB201 DAG)."""

    def __init__(self, ops: Sequence[str], channels: int) -> None:
        super().__init__()
        self.edges = EDGES
        self.ops = nn.ModuleList(make_op(op, channels) for op in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for target in (1, 2, 3):
            total = None
            for (dst, src), op in zip(self.edges, self.ops):
                if dst == target:
                    out = op(nodes[src])
                    total = out if total is None else total + out
            nodes.append(total)
        return nodes[-1]


class ResidualReduction(nn.Module):
    """ResNet basic block with stride 2: the fixed block between NB201 stages."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = relu_conv_bn(c_in, c_out, 3, 2)
        self.conv_b = relu_conv_bn(c_out, c_out, 3, 1)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(2, stride=2, ceil_mode=True),
            nn.Conv2d(c_in, c_out, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    def __init__(
        self, ops: Sequence[str], in_channels: int, num_classes: int, C: int = 16, N: int = 5
    ) -> None:
        super().__init__()
        self.ops = tuple(ops)
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, C, 3, padding=1, bias=False),
            nn.BatchNorm2d(C),
        ]
        channels = C
        for stage, width in enumerate((C, 2 * C, 4 * C)):
            if stage > 0:
                layers.append(ResidualReduction(channels, width))
                channels = width
            layers.extend(Cell(ops, channels) for _ in range(N))
        layers += [nn.BatchNorm2d(channels), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def build_nb201(
    arch: Architecture, input_shape: Sequence[int], num_classes: int, C: int = 16, N: int = 5
) -> NB201Network:
    """The NB201 network of ``arch`` for ``(channels, height, width)`` inputs."""
    if len(input_shape) != 3:
        raise ConfigError(
            "nb201 networks need image inputs (channels, height, width), "
            f"got input_shape {tuple(input_shape)!r}"
        )
    for name, value in (("C", C), ("N", N)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(
                f"parameter {name} of the nb201 builder must be an integer >= 1, got {value!r}"
            )
    space = NB201Space()
    ops = space.ops(space.from_string(arch.string))
    return NB201Network(ops, input_shape[0], num_classes, C=C, N=N)
