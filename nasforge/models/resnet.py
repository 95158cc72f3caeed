"""CIFAR-style ResNets and Wide-ResNets, 1-D or 2-D, from a reduction :class:`Plan`.

Post-activation basic blocks (He et al. 2016, conv-BN-ReLU-conv-BN + shortcut, ReLU) for ResNets,
pre-activation blocks (BN-ReLU-conv-BN-ReLU-conv + shortcut) for Wide-ResNets. A block's first conv
has the plan's *inner* width, its second the stage width; the shortcut is the identity unless the
stride or the width changes, then a 1x1 conv (+ BN in the post-activation form). The modules are
plain ``nn.Conv``/``nn.BatchNorm``/``nn.Linear``, so torch-pruning can remove channels physically
and ``torch.export`` writes the network as a plain PyTorch program.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ..spaces.reduction import Plan

_LAYERS = {
    1: (nn.Conv1d, nn.BatchNorm1d, nn.AdaptiveAvgPool1d),
    2: (nn.Conv2d, nn.BatchNorm2d, nn.AdaptiveAvgPool2d),
}


class BasicBlock(nn.Module):
    """Two 3-wide convs with a residual connection; ``preact`` picks the WRN ordering."""

    def __init__(self, dims: int, c_in: int, inner: int, c_out: int, stride: int, preact: bool) -> None:
        super().__init__()
        conv, bn, _ = _LAYERS[dims]
        self.preact = preact
        self.bn0 = bn(c_in) if preact else None
        self.conv1 = conv(c_in, inner, 3, stride=stride, padding=1, bias=False)
        self.bn1 = bn(inner)
        self.conv2 = conv(inner, c_out, 3, padding=1, bias=False)
        self.bn2 = None if preact else bn(c_out)
        self.relu = nn.ReLU()
        if stride != 1 or c_in != c_out:
            layers: list[nn.Module] = [conv(c_in, c_out, 1, stride=stride, bias=False)]
            if not preact:
                layers.append(bn(c_out))
            self.shortcut: nn.Module = nn.Sequential(*layers)
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.preact:
            out = self.relu(self.bn0(x))
            # WRN: a projecting shortcut reads the activated input, an identity the raw one
            skip = x if isinstance(self.shortcut, nn.Identity) else self.shortcut(out)
            out = self.conv1(out)
            out = self.conv2(self.relu(self.bn1(out)))
            return out + skip
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """Stem conv, the plan's stages of basic blocks, global average pooling and a linear head."""

    def __init__(self, plan: Plan, input_shape: Sequence[int], num_classes: int) -> None:
        super().__init__()
        dims = len(input_shape) - 1
        conv, bn, pool = _LAYERS[dims]
        stem: list[nn.Module] = [conv(int(input_shape[0]), plan.stem, 3, padding=1, bias=False)]
        if not plan.preact:
            stem += [bn(plan.stem), nn.ReLU()]
        self.stem = nn.Sequential(*stem)
        c_in, stages = plan.stem, []
        for s, depth in enumerate(plan.depths):
            blocks = []
            for b in range(depth):
                stride = plan.strides[s] if b == 0 else 1
                blocks.append(BasicBlock(dims, c_in, plan.inner[s], plan.widths[s], stride, plan.preact))
                c_in = plan.widths[s]
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.final = nn.Sequential(bn(c_in), nn.ReLU()) if plan.preact else nn.Identity()
        self.pool = pool(1)
        self.classifier = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.final(self.stages(self.stem(x)))
        return self.classifier(torch.flatten(self.pool(out), 1))
