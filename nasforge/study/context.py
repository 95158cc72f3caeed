"""TrialContext: what an evaluation may use besides (arch, fidelity, seed).

An evaluator reports intermediate results (learning curves) with ``report(step, metrics)``, asks
``should_prune()`` after each report and raises :class:`~nasforge.errors.TrialPruned` when told
to stop, and keeps files (checkpoints, weights) in ``checkpoint_dir``. The context travels with the
task to wherever the trial runs (a worker process, a Ray task), so it is plain picklable data:
reports are collected here and stored by the study when the outcome comes back (the study stays
the only writer of the store), and pruning decisions use a :class:`PruneRule` snapshot that the
scheduler took when the trial was submitted. That keeps decisions deterministic for a given order
of results, which is what exact resume after ``kill -9`` needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping


@dataclass(frozen=True)
class PruneRule:
    """A scheduler's verdict table for one trial, taken at submission time.

    ``thresholds[step]`` is the score (larger is better, i.e. already multiplied by the
    objective's sign) a report at ``step`` must reach to go on; steps without an entry never prune.
    ``metric`` is the objective's name in the reported metrics.
    """

    metric: str
    sign: float = 1.0
    thresholds: Mapping[int, float] = field(default_factory=dict)

    def prunes(self, step: int, metrics: Mapping[str, Any]) -> bool:
        limit = self.thresholds.get(int(step))
        if limit is None or self.metric not in metrics:
            return False
        try:
            score = self.sign * float(metrics[self.metric])
        except (TypeError, ValueError):
            return True
        return not math.isfinite(score) or score < limit


@dataclass
class TrialContext:
    """Per-trial services for an evaluator; see the module docstring.

    Build one by hand (``TrialContext()``) to call an evaluator outside a study: reports are then
    only kept in ``reports`` and nothing is ever pruned.
    """

    number: int = 0
    seed: int = 0
    checkpoint_dir: Path | None = None
    device: str = "cpu"
    rule: PruneRule | None = None
    reports: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.checkpoint_dir is not None:
            self.checkpoint_dir = Path(self.checkpoint_dir)

    def report(self, step: int, metrics: Mapping[str, Any]) -> None:
        """Record intermediate ``metrics`` at ``step`` (an epoch, a rung fidelity, ...)."""
        clean = {str(k): _plain(v) for k, v in metrics.items()}
        self.reports.append((int(step), clean))

    def should_prune(self) -> bool:
        """Whether the latest report falls below the scheduler's bar for its step."""
        if self.rule is None or not self.reports:
            return False
        step, metrics = self.reports[-1]
        return self.rule.prunes(step, metrics)

    def checkpoint_path(self, name: str) -> Path | None:
        """``checkpoint_dir / name`` with the folder created, or None without an artifact store."""
        if self.checkpoint_dir is None:
            return None
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        return self.checkpoint_dir / name


def _plain(value: Any) -> Any:
    """Numbers as Python floats/ints (tensors and numpy scalars have ``item``)."""
    if hasattr(value, "item"):
        value = value.item()
    return value
