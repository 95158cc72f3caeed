"""The ablation table, a report view built from stored trials and the stored study config alone.

Component, metric mean ± std over seeds, change vs base, sorted by impact. No evaluator, model or
data is needed, so ``nasforge report`` shows it for a finished (or interrupted) ablation study
even after the data folder has moved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..objectives import Objective
from ..trial import Trial, TrialState
from .space import BASE, parse_member


@dataclass
class ComponentResult:
    """One row: what was removed and the metric over the seeds that completed."""

    component: str
    removed: list[Any]
    values: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pending: int = 0  # trials not finished yet (an interrupted study)
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
        """JSON-safe: a missing mean, std or change is null, never NaN."""
        return {"component": self.component, "removed": self.removed, "values": self.values,
                "mean": _finite(self.mean), "std": _finite(self.std), "delta": _finite(self.delta),
                "failed": len(self.errors), "pending": self.pending, "errors": self.errors[:3]}


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
        cls, trials: Sequence[Trial], components: Mapping[str, Sequence[Any]], objective: Objective,
        seeds: Sequence[int], info: dict[str, Any] | None = None,
    ) -> "AblationReport":
        """``trials`` are stored ablation trials (arch '<component>@seed<k>')."""
        results = {BASE: ComponentResult(BASE, [])}
        results.update({c: ComponentResult(c, list(m)) for c, m in components.items()})
        for trial in trials:
            # '<component>@seed<k>'; files from before ablations ran as studies store the bare name
            member = parse_member(trial.arch) or (trial.arch, trial.seed)
            if member[0] not in results:
                continue
            row = results[member[0]]
            if trial.state == TrialState.RUNNING:
                row.pending += 1
            elif trial.state == TrialState.COMPLETE and trial.values:
                row.values.append(float(trial.values[0]))
            else:
                row.errors.append(trial.error or f"{trial.state.value}: metric {objective.name!r} missing")
        base = results.pop(BASE)
        for row in results.values():
            row.delta = row.mean - base.mean
        # impact: how much worse the objective gets without the component (NaN rows last)
        ordered = sorted(results.values(), key=lambda r: (math.isnan(r.delta), objective.sign * r.delta))
        return cls(objective, base, ordered, list(seeds), dict(info or {}))

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.objective.name, "direction": self.objective.direction,
                "seeds": self.seeds, "base": self.base.to_dict(),
                "components": [r.to_dict() for r in self.rows], "info": self.info}

    def table_rows(self) -> list[tuple[str, str, str, str]]:
        """(component, 'mean ± std', change vs base, removed modules/features) for display."""
        labels = self.info.get("labels")
        out = [(BASE, _pm(self.base), _status(self.base), "")]
        for row in self.rows:
            change = "failed" if math.isnan(row.delta) and row.errors else (
                "-" if math.isnan(row.delta) else f"{row.delta:+.4f}")
            extra = _status(row)
            out.append((row.component, _pm(row), f"{change} {extra}".strip(), _names(row.removed, labels)))
        return out

    def to_text(self) -> str:
        header = ("component", f"{self.objective.name} (mean ± std)", "change vs base", "removed")
        rows = [header] + self.table_rows()
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)


def is_ablation(config: Mapping[str, Any]) -> bool:
    """Whether a stored study config is an ablation study (also one recorded before ablations
    ran as studies: those have a ``kind`` and no space)."""
    return config.get("space") == "ablation" or (
        "space" not in config and config.get("kind") in ("model", "features"))


def ablation_report(config: Mapping[str, Any], trials: Sequence[Trial]) -> AblationReport:
    """The table of a stored ablation study, from its config and trials only (no data needed)."""
    if config.get("space") != "ablation":  # an older file: components are what its trials ran
        names = dict.fromkeys(t.arch for t in trials if t.arch != BASE)
        objective = Objective.parse(config.get("metric", "valid_accuracy"))
        seeds = config.get("seeds") or sorted({t.seed for t in trials})
        info = {"study": config.get("name"), "kind": config.get("kind")}
        return AblationReport.from_trials(trials, {n: [] for n in names}, objective, seeds, info)
    space = config.get("space_options", {})
    objective = Objective.parse(config.get("objectives", ["valid_accuracy:max"])[0])
    info = {"study": config.get("name"), **config.get("ablation", {})}
    return AblationReport.from_trials(trials, space["components"], objective, space["seeds"], info)


def print_report(report: AblationReport, width: int | None = None) -> None:
    """The table with rich (as the other reports), plus the modules 'all' could not remove."""
    from rich.console import Console
    from rich.table import Table

    info = report.info
    title = (f"ablation {info.get('study')!r}: {info.get('kind', '')}, seeds {report.seeds}, "
             f"{report.objective} (sorted by impact)")
    table = Table(title=title)
    for column in ("component", f"{report.objective.name} mean ± std", "change vs base", "removed"):
        table.add_column(column)
    for row in report.table_rows():
        table.add_row(*row)
    console = Console(width=width)
    console.print(table)
    if info.get("skipped"):
        console.print("not removable (skipped by 'all'): " + "; ".join(
            f"{k} ({v})" for k, v in info["skipped"].items()))


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


def _status(row: ComponentResult) -> str:
    parts = []
    if row.errors and row.values:
        parts.append(f"{len(row.errors)} failed")
    if row.pending:
        parts.append(f"{row.pending} running")
    return f"({', '.join(parts)})" if parts else ""


def _names(removed: list[Any], labels: Sequence[str] | None = None, shown: int = 3) -> str:
    """Module or feature names; unnamed positions as index ranges ('0-3, 7')."""
    if removed and not labels and all(isinstance(i, int) for i in removed):
        return ", ".join(_ranges(removed))
    names = [labels[i] if labels and isinstance(i, int) and i < len(labels) else str(i) for i in removed]
    if len(names) <= shown:
        return ", ".join(names)
    return f"{len(names)}: " + ", ".join(names[:shown]) + ", ..."


def _ranges(indices: Sequence[int]) -> list[str]:
    out: list[list[int]] = []
    for i in sorted(indices):
        if out and i == out[-1][1] + 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return [str(a) if a == b else f"{a}-{b}" for a, b in out]


def _pm(row: ComponentResult) -> str:
    if not row.values:
        return "n/a"
    return f"{row.mean:.4f} ± {row.std:.4f} (n={len(row.values)})"


def show_stored(store: Any, name: str, as_json: bool = False) -> bool:
    """``nasforge report`` for an ablation study: print its table (or JSON) and return True;
    False when ``name`` is not an ablation study. Reads the store only."""
    import json
    import sys

    record = store.get_study(name)
    if not is_ablation(record.config):
        return False
    report = ablation_report(record.config, store.trials(record.study_id))
    if as_json:
        print(json.dumps(report.to_dict(), allow_nan=False))
    else:
        print_report(report, width=None if sys.stdout.isatty() else 160)
    return True
