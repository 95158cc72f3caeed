"""The ablation table: component, metric mean ± std over seeds, change vs base, by impact."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..objectives import Objective
from ..trial import Trial, TrialState
from .components import BASE


@dataclass
class ComponentResult:
    """One row: what was removed and the metric over the seeds that completed."""

    component: str
    removed: list[str]
    values: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    delta: float = math.nan  # mean - base mean (NaN when either has no values)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values)) if self.values else math.nan

    @property
    def std(self) -> float:
        """Sample standard deviation over seeds (0 for a single seed)."""
        if len(self.values) > 1:
            return float(np.std(self.values, ddof=1))
        return 0.0 if self.values else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {"component": self.component, "removed": self.removed, "values": self.values,
                "mean": self.mean, "std": self.std, "delta": self.delta,
                "failed": len(self.errors), "errors": self.errors[:3]}


@dataclass
class AblationReport:
    """Rows sorted by impact: the component whose removal hurts ``objective`` most comes first."""

    objective: Objective
    base: ComponentResult
    rows: list[ComponentResult]
    seeds: list[int]
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_trials(
        cls, trials: Sequence[Trial], components: dict[str, Sequence[str]], objective: Objective,
        seeds: Sequence[int], info: dict[str, Any] | None = None,
    ) -> "AblationReport":
        results = {BASE: ComponentResult(BASE, [])}
        results.update({c: ComponentResult(c, list(m)) for c, m in components.items()})
        for trial in trials:
            row = results[trial.arch]
            if trial.state == TrialState.COMPLETE and objective.name in trial.metrics:
                row.values.append(float(trial.metrics[objective.name]))
            else:
                row.errors.append(trial.error or f"metric {objective.name!r} missing")
        base = results.pop(BASE)
        for row in results.values():
            row.delta = row.mean - base.mean
        # impact: how much worse the objective gets without the component (NaN rows last)
        ordered = sorted(
            results.values(), key=lambda r: (math.isnan(r.delta), objective.sign * r.delta)
        )
        return cls(objective, base, ordered, list(seeds), dict(info or {}))

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.objective.name, "direction": self.objective.direction,
                "seeds": self.seeds, "base": self.base.to_dict(),
                "components": [r.to_dict() for r in self.rows], "info": self.info}

    def table_rows(self) -> list[tuple[str, str, str, str]]:
        """(component, 'mean ± std', change vs base, removed modules/features) for display."""
        out = [(BASE, _pm(self.base), "", "")]
        for row in self.rows:
            change = "failed" if math.isnan(row.delta) else f"{row.delta:+.4f}"
            if row.errors and row.values:
                change += f" ({len(row.errors)} failed)"
            out.append((row.component, _pm(row), change, _names(row.removed)))
        return out

    def to_text(self) -> str:
        header = ("component", f"{self.objective.name} (mean ± std)", "change vs base", "removed")
        rows = [header] + self.table_rows()
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)


def _names(removed: list[str], shown: int = 3) -> str:
    if len(removed) <= shown:
        return ", ".join(removed)
    return f"{len(removed)}: " + ", ".join(removed[:shown]) + ", ..."


def _pm(row: ComponentResult) -> str:
    if not row.values:
        return "n/a"
    return f"{row.mean:.4f} ± {row.std:.4f} (n={len(row.values)})"
