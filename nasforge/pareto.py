"""Pareto dominance for everyone: ranks and crowding (strategies), constraints, fronts and
normalised hypervolume (strategies, reports, benchmarks). It sits below both ``strategies/`` and
``report/`` so neither imports the other.

Ranking: thin wrappers over pymoo's non-dominated sorting and crowding distance, so every strategy
ranks populations the same way (pymoo is imported inside the functions). ``values`` holds raw
objective values (rows = candidates, columns = objectives); rows with a NaN or infinite entry
(failed trials) are dominated by everything: worst rank, zero crowding.


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

from .errors import ConfigError
from .objectives import DIRECTIONS, Objective, parse_objectives
from .trial import Trial, TrialState

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
    reference = reference_point(ref, len(objectives))
    if len(points) == 0:
        return 0.0
    unit = normalise(points, objectives, bounds_array(objectives, bounds, points))
    inside = np.all(unit < reference, axis=1)
    if not inside.any():
        return 0.0
    return float(HV(ref_point=reference)(unit[inside]))


def reference_point(ref: Sequence[float] | None, m: int) -> np.ndarray:
    if ref is None:
        return np.full(m, DEFAULT_REF)
    reference = np.asarray(ref, dtype=float).ravel()
    if reference.shape != (m,) or not np.all(np.isfinite(reference)):
        raise ConfigError(f"reference point needs {m} finite coordinates, got {list(ref)!r}")
    return reference


def _metrics_of(trial: Trial) -> dict[str, Any]:
    return dict(trial.metrics or {})


# --- ranking and crowding (NSGA-II, Q-NAS, Pareto local search) ---------------------------------
#: diversity measures pymoo offers for ranking within a front
CROWDING = ("cd", "pcd", "ce", "mnn", "2nn")


def directions_of(objectives: Sequence[Objective | str]) -> list[str]:
    """Directions from Objective objects or plain 'max' / 'min' strings."""
    out = []
    for objective in objectives:
        direction = objective.direction if isinstance(objective, Objective) else str(objective)
        if direction not in DIRECTIONS:
            raise ConfigError(f"objective direction must be one of {DIRECTIONS}, got {direction!r}")
        out.append(direction)
    return out


def to_minimisation(values: np.ndarray, objectives: Sequence[Objective | str]) -> np.ndarray:
    """Flip 'max' columns so that smaller is better everywhere (what pymoo expects)."""
    array = np.asarray(values, dtype=float)
    if array.ndim == 1:
        array = array.reshape(-1, 1) if len(objectives) == 1 else array.reshape(1, -1)
    directions = directions_of(objectives)
    if array.shape[1] != len(directions):
        raise ConfigError(
            f"values have {array.shape[1]} columns but {len(directions)} objectives were given"
        )
    signs = np.array([-1.0 if d == "max" else 1.0 for d in directions])
    return array * signs


def pareto_ranks(values: np.ndarray, objectives: Sequence[Objective | str]) -> np.ndarray:
    """Front index per row (0 = non-dominated); non-finite rows get the worst rank."""
    return rank_and_crowding(values, objectives)[0]


def nondominated_mask(values: np.ndarray, objectives: Sequence[Objective | str]) -> np.ndarray:
    """True for rows no other finite row dominates (non-finite rows are never on the front)."""
    return pareto_ranks(values, objectives) == 0


def rank_and_crowding(
    values: np.ndarray, objectives: Sequence[Objective | str], crowding: str = "cd"
) -> tuple[np.ndarray, np.ndarray]:
    """Pareto rank (int, 0 = best front) and crowding distance (float, larger = lonelier).

    Crowding follows NSGA-II (Deb et al. 2002) as pymoo computes it: per front, normalised by the
    front's range in each objective; the extremes of a front get ``inf``, as do fronts of <= 2.
    ``crowding`` names another pymoo diversity measure: 'pcd' (pruning crowding distance), 'ce'
    (crowding entropy), 'mnn' / '2nn' (nearest-neighbour based).
    """
    if crowding not in CROWDING:
        raise ConfigError(f"crowding must be one of {CROWDING}, got {crowding!r}")
    from pymoo.operators.survival.rank_and_crowding.metrics import get_crowding_function
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    F = to_minimisation(values, objectives)
    n = F.shape[0]
    ranks = np.zeros(n, dtype=int)
    distance = np.zeros(n, dtype=float)
    if n == 0:
        return ranks, distance
    finite = np.all(np.isfinite(F), axis=1)
    index = np.flatnonzero(finite)
    worst = 0
    if index.size:
        fronts = NonDominatedSorting().do(F[index])
        crowd = get_crowding_function(crowding)
        for r, front in enumerate(fronts):
            members = index[front]
            ranks[members] = r
            distance[members] = crowd.do(F[members])
        worst = len(fronts)
    ranks[~finite] = worst
    distance[~finite] = 0.0
    return ranks, distance


def selection_order(ranks: np.ndarray, crowding: np.ndarray) -> np.ndarray:
    """Indices best-first: lower rank, then larger crowding (ties keep their input order)."""
    return np.lexsort((-np.asarray(crowding, dtype=float), np.asarray(ranks)))
