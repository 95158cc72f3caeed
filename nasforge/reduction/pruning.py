"""Pruning baselines for the reduction scheme, with physical channel removal (torch-pruning).

- ``l1``: L1-norm structured filter pruning (Li et al. 2017) of the trained base: each conv keeps
  the filters with the largest L1 norms, the same fraction in every layer; torch-pruning's
  dependency graph removes the coupled channels (BN, the next conv, residual partners) with them.
- ``slimming``: network slimming (Liu et al. 2017): the base is trained with an L1 penalty on
  the BatchNorm scales (:class:`BNSparsity`, a loss hook on the classification task), then the
  channels with the smallest |gamma| under one global threshold are removed.

Both are pruned to at most a target parameter count (the pruning ratio is found by bisection, so
baselines and searched networks are compared at matched size) and then fine-tuned with the
ordinary training loop.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import torch
from torch import nn

from ..errors import ConfigError, require
from ..training.loop import fit, keep_best, score
from ..training.measure import count_flops, count_params, measure_latency
from ..training.tasks import CLASSIFICATION, Classification

METHODS = ("l1", "slimming")


class BNSparsity(Classification):
    """Cross-entropy plus ``s * sum |gamma|`` over the model's BatchNorm scales (network slimming).

    The gradient of the penalty is the ``s * sign(gamma)`` step network slimming adds by hand.
    """

    name = "bn_sparsity"

    def __init__(self, model: nn.Module, strength: float) -> None:
        self.gammas = [m.weight for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine]
        self.strength = float(strength)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        penalty = sum(g.abs().sum() for g in self.gammas)
        return super().loss(output, target) + self.strength * penalty


def prune_to_params(model: nn.Module, input_shape: tuple[int, ...], target_params_m: float, method: str,
                    steps: int = 40) -> tuple[nn.Module, float]:
    """A pruned copy of ``model`` with at most ``target_params_m`` parameters, and the ratio used.

    One torch-pruning pruner raises the ratio in ``steps`` equal increments up to 0.95 (building
    the dependency graph once, not once per trial ratio) and stops at the first step under the
    target, so the copy is the largest one of that schedule that fits.
    """
    tp = require("torch_pruning", "reduction")
    if method not in METHODS:
        raise ConfigError(f"unknown pruning method {method!r}; choose one of: {', '.join(METHODS)}")
    model = copy.deepcopy(model).eval()
    if count_params(model) <= target_params_m:
        return model, 0.0
    example = torch.zeros((1, *input_shape))
    heads = [m for m in model.modules() if isinstance(m, nn.Linear)]
    common = dict(pruning_ratio=0.95, max_pruning_ratio=0.95, iterative_steps=steps, ignored_layers=heads)
    if method == "l1":
        importance = tp.importance.GroupMagnitudeImportance(p=1, group_reduction="first", normalizer=None,
                                                            target_types=[nn.modules.conv._ConvNd])
        pruner = tp.pruner.MagnitudePruner(model, example, importance=importance, global_pruning=False, **common)
    else:
        pruner = tp.pruner.BNScalePruner(model, example, importance=tp.importance.BNScaleImportance(),
                                         global_pruning=True, **common)
    for step in range(1, steps + 1):
        pruner.step()
        if count_params(model) <= target_params_m:
            return model, 0.95 * step / steps
    return model, 0.95


def train_model(model: nn.Module, splits: dict[str, Any], hparams: dict[str, Any], epochs: int, batch_size: int,
                seed: int, task: Classification = CLASSIFICATION, lr_scale: float = 1.0,
                threads: int | None = 1) -> dict[str, Any]:
    """Train (or fine-tune) ``model`` in place with the ordinary loop; test metrics of the kept epoch."""
    from ..training.optim import make_optimizer, make_schedule
    from ..training.seeding import seeded_torch, torch_threads

    with torch_threads(threads), seeded_torch(int(seed)) as data_order:
        optimizer = make_optimizer(model.parameters(), hparams["optimizer"], float(hparams["lr"]) * lr_scale,
                                   float(hparams["momentum"]), float(hparams["weight_decay"]))
        schedule = make_schedule(optimizer, "cosine", epochs)
        started = time.perf_counter()
        result = fit(model, splits["train"], splits["valid"], optimizer, schedule, epochs, batch_size,
                     data_order, task=task)
        keep_best(model, result)
        test_loss, test_accuracy = score(model, splits["test"])
    return {"valid_accuracy": result.best["valid_accuracy"], "test_accuracy": test_accuracy,
            "epochs": result.epochs, "train_time": time.perf_counter() - started}


def describe(model: nn.Module, input_shape: tuple[int, ...], latency_repeats: int = 20) -> dict[str, float]:
    """params_m, flops_m and latency_ms of a (pruned) network."""
    return {"params_m": count_params(model), "flops_m": count_flops(model, input_shape),
            "latency_ms": measure_latency(model, input_shape, latency_repeats)}
