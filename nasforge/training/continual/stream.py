"""Train one network through a class-incremental stream with a chosen method; score every task.

Methods (``METHODS``):

* ``finetune``: each task trains on its own data only (the catastrophic-forgetting baseline);
* ``replay``: each task trains on its data plus the replay memory (``memory_per_class`` examples
  of every old class);
* ``pst``: Progressive Segmented Training: after each task the most important share of units is
  frozen; later tasks train the rest on the class-balanced memory (old classes and the current one
  all capped at ``memory_per_class``);
* ``joint``: each task trains on all data of every task seen so far (the upper bound).

The network has one head over all classes of the stream; after task t it is scored single-head
over the classes seen so far (logits of unseen classes are ignored). Each task trains with the
ordinary :func:`~nasforge.training.loop.fit` (cosine schedule per task, last-epoch weights: no
selection on any split), so per-epoch curves reach the trial context like any training run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...data.streams import ClassStream
from ..loop import Split, fit, score
from ..measure import count_flops
from ..optim import make_optimizer, make_schedule
from ..tasks import Classification
from .pst import SCORES, FrozenUnits, accumulate_gradients

METHODS = ("finetune", "replay", "pst", "joint")


class SeenClasses(Classification):
    """Single-head classification over the first ``n`` classes of the stream's label range."""

    def __init__(self, n: int) -> None:
        self.n = int(n)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(output[:, : self.n], target)

    def batch_stats(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (output[:, : self.n].argmax(dim=1) == target).sum().reshape(1)


@dataclass
class StreamSettings:
    """Training recipe: task 0 ("cloud") and later tasks ("edge") have their own epochs and rates."""

    epochs: int = 10
    edge_epochs: int = 5
    batch_size: int = 64
    lr: float = 0.05
    edge_lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    optimizer: str = "sgd"
    memory_per_class: int = 20
    score: str = "abs_w"
    eval_batch_size: int = 1024


@dataclass
class StreamResult:
    """Accuracies (%) after each task: ``seen[t]`` single-head over tasks 0..t, ``tasks[t][i]``
    on task i's classes (i <= t), for the valid and test splits; training cost in FLOPs."""

    seen: dict[str, list[float]] = field(default_factory=lambda: {"valid": [], "test": []})
    tasks: dict[str, list[list[float]]] = field(default_factory=lambda: {"valid": [], "test": []})
    train_flops: list[float] = field(default_factory=list)  # per task, multiply-adds x 3 (fwd+bwd)
    frozen_share: list[float] = field(default_factory=list)

    def metrics(self, prefix: str = "") -> dict[str, float]:
        """Flat scalar metrics (see the evaluator for their meaning)."""
        out: dict[str, float] = {}
        for split, tag in (("test", ""), ("valid", "valid_")):
            seen, tasks = self.seen[split], self.tasks[split]
            out[f"{tag}final_accuracy"] = seen[-1]
            out[f"{tag}avg_incremental_accuracy"] = float(np.mean(seen))
            out[f"{tag}forgetting"] = forgetting(tasks)
            for t, value in enumerate(seen):
                out[f"{tag}incremental_accuracy_{t}"] = value
            for i, value in enumerate(tasks[-1]):
                out[f"{tag}task_accuracy_{i}"] = value
        out["train_flops_m"] = float(sum(self.train_flops)) / 1e6
        out["edge_train_flops_m"] = float(sum(self.train_flops[1:])) / 1e6
        return {prefix + k: v for k, v in out.items()}


def forgetting(tasks: list[list[float]]) -> float:
    """Mean over tasks learnt before the last of (best accuracy it ever had - final accuracy)."""
    if len(tasks) < 2:
        return 0.0
    final = tasks[-1]
    drops = [max(row[i] for row in tasks[i:]) - final[i] for i in range(len(final) - 1)]
    return float(np.mean(drops))


class _Offset:
    """Forward a trial context's reports with steps shifted, so epochs count across the stream."""

    def __init__(self, context: Any, offset: int, extra: dict[str, Any]) -> None:
        self.context, self.offset, self.extra = context, offset, extra

    def report(self, step: int, metrics: dict[str, Any]) -> None:
        self.context.report(self.offset + step, {**metrics, **self.extra})

    def should_prune(self) -> bool:
        return self.context.should_prune()


def to_split(x: np.ndarray, y: np.ndarray, device: str = "cpu") -> Split:
    """Arrays as a training-loop Split on ``device``."""
    return Split(torch.from_numpy(np.ascontiguousarray(x)).to(device),
                 torch.from_numpy(np.ascontiguousarray(y)).to(device))


class StreamLearner:
    """Carries one model through the stream task by task (``learn(t)``) and scores it."""

    def __init__(
        self, model: nn.Module, stream: ClassStream, method: str, settings: StreamSettings,
        data_order: torch.Generator, device: str = "cpu", context: Any = None,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
        if settings.score not in SCORES:
            raise ValueError(f"score must be one of {', '.join(SCORES)}, got {settings.score!r}")
        self.model, self.stream, self.method, self.settings = model, stream, method, settings
        self.data_order, self.device, self.context = data_order, device, context
        self.frozen = FrozenUnits(model) if method == "pst" else None
        self.result = StreamResult()
        shape = tuple(stream.dataset.input_shape)
        self.flops_per_example = count_flops(model, shape, device) * 1e6
        self.epochs_done = 0
        self.fits: list[Any] = []  # each task's FitResult (train-accuracy history for penalties)

    def training_set(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        s, task = self.stream, self.stream.tasks[t]
        if t == 0 or self.method == "finetune":
            return task.x["train"], task.y["train"]
        if self.method == "joint":
            return s.seen(t, "train")
        if self.method == "replay":
            mx, my = s.memory(t, self.settings.memory_per_class)
            return np.concatenate([mx, task.x["train"]]), np.concatenate([my, task.y["train"]])
        return s.balanced(t, self.settings.memory_per_class)  # pst

    def learn(self, t: int) -> None:
        """Train task ``t`` (tasks must come in order), then score every seen task."""
        cfg, s = self.settings, self.stream
        head = SeenClasses(s.seen_classes(t))
        x, y = self.training_set(t)
        train = to_split(x, y, self.device)
        valid = to_split(*s.seen(t, "valid"), self.device)
        epochs = cfg.epochs if t == 0 else cfg.edge_epochs
        lr = cfg.lr if t == 0 else cfg.edge_lr
        optimizer = make_optimizer(self.model.parameters(), cfg.optimizer, lr, cfg.momentum, cfg.weight_decay)
        hooks = self.frozen.attach(optimizer) if self.frozen is not None and t > 0 else []
        context = None if self.context is None else _Offset(self.context, self.epochs_done, {"task": t})
        try:
            fitted = fit(self.model, train, valid, optimizer, make_schedule(optimizer, "cosine", epochs), epochs,
                cfg.batch_size, self.data_order, eval_batch_size=cfg.eval_batch_size, task=head,
                context=context)
        finally:
            for hook in hooks:
                hook.remove()
        self.fits.append(fitted)
        self.epochs_done += epochs
        self.result.train_flops.append(3.0 * self.flops_per_example * len(train) * epochs)
        if self.frozen is not None and t + 1 < len(s):
            if cfg.score != "abs_w":
                accumulate_gradients(self.model, train, head)
            self.frozen.freeze_top(s.division[t] / s.num_classes, cfg.score)
            self.model.zero_grad(set_to_none=True)
        self.result.frozen_share.append(self.frozen.frozen_share() if self.frozen is not None else 0.0)
        self._score(t)

    def _score(self, t: int) -> None:
        s, head = self.stream, SeenClasses(self.stream.seen_classes(t))
        for split in ("valid", "test"):
            seen = score(self.model, to_split(*s.seen(t, split), self.device), self.settings.eval_batch_size, head)[1]
            per_task = [score(self.model, to_split(task.x[split], task.y[split], self.device),
                              self.settings.eval_batch_size, head)[1] for task in s.tasks[: t + 1]]
            self.result.seen[split].append(seen)
            self.result.tasks[split].append(per_task)
        if self.context is not None:
            row = {"task": t, "valid_seen_accuracy": self.result.seen["valid"][-1],
                   "test_seen_accuracy": self.result.seen["test"][-1]}
            row.update({f"valid_task_accuracy_{i}": v for i, v in enumerate(self.result.tasks["valid"][-1])})
            self.epochs_done += 1  # the task's summary gets a step of its own after its epochs
            self.context.report(self.epochs_done, row)

    def run(self, start: int = 0) -> StreamResult:
        for t in range(start, len(self.stream)):
            self.learn(t)
        return self.result
