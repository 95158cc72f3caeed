"""Segmentation as a TrainingTask: Dice + cross-entropy loss, Dice without background as the score.

Loss is MONAI's ``DiceCELoss(include_background=False, to_onehot_y=True, softmax=True, batch=True)``
(SegQNAS's soft Dice pooled over the batch, plus cross-entropy for stable early training). The score
follows ``DiceMetric(include_background=False)`` on argmax predictions, but pooled over the whole
split: per foreground class the batches' intersections and sizes are summed as tensors (no host
sync per batch) and Dice = 2 I / (|P| + |T|) at the end. A class absent from both the target and
the prediction is left out of the mean (MONAI's ``ignore_empty``), so Dice is 1.0 only when earned.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..errors import require
from .tasks import TrainingTask


class Segmentation(TrainingTask):
    """Outputs are logits (B, C, H, W); targets are int64 class maps (B, H, W)."""

    name = "segmentation"
    metric = "dice"
    higher_is_better = True

    def __init__(self, num_classes: int) -> None:
        require("monai", "segmentation")
        from monai.losses import DiceCELoss

        self.num_classes = int(num_classes)
        self._loss = DiceCELoss(include_background=False, to_onehot_y=True, softmax=True, batch=True)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self._loss(output, target.unsqueeze(1))

    def batch_stats(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """[intersection, predicted, target] pixel counts for each foreground class, flattened."""
        pred = F.one_hot(output.argmax(dim=1), self.num_classes)[..., 1:]
        true = F.one_hot(target, self.num_classes)[..., 1:]
        dims = tuple(range(pred.ndim - 1))
        return torch.stack([(pred * true).sum(dims), pred.sum(dims), true.sum(dims)]).flatten().double()

    def per_class(self, stats: torch.Tensor) -> list[float]:
        """Dice of each foreground class (NaN when the class is absent from target and prediction)."""
        inter, pred, true = stats.reshape(3, -1).tolist()
        return [2 * i / (p + t) if p + t > 0 else math.nan for i, p, t in zip(inter, pred, true)]

    def summarize(self, stats: torch.Tensor, count: int) -> float:
        values = [d for d in self.per_class(stats) if not math.isnan(d)]
        return sum(values) / len(values) if values else 1.0


def split_stats(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, task: Segmentation,
                batch_size: int) -> torch.Tensor:
    """Summed :meth:`Segmentation.batch_stats` of ``model`` over a split (eval mode, no grad)."""
    model.eval()
    total = torch.zeros(3 * (task.num_classes - 1), dtype=torch.float64)
    with torch.no_grad():
        for start in range(0, len(y), batch_size):
            total += task.batch_stats(model(x[start:start + batch_size]), y[start:start + batch_size]).cpu()
    return total
