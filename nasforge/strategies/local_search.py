"""Local search with random restarts (White et al., "Local search is state of the art for NAS").

A climb starts from the best of ``initial`` random architectures. Each step evaluates the whole
neighbourhood (``space.neighbours``) of the current architecture, in random order, and moves to the
best neighbour if it beats the current one (best improvement; ``first_improvement=True`` moves as
soon as one neighbour is better). At a local optimum the climb restarts from new random samples
(``restarts=True``); without restarts the strategy falls back to random search.

Evaluated architectures are remembered by ``space.identity``: a neighbour isomorphic to something
already evaluated is not asked again, its known score is used instead, which saves queries on
NB201 where many cells compute the same function. Asynchronous: ``ask`` hands out the rest of the
current neighbourhood and returns fewer (possibly none) while the step waits for its results;
failed trials count as the worst score. Only the first objective drives the climb.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..architecture import Architecture
from ..objectives import Objective
from ..options import Bool, Int, validated
from ..spaces.base import SearchSpace
from .base import Strategy
from .random import sample_unseen

_FAILED = float("-inf")


class LocalSearch(Strategy):
    name = "local_search"
    options = {"restarts": Bool(), "initial": Int(low=1), "first_improvement": Bool()}

    @validated
    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        objectives: Sequence[Objective] = (Objective("valid_accuracy", "max"),),
        restarts: bool = True,
        initial: int = 10,
        first_improvement: bool = False,
    ) -> None:
        super().__init__(space, seed, objectives)
        self.restarts = restarts
        self.initial = initial
        self.first_improvement = first_improvement
        self._scores: dict[str, float] = {}  # identity -> score of every told architecture
        self._asked: set[str] = set()  # identities asked (told or in flight)
        self._pending: list[str] = []  # arch strings asked, not told
        self._phase = "start"  # start -> starting -> climbing -> (local optimum) start | random
        self._round: list[str] = []  # the random starts or the neighbourhood being evaluated
        self._queue: list[str] = []  # members of the round not yet asked
        self._current: str | None = None
        self.local_optima: list[str] = []
        self._identities: dict[str, str] = {}  # arch string -> space.identity (a cache, not state)

    # --- ask / tell ------------------------------------------------------------------------------------

    def _ask(self, n: int) -> list[Architecture]:
        out: list[Architecture] = []
        while len(out) < n:
            self._advance()
            if self._queue:
                arch = self.space.from_string(self._queue.pop(0))
            elif self._phase == "random" or not self._pending:
                # random phase, or an exhausted space where nothing is left to wait for
                arch = sample_unseen(self.space, self.rng, self._asked)
            else:
                break  # the current step waits for results still in flight
            self._asked.add(self._identity(arch.string))
            self._pending.append(arch.string)
            out.append(arch)
        return out

    def _tell(self, arch: Architecture, values: list[float] | None) -> None:
        if arch.string in self._pending:
            self._pending.remove(arch.string)
        identity = self._identity(arch.string)
        self._asked.add(identity)
        self._scores[identity] = _FAILED if values is None else self.score(values)
        self._advance()

    # --- the climb -----------------------------------------------------------------------------------

    def _advance(self) -> None:
        """Move the state machine as far as known results allow (bounded: no endless loop)."""
        for _ in range(1000):
            if self._phase == "start":
                self._begin_round("starting", self._random_starts())
                continue
            if self._phase == "random" or not self._round_decidable():
                return
            best = max(self._round, key=self._score_of)
            if self._phase == "starting":
                self._move_to(best)
            elif self._score_of(best) > self._score_of(self._current):
                self._move_to(best)
            else:
                self.local_optima.append(self._current)
                self._phase = "start" if self.restarts else "random"
                self._round, self._queue = [], []

    def _round_decidable(self) -> bool:
        """All round members scored, or (first improvement) one scored member already beats current."""
        if self._phase == "climbing" and self.first_improvement:
            current = self._score_of(self._current)
            if any(self._known(s) and self._score_of(s) > current for s in self._round):
                return True
        return all(self._known(s) for s in self._round)

    def _move_to(self, arch_string: str) -> None:
        self._current = arch_string
        neighbours = self.space.neighbours(self.space.from_string(arch_string))
        order = self.rng.permutation(len(neighbours))
        self._begin_round("climbing", [neighbours[int(i)].string for i in order])

    def _begin_round(self, phase: str, members: list[str]) -> None:
        self._phase = phase
        self._round = members
        self._queue = []
        queued: set[str] = set()
        for s in members:
            identity = self._identity(s)
            if identity not in self._asked and identity not in queued:
                self._queue.append(s)
                queued.add(identity)

    def _random_starts(self) -> list[str]:
        starts: list[str] = []
        seen = set(self._asked)
        for _ in range(self.initial):
            arch = sample_unseen(self.space, self.rng, seen)
            seen.add(self._identity(arch.string))
            starts.append(arch.string)
        return starts

    def _identity(self, arch_string: str) -> str:
        key = self._identities.get(arch_string)
        if key is None:
            key = self._identities[arch_string] = self.space.identity(self.space.from_string(arch_string))
        return key

    def _known(self, arch_string: str) -> bool:
        return self._identity(arch_string) in self._scores

    def _score_of(self, arch_string: str | None) -> float:
        if arch_string is None:
            return _FAILED
        return self._scores.get(self._identity(arch_string), _FAILED)

    # --- state ---------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state.update(
            # -inf (failed) is stored as None: strict JSON has no infinities
            scores={k: (None if v == _FAILED else v) for k, v in sorted(self._scores.items())},
            asked=sorted(self._asked),
            pending=list(self._pending),
            phase=self._phase,
            round=list(self._round),
            queue=list(self._queue),
            current=self._current,
            local_optima=list(self.local_optima),
        )
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._scores = {k: (_FAILED if v is None else float(v)) for k, v in state["scores"].items()}
        self._asked = set(state["asked"])
        self._pending = list(state["pending"])
        self._phase = state["phase"]
        self._round = list(state["round"])
        self._queue = list(state["queue"])
        self._current = state["current"]
        self.local_optima = list(state["local_optima"])
