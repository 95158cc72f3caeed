"""Mixed precision and memory layout for training: ``amp`` and ``channels_last``.

``amp`` runs the forward pass under ``torch.autocast``: float16 with a gradient scaler on CUDA
(where tensor cores make it pay), bfloat16 on the CPU (no scaler needed: bfloat16 keeps float32's
exponent range). ``channels_last`` stores 4-D activations NHWC, which cuDNN's convolutions prefer;
it changes no result beyond float rounding. Both are plain options of the trainer, resolved against
the device the trial runs on.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class Precision:
    """How one trial computes: autocast dtype (None: float32) and the gradient scaler (CUDA fp16)."""

    device_type: str
    dtype: torch.dtype | None = None
    scaler: Any = None
    channels_last: bool = False

    @classmethod
    def for_device(cls, device: str, amp: bool, channels_last: bool) -> "Precision":
        kind = torch.device(device).type
        if not amp:
            return cls(kind, channels_last=channels_last)
        if kind == "cuda":
            return cls(kind, torch.float16, torch.amp.GradScaler("cuda"), channels_last)
        return cls(kind, torch.bfloat16, None, channels_last)

    def autocast(self) -> Any:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)

    def layout(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last and x.dim() == 4 else x

    def model(self, model: torch.nn.Module) -> torch.nn.Module:
        return model.to(memory_format=torch.channels_last) if self.channels_last else model

    def step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        if self.scaler is None:
            loss.backward()
            optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(optimizer)
            self.scaler.update()
