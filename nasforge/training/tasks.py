"""The TrainingTask extension point: what a network's output is scored against, and how.

The training loop is the same for every task; a task supplies the loss, the per-batch sums to
accumulate (kept as tensors, so there is no host sync per batch) and how those sums become the
task's score. The score is reported as ``<split>_<metric>`` (``valid_accuracy``, ``valid_dice``),
so objectives and reports read the same names whatever the task.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
import torch.nn.functional as F


class TrainingTask(ABC):
    """Loss + score of one kind of supervised problem."""

    name: str = "task"
    #: the score's name in metrics (``valid_<metric>``)
    metric: str = "score"
    #: whether a larger score is better (selects the kept epoch)
    higher_is_better: bool = True

    @abstractmethod
    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean loss of a batch (the one that is back-propagated)."""

    @abstractmethod
    def batch_stats(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """A 1-D tensor of sums over the batch; summed across batches, then :meth:`summarize`."""

    @abstractmethod
    def summarize(self, stats: torch.Tensor, count: int) -> float:
        """The split's score from the accumulated ``stats`` over ``count`` examples."""


class Classification(TrainingTask):
    """Cross-entropy on logits; accuracy in % (the unit of the NB201 tables)."""

    name = "classification"
    metric = "accuracy"

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(output, target)

    def batch_stats(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (output.argmax(dim=1) == target).sum().reshape(1)

    def summarize(self, stats: torch.Tensor, count: int) -> float:
        return 100.0 * float(stats[0]) / max(count, 1)


CLASSIFICATION = Classification()


class Regression(TrainingTask):
    """Mean squared error on one output per example; MAE (``<split>_mae``) as the score.

    Targets are standardised with training statistics for the loss (so the default learning rates
    work whatever the target's unit); ``scale`` (the training targets' std) turns the MAE back into
    the target's own unit, so ``valid_mae`` reads like the table's column. Losses stay standardised.
    """

    name = "regression"
    metric = "mae"
    higher_is_better = False

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = float(scale)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(output.reshape(target.shape), target)

    def batch_stats(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        error = output.reshape(target.shape) - target
        return torch.stack((error.abs().sum(), error.square().sum()))

    def summarize(self, stats: torch.Tensor, count: int) -> float:
        return self.scale * float(stats[0]) / max(count, 1)


REGRESSION = Regression()
TASKS = ("classification", "regression")


def make_task(name: str, target_std: float = 1.0) -> TrainingTask:
    """The task called ``name`` (``classification`` or ``regression``) for a loaded dataset."""
    return CLASSIFICATION if name == "classification" else Regression(target_std)
