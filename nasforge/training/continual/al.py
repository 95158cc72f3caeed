"""Acquisitive learning (Du et al., IJCNN 2020 / CVPR-W 2020): inherit the most robust model.

Knowledge inheritance picks, among candidate models trained in the cloud on the first task, the
one whose accuracy suffers least when its weights are perturbed (optionally: whose loss landscape
is smoothest); knowledge acquisition then learns the new classes on the edge with PST. The premise
is that weight-noise robustness predicts how little a model forgets while its free units are
retrained.
"""

from __future__ import annotations

from typing import Sequence

from torch import nn

from ...metrics.robustness import noisy_accuracy, roughness
from ..loop import Split, score
from ..tasks import TrainingTask

CRITERIA = ("noise_drop", "roughness")


def robustness(
    model: nn.Module, split: Split, task: TrainingTask, alpha: float = 0.5, draws: int = 5,
    seed: int = 0, roughness_points: int = 0,
) -> dict[str, float]:
    """Clean / noisy accuracy (%), their difference ``noise_drop`` (points) and, if asked, roughness."""
    clean = score(model, split, task=task)[1]
    noisy = _noisy(model, split, task, alpha, draws, seed)
    out = {"accuracy": clean, "noisy_accuracy": noisy, "noise_drop": clean - noisy}
    if roughness_points:
        out["roughness"] = roughness(model, split, points=roughness_points, seed=seed)
    return out


def _noisy(model: nn.Module, split: Split, task: TrainingTask, alpha: float, draws: int, seed: int) -> float:
    # noisy_accuracy scores all logits; score the task's head by wrapping the model's output
    return noisy_accuracy(_Head(model, task), split, alpha, draws, seed)


class _Head(nn.Module):
    """The model with the task's logit columns only (so noise is judged on the seen classes)."""

    def __init__(self, model: nn.Module, task: TrainingTask) -> None:
        super().__init__()
        self.model, self.n = model, getattr(task, "n", None)

    def forward(self, x):  # type: ignore[no-untyped-def]
        out = self.model(x)
        return out if self.n is None else out[:, : self.n]


def select(scores: Sequence[dict[str, float]], by: str = "noise_drop", most_robust: bool = True) -> int:
    """Index of the most (or least) robust candidate: smallest ``by`` wins, ties to the earlier."""
    if by not in CRITERIA:
        raise ValueError(f"selection criterion must be one of {', '.join(CRITERIA)}, got {by!r}")
    if not scores:
        raise ValueError("no candidates to select from")
    sign = 1.0 if most_robust else -1.0
    return min(range(len(scores)), key=lambda i: (sign * scores[i][by], i))

