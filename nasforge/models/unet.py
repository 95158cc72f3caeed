"""2-D U-Nets of the SegQNAS space, and the two hand-designed baselines trained beside them.

Blocks follow the SegQNAS code (convs without bias, BN, ReLU): VGG = 2 x conv-BN-ReLU; ResNet =
conv-BN-ReLU-conv-BN + identity / 1x1 projection, ReLU; Dense = two BN-ReLU-1x1-BN-ReLU-kxk units
with concatenation (more channels out); Inception = 1x1 | avgpool+1x1 | 1x1-kxk-1xk | 1x1-kxk-kx1
branches, concatenated, BN-ReLU; MobileNet = depthwise-separable; EfficientNet = MBConv (expand 4,
depthwise, squeeze-excitation, project); self-attention = multi-head attention over positions with
keys / values pooled 2x2 (memory), added residually.

Network: the encoder applies the cells in order (a downscaling cell ends in a 3x3 stride-2 conv that
doubles the filters); the decoder applies the same cells reversed, each downscaling cell mirrored
as the block then a stride-2 transposed conv that halves them; after each upscaling the encoder map
of that resolution is concatenated and fused by a 1x1 conv-BN-ReLU before the next cell (U-Net
skips). The head is a 1x1 conv to the class logits (SegQNAS used a kernel equal to the number of
classes, a quirk we do not copy). :func:`check_feasible` rejects, before any layer is built, a
network whose downscalings the input size cannot hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..architecture import Architecture
from ..errors import ArchitectureError, ConfigError
from ..spaces.unet import Cell, check_feasible, parse_unet


def conv_bn_relu(c_in: int, c_out: int, kernel: int | tuple[int, int], stride: int = 1) -> nn.Sequential:
    k = (kernel, kernel) if isinstance(kernel, int) else kernel
    pad = (k[0] // 2, k[1] // 2)
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, k, stride=stride, padding=pad, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()
    )


class VGGBlock(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__(conv_bn_relu(c_in, c_out, kernel), conv_bn_relu(c_out, c_out, kernel))


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_bn_relu(c_in, c_out, kernel),
            nn.Conv2d(c_out, c_out, kernel, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.shortcut = nn.Identity() if c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + self.shortcut(x))


class DenseBlock(nn.Module):
    """Two bottleneck units with growth ``c_out // 2``: ``c_in + c_out`` channels out."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__()
        growth = max(1, c_out // 2)
        self.units = nn.ModuleList()
        channels = c_in
        for _ in range(2):
            self.units.append(nn.Sequential(
                nn.BatchNorm2d(channels), nn.ReLU(), nn.Conv2d(channels, 4 * growth, 1, bias=False),
                nn.BatchNorm2d(4 * growth), nn.ReLU(),
                nn.Conv2d(4 * growth, growth, kernel, padding=kernel // 2, bias=False),
            ))
            channels += growth
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for unit in self.units:
            x = torch.cat([x, unit(x)], dim=1)
        return x


class InceptionBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__()
        b = max(1, c_out // 4)

        def conv(ci: int, co: int, k: Any) -> nn.Conv2d:
            k = (k, k) if isinstance(k, int) else k
            return nn.Conv2d(ci, co, k, padding=(k[0] // 2, k[1] // 2), bias=False)

        self.branches = nn.ModuleList([
            conv(c_in, b, 1),
            nn.Sequential(nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False), conv(c_in, b, 1)),
            nn.Sequential(conv(c_in, b, 1), conv(b, b, kernel), conv(b, b, (1, kernel))),
            nn.Sequential(conv(c_in, b, 1), conv(b, b, kernel), conv(b, b, (kernel, 1))),
        ])
        self.post = nn.Sequential(nn.BatchNorm2d(4 * b), nn.ReLU())
        self.out_channels = 4 * b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.post(torch.cat([branch(x) for branch in self.branches], dim=1))


class MobileBlock(nn.Sequential):
    """Depthwise-separable conv (MobileNet v1)."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_in, kernel, padding=kernel // 2, groups=c_in, bias=False),
            nn.BatchNorm2d(c_in), nn.ReLU(), conv_bn_relu(c_in, c_out, 1),
        )


class EffNetBlock(nn.Module):
    """MBConv: 1x1 expand (x4) - depthwise - squeeze-excitation - 1x1 project (+ identity)."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__()
        mid = 4 * c_in
        squeezed = max(1, c_in // 4)
        self.expand = nn.Sequential(nn.Conv2d(c_in, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.SiLU())
        self.depthwise = nn.Sequential(
            nn.Conv2d(mid, mid, kernel, padding=kernel // 2, groups=mid, bias=False), nn.BatchNorm2d(mid), nn.SiLU()
        )
        self.se = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(mid, squeezed, 1), nn.SiLU(), nn.Conv2d(squeezed, mid, 1), nn.Sigmoid()
        )
        self.project = nn.Sequential(nn.Conv2d(mid, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
        self.residual = c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.depthwise(self.expand(x))
        h = self.project(h * self.se(h))
        return h + x if self.residual else h


class AttentionBlock(nn.Module):
    """Multi-head self-attention over pixels; keys / values pooled 2x2 to bound memory."""

    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__()
        self.inp = nn.Identity() if c_in == c_out else conv_bn_relu(c_in, c_out, 1)
        self.heads = 2 if c_out % 2 == 0 else 1
        self.q = nn.Conv2d(c_out, c_out, 1, bias=False)
        self.kv = nn.Conv2d(c_out, 2 * c_out, 1, bias=False)
        self.out = nn.Sequential(nn.Conv2d(c_out, c_out, 1, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.inp(x)
        b, c, h, w = x.shape
        q = self.q(x).reshape(b, self.heads, c // self.heads, h * w).transpose(2, 3)
        pooled = F.max_pool2d(x, 2) if min(h, w) >= 2 else x
        k, v = self.kv(pooled).flatten(2).chunk(2, dim=1)
        k = k.reshape(b, self.heads, c // self.heads, -1).transpose(2, 3)
        v = v.reshape(b, self.heads, c // self.heads, -1).transpose(2, 3)
        a = F.scaled_dot_product_attention(q, k, v).transpose(2, 3).reshape(b, c, h, w)
        return F.relu(x + self.out(a))


BLOCK_TYPES = {"vgg": VGGBlock, "res": ResBlock, "dense": DenseBlock, "inception": InceptionBlock,
               "mobile": MobileBlock, "effnet": EffNetBlock, "attn": AttentionBlock}


def make_block(cell: Cell, c_in: int, c_out: int) -> tuple[nn.Module, int]:
    """(block, its output channels): Dense and Inception decide their own width."""
    if cell.block == "identity":
        return nn.Identity(), c_in
    block = BLOCK_TYPES[cell.block](c_in, c_out, cell.kernel)
    return block, int(getattr(block, "out_channels", c_out))


class SegCell(nn.Module):
    """[fuse a skip: concat + 1x1] -> block -> [stride-2 conv | stride-2 transposed conv]."""

    def __init__(self, cell: Cell, c_in: int, filters: int, skip: int, scale: str | None) -> None:
        super().__init__()
        self.fuse = conv_bn_relu(c_in + skip, filters, 1) if skip else None
        channels = filters if skip else c_in
        self.block, channels = make_block(cell, channels, filters)
        self.block_channels = channels
        if scale == "down":
            self.scale: nn.Module = conv_bn_relu(channels, 2 * filters, 3, stride=2)
            channels = 2 * filters
        elif scale == "up":
            self.scale = nn.Sequential(
                nn.ConvTranspose2d(channels, filters // 2 or 1, 3, stride=2, padding=1, output_padding=1, bias=False),
                nn.BatchNorm2d(filters // 2 or 1), nn.ReLU(),
            )
            channels = filters // 2 or 1
        else:
            self.scale = nn.Identity()
        self.out_channels = channels

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(cell output, block output): the encoder keeps the latter as the skip of its level."""
        if self.fuse is not None:
            x = self.fuse(torch.cat([x, skip], dim=1))
        h = self.block(x)
        return self.scale(h), h


class SegQNASNet(nn.Module):
    """The U-Net of a list of encoder cells (see the module docstring)."""

    def __init__(self, cells: Sequence[Cell], input_shape: Sequence[int], num_classes: int, filters: int = 16) -> None:
        super().__init__()
        if len(input_shape) != 3:
            raise ConfigError(f"unet networks are 2-D: input_shape must be (channels, height, width), got {tuple(input_shape)!r}")
        check_feasible(cells, input_shape[1:])
        self.cells = tuple(cells)
        channels, f = int(input_shape[0]), int(filters)
        self.encoder = nn.ModuleList()
        skip_channels: list[int] = []
        for cell in self.cells:
            layer = SegCell(cell, channels, f, 0, "down" if cell.downscaling else None)
            self.encoder.append(layer)
            if cell.downscaling:
                skip_channels.append(layer.block_channels)
                f *= 2
            channels = layer.out_channels
        self.decoder = nn.ModuleList()
        pending = 0  # channels of the skip the next decoder cell must fuse
        for cell in reversed(self.cells):
            layer = SegCell(cell, channels, f, pending, "up" if cell.downscaling else None)
            self.decoder.append(layer)
            pending = 0
            if cell.downscaling:
                f //= 2
                pending = skip_channels.pop()
            channels = layer.out_channels
        self.fuse = conv_bn_relu(channels + pending, f, 1) if pending else None
        self.head = nn.Conv2d(f if pending else channels, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips: list[torch.Tensor] = []
        for cell, layer in zip(self.cells, self.encoder):
            x, h = layer(x)
            if cell.downscaling:
                skips.append(h)
        skip = None
        for cell, layer in zip(reversed(self.cells), self.decoder):
            x, _ = layer(x, skip)
            skip = skips.pop() if cell.downscaling else None
        if self.fuse is not None:
            x = self.fuse(torch.cat([x, skip], dim=1))
        return self.head(x)


def build_unet(arch: Architecture, input_shape: Sequence[int], num_classes: int, filters: int = 16) -> SegQNASNet:
    """The network of a ``unet`` architecture (the string is self-describing)."""
    if isinstance(filters, bool) or not isinstance(filters, int) or filters < 2:
        raise ConfigError(f"model option filters of the unet builder must be an integer >= 2, got {filters!r}")
    return SegQNASNet(parse_unet(arch.string), input_shape, num_classes, filters)


# --- baselines: selectable by name as the segmentation evaluator's model_factory ------------------


def monai_unet(space: Any, arch: Any, input_shape: Sequence[int], num_classes: int,
               channels: Sequence[int] = (16, 32, 64, 128, 256), num_res_units: int = 2) -> nn.Module:
    """MONAI's ``UNet`` as in the SegQNAS notes: channels 16..256, strides 2, 2 residual units."""
    from monai.networks.nets import UNet

    _check_baseline_size(input_shape, len(channels) - 1, "monai_unet")
    return UNet(spatial_dims=2, in_channels=int(input_shape[0]), out_channels=num_classes,
                channels=tuple(channels), strides=(2,) * (len(channels) - 1), num_res_units=num_res_units)


class ResUNet(nn.Module):
    """Hand-designed residual U-Net: 4 levels of ResNet blocks (16-32-64-128), max pooling down,
    transposed convs up, concatenated skips -- the textbook design SegQNAS compares with."""

    def __init__(self, in_channels: int, num_classes: int, widths: Sequence[int] = (16, 32, 64, 128)) -> None:
        super().__init__()
        self.down = nn.ModuleList()
        c = in_channels
        for w in widths:
            self.down.append(ResBlock(c, w, 3))
            c = w
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for w in reversed(widths[:-1]):
            self.up.append(nn.ConvTranspose2d(c, w, 2, stride=2))
            self.merge.append(ResBlock(2 * w, w, 3))
            c = w
        self.head = nn.Conv2d(c, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        skips.pop()
        for up, merge in zip(self.up, self.merge):
            x = merge(torch.cat([up(x), skips.pop()], dim=1))
        return self.head(x)


def resunet(space: Any, arch: Any, input_shape: Sequence[int], num_classes: int,
            widths: Sequence[int] = (16, 32, 64, 128)) -> nn.Module:
    _check_baseline_size(input_shape, len(widths) - 1, "resunet")
    return ResUNet(int(input_shape[0]), num_classes, tuple(widths))


#: baseline name -> factory, for ``model_factory: monai_unet`` in a config
BASELINES = {"monai_unet": "nasforge.models.unet:monai_unet", "resunet": "nasforge.models.unet:resunet"}


def _check_baseline_size(input_shape: Sequence[int], downs: int, name: str) -> None:
    # the bottom must keep >= 2x2 pixels: normalisation layers need more than one value
    if len(input_shape) != 3 or any(int(s) % (2**downs) or int(s) < 2 ** (downs + 1) for s in input_shape[1:]):
        raise ArchitectureError(
            f"{name} downscales {downs} times: input sides must be multiples of {2**downs} and at "
            f"least {2 ** (downs + 1)}, got {'x'.join(map(str, input_shape[1:]))}"
        )
