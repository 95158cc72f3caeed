"""Named objectives with directions, and how metric dicts become objective value vectors."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from .errors import ConfigError

DIRECTIONS = ("max", "min")

# Metric names carry their unit (params_m, flops_m: millions; latency_ms: milliseconds). Hardware
# metrics of the NB201 tables keep the HW-NAS-Bench column names (edgegpu_latency is in ms,
# edgegpu_energy in mJ); objectives, constraints and reports spell a metric exactly as the
# evaluator returns it. Old unit-less names are refused with a pointer to the new one.
RENAMED = {"params": "params_m", "flops": "flops_m", "latency": "latency_ms"}

# Metrics whose direction is obvious; anything else must be given as "name:max" / "name:min".
DEFAULT_DIRECTIONS = {
    "valid_accuracy": "max",
    "test_accuracy": "max",
    "train_accuracy": "max",
    "valid_loss": "min",
    "test_loss": "min",
    "train_loss": "min",
    "params_m": "min",
    "flops_m": "min",
    "latency_ms": "min",
    "energy": "min",
    "boo": "min",
    "boo_per_param": "min",
    "train_time": "min",
    "dice": "max",
}


@dataclass(frozen=True)
class Objective:
    """A metric to optimise: ``name`` is a key of the evaluator's metric dict."""

    name: str
    direction: str = "max"

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ConfigError(
                f"objective {self.name!r}: direction must be one of {DIRECTIONS}, got {self.direction!r}"
            )

    @property
    def sign(self) -> float:
        """+1 for max, -1 for min: ``sign * value`` is always 'larger is better'."""
        return 1.0 if self.direction == "max" else -1.0

    def __str__(self) -> str:
        return f"{self.name}:{self.direction}"

    @staticmethod
    def parse(text: str) -> "Objective":
        """Parse ``name`` or ``name:max|min``."""
        name, _, direction = str(text).strip().partition(":")
        if not name:
            raise ConfigError(f"objective {text!r} is empty; use 'metric' or 'metric:max|min'")
        if name in RENAMED:
            raise ConfigError(unknown_metric(name))
        if not direction:
            direction = _default_direction(name)
            if direction is None:
                raise ConfigError(
                    f"objective {name!r} needs a direction: write '{name}:max' or '{name}:min'"
                )
        return Objective(name, direction)


def _default_direction(name: str) -> str | None:
    if name in DEFAULT_DIRECTIONS:
        return DEFAULT_DIRECTIONS[name]
    for suffix in ("latency", "latency_ms", "energy", "params_m", "flops_m"):
        if name.endswith(suffix):
            return "min"
    if name.endswith("accuracy"):
        return "max"
    return None


def unknown_metric(name: str, known: Iterable[str] = (), what: str = "metric", where: str = "") -> str:
    """One line for a metric nobody produces, suggesting the renamed or closest existing name."""
    import difflib

    known = list(known)
    if name in RENAMED and (not known or RENAMED[name] in known):
        guess = [RENAMED[name]]
    else:
        guess = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {guess[0]!r}?" if guess else ""
    listing = f" (available: {', '.join(known)})" if known else ""
    return f"unknown {what} {name!r}{where}{listing}{hint}"


def parse_objectives(items: Iterable[str | Objective]) -> list[Objective]:
    objectives = [o if isinstance(o, Objective) else Objective.parse(o) for o in items]
    if not objectives:
        raise ConfigError("at least one objective is needed, e.g. 'valid_accuracy:max'")
    names = [o.name for o in objectives]
    if len(set(names)) != len(names):
        raise ConfigError(f"objectives must be distinct, got {names}")
    return objectives


def values_of(metrics: Mapping[str, float], objectives: Sequence[Objective]) -> list[float]:
    """Objective values in order; a missing or non-finite value is an error the study records."""
    values = []
    for objective in objectives:
        if objective.name not in metrics:
            raise KeyError(
                f"evaluator returned no metric {objective.name!r}; it returned {sorted(metrics)}"
            )
        raw = metrics[objective.name]
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"metric {objective.name!r} is {raw!r}, not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"metric {objective.name!r} is {value}")
        values.append(value)
    return values
