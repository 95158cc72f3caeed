"""Optimiser and schedule from plain hyper-parameters (what architectures with training genes carry)."""

from __future__ import annotations

from typing import Any, Iterable

import torch

from .choices import OPTIMIZERS, SCHEDULES


def make_optimizer(
    parameters: Iterable[torch.nn.Parameter],
    optimizer: str,
    lr: float,
    momentum: float,
    weight_decay: float,
) -> torch.optim.Optimizer:
    """SGD (Nesterov when momentum > 0), RMSprop with momentum, or Adam with beta1 = momentum.

    Using momentum as Adam's beta1 keeps the gene meaningful whichever optimiser a chain picks.
    """
    params = list(parameters)
    if optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=momentum > 0
        )
    if optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(momentum, 0.999), weight_decay=weight_decay)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")


def make_schedule(optimizer: torch.optim.Optimizer, schedule: str, epochs: int) -> Any:
    """Cosine decay over the epoch budget (NB201's schedule), or a constant rate (None)."""
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
    if schedule == "constant":
        return None
    raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
