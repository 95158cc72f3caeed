"""Torch networks for the Q-NAS chain space, for 2-D images and 1-D signals.

``input_shape`` picks the dimensionality: ``(C, H, W)`` builds Conv2d / BatchNorm2d / MaxPool2d
layers, ``(C, L)`` their 1-D counterparts. Convolutions use 'same' padding, so only pooling nodes
change the spatial size; a pooling node is skipped when a spatial side is already below 2
(:func:`nasforge.spaces.chain.pool_plan`, shared with the space's ``skipped_reductions``).
The classifier is global average pooling + Linear, as in Q-NAS.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..architecture import Architecture
from ..errors import ConfigError
from ..spaces.chain import ChainFunction, parse_chain, parse_function, pool_plan

_LAYERS = {
    1: (nn.Conv1d, nn.BatchNorm1d, nn.MaxPool1d, nn.AvgPool1d, nn.AdaptiveAvgPool1d),
    2: (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d),
}


def conv_bn(dims: int, c_in: int, c_out: int, kernel: int) -> list[nn.Module]:
    conv, bn = _LAYERS[dims][0], _LAYERS[dims][1]
    return [conv(c_in, c_out, kernel, padding=kernel // 2, bias=False), bn(c_out)]


class ConvBlock(nn.Sequential):
    """conv (k, 'same') -> BN -> ReLU."""

    def __init__(self, dims: int, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__(*conv_bn(dims, c_in, c_out, kernel), nn.ReLU())


class ResidualBlock(nn.Module):
    """Basic residual block: two 3-wide conv-BN, shortcut added before the final ReLU.

    The shortcut is the identity unless ``projection`` is set or the channel count changes
    (an identity cannot change it); then it is a 1-wide conv + BN.
    """

    def __init__(self, dims: int, c_in: int, c_out: int, projection: bool) -> None:
        super().__init__()
        self.body = nn.Sequential(
            *conv_bn(dims, c_in, c_out, 3), nn.ReLU(), *conv_bn(dims, c_out, c_out, 3)
        )
        use_projection = projection or c_in != c_out
        self.shortcut = (
            nn.Sequential(*conv_bn(dims, c_in, c_out, 1)) if use_projection else nn.Identity()
        )
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class ChainNetwork(nn.Module):
    """The active chain as ``features`` followed by global average pooling and a linear head."""

    def __init__(
        self, functions: Sequence[str], input_shape: Sequence[int], num_classes: int
    ) -> None:
        super().__init__()
        if len(input_shape) not in (2, 3):
            raise ConfigError(
                "chain networks need (channels, length) or (channels, height, width) inputs, "
                f"got {tuple(input_shape)!r}"
            )
        dims = len(input_shape) - 1
        self.functions = tuple(functions)
        plan = iter(pool_plan(self.functions, input_shape[1:]))
        channels = int(input_shape[0])
        layers: list[nn.Module] = []
        for name in self.functions:
            fn: ChainFunction = parse_function(name)
            if fn.kind == "conv":
                layers.append(ConvBlock(dims, channels, fn.filters, fn.kernel))
                channels = fn.filters
            elif fn.kind in ("res", "res_proj"):
                projection = fn.kind == "res_proj"
                layers.append(ResidualBlock(dims, channels, fn.filters, projection))
                channels = fn.filters
            elif fn.kind in ("max_pool", "avg_pool"):
                if next(plan):
                    pool = _LAYERS[dims][2] if fn.kind == "max_pool" else _LAYERS[dims][3]
                    layers.append(pool(2, stride=2))
            # no_op: nothing
        self.features = nn.Sequential(*layers)
        self.pool = _LAYERS[dims][4](1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def build_chain(arch: Architecture, input_shape: Sequence[int], num_classes: int) -> ChainNetwork:
    """The network of a chain architecture (its string is self-describing: no space needed)."""
    functions, _ = parse_chain(arch.string)
    return ChainNetwork(functions, input_shape, num_classes)
