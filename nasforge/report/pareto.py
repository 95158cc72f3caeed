"""Pareto fronts, normalised hypervolume and constraint filters for multi-objective reports.

Hypervolume is only comparable between runs when the normalisation and reference point are stated,
so :func:`pareto_summary` always reports both. Every objective is mapped to [0, 1] with min-max
bounds (given, else taken from all complete trials) and turned into "smaller is better"
(``1 - normalised`` for maximised objectives); the reference point defaults to 1.1 per objective,
the convention of the NAS-Bench HW literature and of ``benchmarks/mo_nb201.py``. The volume itself
is pymoo's exact HV indicator. Points outside the reference box contribute nothing.

Constraints ("edgegpu_latency<=5", "params_m<1.5", "valid_accuracy>=90") filter the trials *before*
the front is taken, so the front shown is the best trade-off among feasible architectures rather
than the unconstrained front with points cut away.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from ..objectives import Objective, parse_objectives
from ..strategies.ranking import nondominated_mask
from ..trial import Trial, TrialState

DEFAULT_REF = 1.1
_OPERATORS = {
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
}
_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][\w.\-/]*)\s*(<=|>=|<|>)\s*([^\s].*?)\s*$")

Bounds = Mapping[str, Sequence[float]]


@dataclass(frozen=True)
class Constraint:
    """``metric op value``, checked against a trial's metrics (objective values included)."""

    metric: str
    op: str
    value: float

    @staticmethod
    def parse(text: str | "Constraint") -> "Constraint":
        if isinstance(text, Constraint):
            return text
        match = _CONSTRAINT.match(str(text))
        if not match:
            raise ConfigError(
                f"constraint {text!r} must look like 'metric<=value' (operators: <=, <, >=, >)"
            )
        metric, op, raw = match.groups()
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"constraint {text!r}: {raw!r} is not a number") from None
        if not math.isfinite(value):
            raise ConfigError(f"constraint {text!r}: the bound must be finite, got {raw!r}")
        return Constraint(metric, op, value)

    def holds(self, metrics: Mapping[str, Any]) -> bool:
        value = metrics.get(self.metric)
        if value is None:
            return False
        try:
            return bool(_OPERATORS[self.op](float(value), self.value))
        except (TypeError, ValueError):
            return False

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"


# --- trials -> front ---------------------------------------------------------------------------


def complete_trials(trials: Iterable[Trial], objectives: Sequence[Objective]) -> list[Trial]:
    """COMPLETE trials with one finite value per objective."""
    out = []
    for trial in trials:
        if trial.state != TrialState.COMPLETE or trial.values is None:
            continue
        if len(trial.values) != len(objectives):
            continue
        if all(math.isfinite(float(v)) for v in trial.values):
            out.append(trial)
    return out


def feasible(trials: Iterable[Trial], constraints: Sequence[str | Constraint]) -> list[Trial]:
    """Trials meeting every constraint; ConfigError if no trial has a constrained metric at all."""
    parsed = [Constraint.parse(c) for c in constraints]
    trials = list(trials)
    for constraint in parsed:
        if trials and not any(constraint.metric in _metrics_of(t) for t in trials):
            known = sorted({k for t in trials for k in _metrics_of(t)})
            raise ConfigError(
                f"constraint {constraint}: no trial has metric {constraint.metric!r}; "
                f"available: {', '.join(known)}"
            )
    return [t for t in trials if all(c.holds(_metrics_of(t)) for c in parsed)]


def pareto_front(trials: Iterable[Trial], objectives: Sequence[Objective | str]) -> list[Trial]:
    """Non-dominated COMPLETE trials, best first by the first objective (ties: trial number)."""
    objectives = parse_objectives(objectives)
    candidates = complete_trials(trials, objectives)
    if not candidates:
        return []
    values = np.array([t.values for t in candidates], dtype=float)
    front = [t for t, keep in zip(candidates, nondominated_mask(values, objectives)) if keep]
    first = objectives[0]
    return sorted(front, key=lambda t: (-first.sign * float(t.values[0]), t.number))


# --- hypervolume ----------------------------------------------------------------------------------


def normalise(
    points: np.ndarray, objectives: Sequence[Objective], bounds: np.ndarray
) -> np.ndarray:
    """Min-max to [0, 1] with ``bounds`` (m, 2), maximised objectives flipped: all minimised."""
    points = np.asarray(points, dtype=float).reshape(-1, len(objectives))
    low, high = bounds[:, 0], bounds[:, 1]
    span = np.where(high > low, high - low, 1.0)
    unit = (points - low) / span
    flip = np.array([o.direction == "max" for o in objectives])
    return np.where(flip, 1.0 - unit, unit)


def bounds_array(
    objectives: Sequence[Objective],
    bounds: Bounds | Sequence[Sequence[float]] | None,
    points: np.ndarray,
) -> np.ndarray:
    """(m, 2) [low, high] per objective: ``bounds``, else the points' range."""
    m = len(objectives)
    if bounds is None:
        points = np.asarray(points, dtype=float).reshape(-1, m)
        if len(points) == 0:
            return np.zeros((m, 2))
        return np.column_stack([points.min(axis=0), points.max(axis=0)])
    if isinstance(bounds, Mapping):
        missing = [o.name for o in objectives if o.name not in bounds]
        if missing:
            raise ConfigError(f"bounds are missing objective(s) {', '.join(missing)}")
        rows = [bounds[o.name] for o in objectives]
    else:
        rows = list(bounds)
        if len(rows) != m:
            raise ConfigError(
                f"bounds need {m} (low, high) pairs, one per objective, got {len(rows)}"
            )
    array = np.asarray(rows, dtype=float)
    if array.shape != (m, 2) or not np.all(np.isfinite(array)) or np.any(array[:, 1] < array[:, 0]):
        raise ConfigError(f"bounds must be finite (low, high) pairs with low <= high, got {rows!r}")
    return array


def hypervolume(
    points: np.ndarray,
    objectives: Sequence[Objective | str],
    bounds: Bounds | Sequence[Sequence[float]] | None = None,
    ref: Sequence[float] | None = None,
) -> float:
    """Hypervolume of raw objective ``points`` after min-max normalisation (see module doc).

    ``bounds`` are (low, high) per objective (a mapping by name or a list in objective order);
    without them the points' own range is used. ``ref`` is in the normalised, minimised space and
    defaults to 1.1 per objective.
    """
    from pymoo.indicators.hv import HV

    objectives = parse_objectives(objectives)
    points = np.asarray(points, dtype=float).reshape(-1, len(objectives))
    reference = _reference(ref, len(objectives))
    if len(points) == 0:
        return 0.0
    unit = normalise(points, objectives, bounds_array(objectives, bounds, points))
    inside = np.all(unit < reference, axis=1)
    if not inside.any():
        return 0.0
    return float(HV(ref_point=reference)(unit[inside]))


def _reference(ref: Sequence[float] | None, m: int) -> np.ndarray:
    if ref is None:
        return np.full(m, DEFAULT_REF)
    reference = np.asarray(ref, dtype=float).ravel()
    if reference.shape != (m,) or not np.all(np.isfinite(reference)):
        raise ConfigError(f"reference point needs {m} finite coordinates, got {list(ref)!r}")
    return reference


# --- the report block -----------------------------------------------------------------------------


def pareto_summary(
    trials: Iterable[Trial],
    objectives: Sequence[Objective | str],
    constraints: Sequence[str | Constraint] = (),
    bounds: Bounds | Sequence[Sequence[float]] | None = None,
    ref: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Everything a report shows about the trade-off, JSON-ready.

    Keys: ``objectives``, ``constraints``, ``n_complete``, ``n_feasible``, ``pareto_front`` (list of
    {number, arch, values by objective, metrics}), ``hypervolume``, ``reference_point`` and
    ``normalisation`` ({objective: [low, high]}, ``source`` "given" or "trials", the rule).
    """
    objectives = parse_objectives(objectives)
    parsed = [Constraint.parse(c) for c in constraints]
    complete = complete_trials(trials, objectives)
    ok = feasible(complete, parsed)
    front = pareto_front(ok, objectives)
    all_values = np.array([t.values for t in complete], dtype=float).reshape(-1, len(objectives))
    box = bounds_array(objectives, bounds, all_values)
    reference = _reference(ref, len(objectives))
    front_values = np.array([t.values for t in front], dtype=float).reshape(-1, len(objectives))
    return {
        "objectives": [str(o) for o in objectives],
        "constraints": [str(c) for c in parsed],
        "n_complete": len(complete),
        "n_feasible": len(ok),
        "pareto_front": [
            {
                "number": t.number,
                "arch": t.arch,
                "values": {o.name: float(v) for o, v in zip(objectives, t.values)},
                "metrics": {k: v for k, v in t.metrics.items() if _is_number(v)},
            }
            for t in front
        ],
        "hypervolume": hypervolume(front_values, objectives, box, reference) if front else 0.0,
        "reference_point": [float(r) for r in reference],
        "normalisation": {
            "bounds": {o.name: [float(lo), float(hi)] for o, (lo, hi) in zip(objectives, box)},
            "source": "given" if bounds is not None else "trials",
            "rule": "min-max to [0, 1], maximised objectives as 1 - normalised; all minimised",
        },
    }


def format_pareto(summary: Mapping[str, Any]) -> str:
    """Plain-text table of a :func:`pareto_summary` (the CLI can print or wrap it in rich)."""
    names = [o.rsplit(":", 1)[0] for o in summary["objectives"]]
    lines = [
        f"Pareto front: {len(summary['pareto_front'])} of {summary['n_feasible']} feasible "
        f"({summary['n_complete']} complete) trials"
        + (f"; constraints: {', '.join(summary['constraints'])}" if summary["constraints"] else "")
    ]
    header = ["#"] + names + ["architecture"]
    rows = [
        [str(p["number"])] + [f"{p['values'][n]:.6g}" for n in names] + [p["arch"]]
        for p in summary["pareto_front"]
    ]
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    for row in [header] + rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    ref = ", ".join(f"{r:g}" for r in summary["reference_point"])
    lines.append(
        f"hypervolume {summary['hypervolume']:.6f} "
        f"(normalised {summary['normalisation']['source']} bounds, reference point ({ref}))"
    )
    return "\n".join(lines)


def _metrics_of(trial: Trial) -> dict[str, Any]:
    return dict(trial.metrics or {})


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(float(value))
