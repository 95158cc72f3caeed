"""Knowledge distillation as a TrainingTask: the student matches the teacher's logits (N2N).

Why a task and not a second loop: the loop already hands every batch's output and target to the
task, so the teacher's logits travel *in the target*. :func:`pack_targets` puts the label in
column 0 and the teacher's logits after it; the data are not augmented, so logits computed once
per split (:func:`teacher_logits`) are exactly what the teacher would output batch by batch.

Loss (Ashok et al., N2N learning, 2018): ``alpha * MSE(student logits, teacher logits)
+ (1 - alpha) * cross-entropy(student logits, label)``; ``alpha = 1`` is N2N's pure logit
matching. The score stays accuracy against the true labels, so ``valid_accuracy`` means the same as
for plain training (``valid_loss`` is the distillation loss).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .tasks import TrainingTask


class Distillation(TrainingTask):
    """Logit matching to a teacher plus an optional share of cross-entropy."""

    name = "distillation"
    metric = "accuracy"

    def __init__(self, alpha: float = 1.0) -> None:
        if not 0.0 <= float(alpha) <= 1.0:
            raise ValueError(f"distillation alpha must be in [0, 1], got {alpha!r}")
        self.alpha = float(alpha)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        labels, teacher = target[:, 0].long(), target[:, 1:]
        loss = F.mse_loss(output, teacher) if self.alpha > 0 else output.new_zeros(())
        if self.alpha < 1:
            loss = self.alpha * loss + (1 - self.alpha) * F.cross_entropy(output, labels)
        return loss

    def batch_stats(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (output.argmax(dim=1) == target[:, 0].long()).sum().reshape(1)

    def summarize(self, stats: torch.Tensor, count: int) -> float:
        return 100.0 * float(stats[0]) / max(count, 1)


def teacher_logits(teacher: torch.nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """The teacher's logits for every row of ``x`` (eval mode, no autograd)."""
    teacher.eval()
    with torch.no_grad():
        return torch.cat([teacher(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def pack_targets(labels: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """``[label, logit_0, ..., logit_{K-1}]`` per row, as float (what :class:`Distillation` reads)."""
    return torch.cat([labels.to(logits.dtype).unsqueeze(1), logits], dim=1)
