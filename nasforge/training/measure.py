"""Model cost metrics, in the units of the NB201 tabular evaluator: params (M), FLOPs (M), ms."""

from __future__ import annotations

import statistics
import time
from typing import Sequence

import torch
from torch.utils.flop_counter import FlopCounterMode


def count_params(model: torch.nn.Module) -> float:
    """Trainable parameters in millions."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6


def count_flops(model: torch.nn.Module, input_shape: Sequence[int], device: str = "cpu") -> float:
    """Forward multiply-adds at batch 1, in millions (the NB201 / thop "FLOPs" convention).

    torch's FlopCounterMode counts 2 FLOPs per multiply-add; we halve it so trained models and
    tabular NB201 entries are on one scale.
    """
    was_training = model.training
    model.eval()
    x = torch.zeros((1, *input_shape), device=device)
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x)
    finally:
        model.train(was_training)
    return counter.get_total_flops() / 2 / 1e6


def measure_latency(
    model: torch.nn.Module, input_shape: Sequence[int], repeats: int, device: str = "cpu", warmup: int = 2
) -> float:
    """Median wall time of one batch-1 forward pass, in milliseconds."""
    was_training = model.training
    model.eval()
    x = torch.zeros((1, *input_shape), device=device)
    times = []
    try:
        with torch.no_grad():
            for i in range(warmup + repeats):
                start = time.perf_counter()
                model(x)
                if device != "cpu":
                    torch.cuda.synchronize()
                if i >= warmup:
                    times.append(time.perf_counter() - start)
    finally:
        model.train(was_training)
    return statistics.median(times) * 1e3
