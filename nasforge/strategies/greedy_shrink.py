"""Greedy shrinking: from the base, repeatedly take the one-gene reduction that costs least accuracy
per parameter (or FLOP) saved, until every reduction costs more than ``tolerance``.

The first method of the reduction scheme sketched in ``wave2.md`` section 5 (a knapsack-style
coordinate descent). Each round proposes every one-step decrement of the current architecture (one
block fewer in a stage, the next smaller width or inner-width multiplier); the candidates of a
round can run in parallel, and the round is decided only when all of them are told, so the result
does not depend on the order results arrive in. The accepted change minimises
``max(accuracy lost, 0) / cost saved`` (changes that lose nothing are free, and among those the
largest saving wins); a change is accepted only while its accuracy stays within ``tolerance`` of
the base's, otherwise the search is ``finished``. Costs come from the space (``space.cost``),
so only the first objective (an accuracy, larger is better) has to be measured. Results are
cached by architecture, so nothing is trained twice.

Needs a space with ``base()`` and ``cost(arch)`` (the reduction space). A space budget
(``max_params_m``) stops the walk at the first change that would still be over it, so greedy
shrinking is best run without one (its tolerance is the stopping rule).
"""

from __future__ import annotations

from typing import Any, Sequence

from ..architecture import Architecture, Categorical, Integer
from ..errors import ArchitectureError, ConfigError
from ..objectives import Objective
from ..options import Choice, Float, validated
from ..spaces.base import SearchSpace
from .base import Strategy

COST_METRICS = ("params_m", "flops_m")


class GreedyShrink(Strategy):
    """See module doc. Options: ``tolerance`` (objective units, e.g. accuracy points),
    ``cost_metric`` (``params_m`` or ``flops_m``)."""

    name = "greedy_shrink"
    options = {"tolerance": Float(low=0), "cost_metric": Choice(*COST_METRICS)}

    @validated
    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        objectives: Sequence[Objective] = (Objective("valid_accuracy", "max"),),
        tolerance: float = 1.0,
        cost_metric: str = "params_m",
    ) -> None:
        super().__init__(space, seed, objectives)
        if not hasattr(space, "cost") or not hasattr(space, "base"):
            raise ConfigError(f"strategy greedy_shrink needs a space with base() and cost() (reduction), got {space.name!r}")
        self.tolerance = tolerance
        self.cost_metric = cost_metric
        self.finished = False
        self._results: dict[str, float | None] = {}  # every told architecture -> score (None = failed)
        self._pending: set[str] = set()
        self._current: str | None = None  # accepted architecture (starts at the base once told)
        self._reference: float | None = None  # the base's score
        self._round: list[str] = []  # candidates of the current round
        self.path: list[str] = []  # accepted architectures, base first

    # --- ask ---------------------------------------------------------------------------------------

    def _ask(self, n: int) -> list[Architecture]:
        if self.finished:
            return []
        if self._current is None:
            base = self.space.base()
            if base.string in self._pending or base.string in self._results:
                return []
            self._pending.add(base.string)
            return [base]
        out = []
        for string in self._round:
            if len(out) >= n:
                break
            if string not in self._pending and string not in self._results:
                self._pending.add(string)
                out.append(self.space.from_string(string))
        return out

    def _candidates(self, arch: Architecture) -> list[str]:
        """Every valid one-step decrement of ``arch``, in gene order."""
        values = list(self.space.to_genes(arch))
        out: list[str] = []
        for i, gene in enumerate(self.space.genes()):
            low = gene.low if isinstance(gene, Integer) else 0
            if not isinstance(gene, (Integer, Categorical)) or values[i] <= low:
                continue
            child = list(values)
            child[i] -= 1
            try:
                string = self.space.from_genes(child).string
            except ArchitectureError:
                continue
            if string not in out:
                out.append(string)
        return out

    # --- tell --------------------------------------------------------------------------------------

    def _tell(self, arch: Architecture, values: list[float] | None) -> None:
        self._pending.discard(arch.string)
        self._results[arch.string] = None if values is None else self.score(values)
        if self.finished:
            return
        if self._current is None:
            if arch.string != self.space.base().string:
                return
            if values is None:
                self.finished = True  # no reference: nothing can be judged against the base
                return
            self._reference = self._results[arch.string]
            self._accept(arch.string)
            return
        if all(s in self._results for s in self._round):
            self._decide()

    def _accept(self, string: str) -> None:
        self._current = string
        self.path.append(string)
        self._round = self._candidates(self.space.from_string(string))
        if not self._round:
            self.finished = True
        elif all(s in self._results for s in self._round):
            self._decide()

    def _decide(self) -> None:
        current = self.space.from_string(self._current)
        score, cost = self._results[self._current], self.space.cost(current)[self.cost_metric]
        best_key, best = None, None
        for string in self._round:
            value = self._results[string]
            if value is None or value < self._reference - self.tolerance:
                continue
            saved = cost - self.space.cost(self.space.from_string(string))[self.cost_metric]
            if saved <= 0:
                continue
            key = (max(score - value, 0.0) / saved, -saved, string)
            if best_key is None or key < best_key:
                best_key, best = key, string
        if best is None:
            self.finished = True
        else:
            self._accept(best)

    # --- state -------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state.update(results=dict(self._results), pending=sorted(self._pending), current=self._current,
                     reference=self._reference, round=list(self._round), path=list(self.path),
                     finished=self.finished)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._results = {k: (None if v is None else float(v)) for k, v in state["results"].items()}
        self._pending = set(state["pending"])
        self._current, self._reference = state["current"], state["reference"]
        self._round, self.path = list(state["round"]), list(state["path"])
        self.finished = bool(state["finished"])
