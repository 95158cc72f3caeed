"""The fixed input mask a feature ablation puts in front of the model (torch only)."""

from __future__ import annotations

import torch
from torch import nn


class InputMask(nn.Module):
    """Multiply each example by a fixed 0/1 mask of its shape.

    A buffer, not a parameter: it is saved and exported with the weights but never trained, and
    does not count towards ``params``.
    """

    def __init__(self, keep: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("keep", keep)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.keep
