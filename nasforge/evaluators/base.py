"""The Evaluator extension point: arch + fidelity + seed -> metrics dict.

Evaluators must be picklable (executors ship them to worker processes or Ray actors), so they keep
paths and settings and load heavy things (tables, datasets, torch) lazily on first use.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Sequence

from ..architecture import Architecture
from ..options import Component

if TYPE_CHECKING:
    from ..study.context import TrialContext


class Evaluator(Component, ABC):
    """Base class; ``fidelities`` lists the budgets this evaluator accepts (None = any)."""

    kind = "evaluator"
    name: str = "evaluator"
    #: the space (by name) this evaluator understands
    space_name: str = ""

    @abstractmethod
    def evaluate(
        self,
        arch: Architecture,
        fidelity: int | None,
        seed: int,
        context: "TrialContext | None" = None,
    ) -> dict[str, Any]:
        """Return metrics; raise (TrialFailed or anything) to have the trial recorded FAILED.

        ``context`` (None outside a study) takes intermediate reports, answers ``should_prune()``
        (raise TrialPruned then) and gives a per-trial ``checkpoint_dir``.
        """

    def metrics(self) -> Sequence[str]:
        """Names of the metrics ``evaluate`` returns (used to validate objectives up front)."""
        return ()

    def fidelities(self) -> Sequence[int] | None:
        """Allowed fidelities, or None when any positive integer budget is fine."""
        return None

    def default_fidelity(self) -> int | None:
        options = self.fidelities()
        return max(options) if options else None

    def prepare(self) -> None:
        """Load and check data up front, so a bad path fails before a study is created."""

    def describe(self) -> dict[str, Any]:
        """What the report shows about this evaluator (dataset, data path, ...)."""
        return {"evaluator": self.name}
