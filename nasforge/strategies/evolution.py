"""Regularized (aging) evolution, Real et al. 2019, in asynchronous ask/tell form.

Until ``population`` results (plus random proposals still in flight) fill the population, ``ask``
proposes uniform random architectures. After that each proposal is a mutation of a tournament
winner: ``sample_size`` members drawn without replacement, the best by the first objective wins,
and ``mutations`` single-gene mutations make the child. Every successful result joins the
population in completion order and the oldest member leaves ("aging"), so even a lucky early
architecture is eventually forgotten. Failed trials never join.

With several objectives only the first one drives selection (the others are recorded by the
study); use NSGA-II for Pareto search.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Sequence

from ..architecture import Architecture
from ..errors import ConfigError
from ..objectives import Objective
from ..options import Int, validated
from ..spaces.base import SearchSpace
from .base import Strategy


class RegularizedEvolution(Strategy):
    name = "evolution"
    options = {"population": Int(low=1), "sample_size": Int(low=1), "mutations": Int(low=1)}

    @validated
    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        objectives: Sequence[Objective] = (Objective("valid_accuracy", "max"),),
        population: int = 20,
        sample_size: int = 5,
        mutations: int = 1,
    ) -> None:
        super().__init__(space, seed, objectives)
        if sample_size > population:
            raise ConfigError(
                f"parameter sample_size of RegularizedEvolution must be <= population ({population}), got {sample_size}"
            )
        self.population_size = population
        self.sample_size = sample_size
        self.mutations = mutations
        self._population: deque[tuple[Architecture, float]] = deque()  # oldest first
        self._pending_random: list[str] = []  # random proposals not yet told

    def _ask_one(self) -> Architecture:
        if not self._population or len(self._population) + len(self._pending_random) < self.population_size:
            arch = self.space.sample(self.rng)
            self._pending_random.append(arch.string)
            return arch
        return self._child(self._tournament())

    def _tournament(self) -> Architecture:
        size = min(self.sample_size, len(self._population))
        picks = self.rng.choice(len(self._population), size=size, replace=False)
        # max() keeps the earliest drawn among equal scores, so ties stay seed-determined
        winner = max((int(i) for i in picks), key=lambda i: self._population[i][1])
        return self._population[winner][0]

    def _child(self, parent: Architecture) -> Architecture:
        child = parent
        for _ in range(self.mutations):
            child = self.space.mutate(child, self.rng)
        return child

    def _tell(self, arch: Architecture, values: list[float] | None) -> None:
        if arch.string in self._pending_random:
            self._pending_random.remove(arch.string)
        if values is None:
            return
        self._population.append((arch, self.score(values)))
        while len(self._population) > self.population_size:
            self._population.popleft()

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["population"] = [[arch.string, score] for arch, score in self._population]
        state["pending_random"] = list(self._pending_random)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._population = deque((self.space.from_string(s), float(v)) for s, v in state["population"])
        self._pending_random = list(state["pending_random"])

