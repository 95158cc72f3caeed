"""Trial records: what the store holds and the study reports."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class TrialState(str, enum.Enum):
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    PRUNED = "PRUNED"


@dataclass
class Trial:
    """One evaluation of one architecture at one fidelity with one seed."""

    number: int
    arch: str
    seed: int
    fidelity: int | None
    state: TrialState = TrialState.RUNNING
    values: list[float] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    started: float | None = None
    finished: float | None = None

    @property
    def duration(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "arch": self.arch,
            "seed": self.seed,
            "fidelity": self.fidelity,
            "state": self.state.value,
            "values": self.values,
            "metrics": self.metrics,
            "error": self.error,
            "duration": self.duration,
        }
