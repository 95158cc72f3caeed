"""ENAS-S's genetic algorithm (Du et al.; dxc33linger/NAS_Feb2020 ``search_EA.py``), generational.

Each generation of ``population`` individuals is evaluated; then the next generation is drawn
by roulette-wheel selection (probability proportional to fitness, no elitism), uniform crossover
with a uniformly drawn mate at probability ``crossover_rate``, and per-gene mutation (every gene
redrawn uniformly with probability ``mutation_rate``). The first generation comes from
``space.sample`` (the ENAS-S space repeats module 0's genes there). With the ``continual``
evaluator in task-0 mode the objective is ``stability_fitness:max`` (ENAS-S) or
``valid_accuracy:max`` (the accuracy-only ablation); both are validation numbers.

Asks hand out the current generation in order; when it is exhausted while results are pending,
``ask`` returns fewer (possibly none) until the last result arrives. Failed individuals get
fitness 0. ``finished`` turns true after ``generations`` generations. The whole state (generation,
results so far, RNG) is JSON, so a killed search resumes exactly.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..architecture import Architecture, Categorical, Float, Gene, GeneValue, Integer
from ..errors import ArchitectureError
from ..objectives import Objective
from ..options import Float as FloatOption
from ..options import Int, validated
from ..spaces.base import SearchSpace
from .base import Strategy

RETRIES = 50


class ENASS(Strategy):
    name = "enas_s"
    options = {"population": Int(low=2), "generations": Int(low=1),
               "crossover_rate": FloatOption(low=0.0, high=1.0), "mutation_rate": FloatOption(low=0.0, high=1.0)}

    @validated
    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        objectives: Sequence[Objective] = (Objective("stability_fitness", "max"),),
        population: int = 10,
        generations: int = 6,
        crossover_rate: float = 0.6,
        mutation_rate: float = 0.05,
    ) -> None:
        super().__init__(space, seed, objectives)
        self.population, self.generations = population, generations
        self.crossover_rate, self.mutation_rate = crossover_rate, mutation_rate
        self.generation = 0
        self._members: list[str] = []
        self._fitness: list[float | None] = []
        self._asked = 0
        self._new_generation([self.space.sample(self.rng).string for _ in range(self.population)])

    @property
    def finished(self) -> bool:
        return self.generation >= self.generations

    def _new_generation(self, members: list[str]) -> None:
        self._members, self._fitness, self._asked = members, [None] * len(members), 0

    def _ask(self, n: int) -> list[Architecture]:
        if self.finished:
            return []
        take = self._members[self._asked : self._asked + n]
        self._asked += len(take)
        return [self.space.from_string(s) for s in take]

    def _tell(self, arch: Architecture, values: list[float] | None) -> None:
        for i in range(self._asked):
            if self._members[i] == arch.string and self._fitness[i] is None:
                value = self.score(values)
                self._fitness[i] = value if math.isfinite(value) else float("-inf")
                break
        else:
            return  # not of this generation (e.g. a stale retry): ignore
        if self._asked == len(self._members) and all(f is not None for f in self._fitness):
            self.generation += 1
            if not self.finished:
                self._new_generation(self._breed())

    # --- operators -----------------------------------------------------------------------------

    def _breed(self) -> list[str]:
        members = [self.space.from_string(s) for s in self._members]
        weights = self._roulette_weights()
        children = []
        for _ in range(self.population):
            parent = members[int(self.rng.choice(len(members), p=weights))]
            if self.rng.random() < self.crossover_rate:
                mate = members[int(self.rng.integers(len(members)))]
                parent = self.space.crossover(parent, mate, self.rng)
            children.append(self._mutate(parent).string)
        return children

    def _roulette_weights(self) -> np.ndarray:
        """Selection probabilities proportional to fitness (failures 0; shifted if any is < 0)."""
        raw = np.array([-math.inf if f is None else f for f in self._fitness], dtype=float)
        ok = np.isfinite(raw)
        if not ok.any():
            return np.full(len(raw), 1.0 / len(raw))
        low = raw[ok].min()
        w = np.where(ok, raw - min(low, 0.0), 0.0)
        if w.sum() <= 0:
            w = ok.astype(float)
        return w / w.sum()

    def _mutate(self, arch: Architecture) -> Architecture:
        genes = list(self.space.genes())
        values = list(self.space.to_genes(arch))
        for _ in range(RETRIES):
            candidate = [_draw(g, self.rng) if self.rng.random() < self.mutation_rate else v
                         for g, v in zip(genes, values)]
            try:
                return self.space.from_genes(candidate)
            except ArchitectureError:
                continue
        return arch

    # --- state ---------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "generation": self.generation, "members": list(self._members),
                "fitness": [None if f is None else (f if math.isfinite(f) else "-inf") for f in self._fitness],
                "asked": self._asked}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.generation = int(state["generation"])
        self._members = list(state["members"])
        self._fitness = [None if f is None else float(f) for f in state["fitness"]]
        self._asked = int(state["asked"])


def _draw(gene: Gene, rng: np.random.Generator) -> GeneValue:
    """A uniform draw of one gene (ENAS-S redraws a mutated gene, it does not step it)."""
    if isinstance(gene, Categorical):
        return int(rng.integers(gene.size))
    if isinstance(gene, Integer):
        return int(rng.integers(gene.low, gene.high + 1))
    assert isinstance(gene, Float)
    if gene.log:
        return float(math.exp(rng.uniform(math.log(gene.low), math.log(gene.high))))
    return float(rng.uniform(gene.low, gene.high))

