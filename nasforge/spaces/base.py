"""The SearchSpace extension point.

A space describes its members as a vector of genes (categorical / integer / float). Generic
operators (sampling, mutation, neighbourhoods, crossover, one-hot encoding) are derived from that
description, so a new space only has to say how genes map to a valid architecture and back.
Spaces are pure Python: no torch, no storage, no global RNG.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Sequence

import numpy as np

from ..architecture import Architecture, Categorical, Float, Gene, GeneValue, Integer, LabelledDAG
from ..errors import ArchitectureError
from ..options import Component

_MAX_RETRIES = 1000


class SearchSpace(Component, ABC):
    """Base class for search spaces; subclasses implement the four abstract methods."""

    kind = "space"
    name: str = "space"

    # --- what a subclass implements ------------------------------------------------------------

    @abstractmethod
    def genes(self) -> Sequence[Gene]:
        """The gene description generic strategies (Q-NAS, NSGA-II, ...) search over."""

    @abstractmethod
    def from_genes(self, values: Sequence[GeneValue]) -> Architecture:
        """Build the canonical architecture for gene values; ArchitectureError if invalid."""

    @abstractmethod
    def from_string(self, text: str) -> Architecture:
        """Parse the canonical (or an accepted equivalent) string; ArchitectureError if invalid."""

    def to_graph(self, arch: Architecture) -> LabelledDAG:
        """Labelled DAG for graph kernels and GNN encoders (spaces without one say so)."""
        raise ArchitectureError(f"space {self.name!r} has no graph form")

    # --- derived behaviour (override where a space knows better) -------------------------------

    def to_genes(self, arch: Architecture) -> tuple:
        self._check_space(arch)
        return arch.genes

    def to_string(self, arch: Architecture) -> str:
        self._check_space(arch)
        return arch.string

    def validate(self, arch: Architecture) -> None:
        """Raise ArchitectureError naming the bad part if ``arch`` is not a member."""
        self._check_space(arch)
        rebuilt = self.from_genes(arch.genes)
        if rebuilt.string != arch.string:
            raise ArchitectureError(
                f"architecture {arch.string!r} is not canonical in space {self.name!r} "
                f"(expected {rebuilt.string!r})"
            )

    def identity(self, arch: Architecture) -> str:
        """A key equal for architectures computing the same function (isomorphism-aware)."""
        return arch.string

    def size(self) -> int | None:
        """Number of gene vectors if all genes are categorical/integer, else None."""
        total = 1
        for gene in self.genes():
            if isinstance(gene, Categorical):
                total *= gene.size
            elif isinstance(gene, Integer):
                total *= gene.high - gene.low + 1
            else:
                return None
        return total

    def sample(self, rng: np.random.Generator) -> Architecture:
        for _ in range(_MAX_RETRIES):
            try:
                return self.from_genes([_sample_gene(g, rng) for g in self.genes()])
            except ArchitectureError:
                continue
        raise ArchitectureError(f"space {self.name!r}: no valid architecture in {_MAX_RETRIES} samples")

    #: if set, mutate changes one more gene after every this many failed attempts (for spaces
    #: where some members have no valid one-gene change); None keeps mutation to one gene
    mutation_widen_every: int | None = None

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """Change one gene (retrying until the result is valid and different).

        With :attr:`mutation_widen_every` set, the number of changed genes grows with misses.
        """
        values = list(self.to_genes(arch))
        genes = list(self.genes())
        for attempt in range(_MAX_RETRIES):
            count = 1 + attempt // self.mutation_widen_every if self.mutation_widen_every else 1
            if count == 1:
                indices = [int(rng.integers(len(genes)))]
            else:
                indices = rng.choice(len(genes), size=min(count, len(genes)), replace=False)
            candidate = list(values)
            for i in indices:
                candidate[i] = _perturb_gene(genes[i], values[i], rng)
            try:
                child = self.from_genes(candidate)
            except ArchitectureError:
                continue
            if child != arch:
                return child
        raise ArchitectureError(f"space {self.name!r}: could not mutate {arch.string!r}")

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """All valid architectures one categorical/integer gene step away, in a fixed order."""
        values = list(self.to_genes(arch))
        seen: dict[Architecture, None] = {}
        for i, gene in enumerate(self.genes()):
            if isinstance(gene, Categorical):
                options = [c for c in range(gene.size) if c != values[i]]
            elif isinstance(gene, Integer):
                options = [v for v in (values[i] - 1, values[i] + 1) if gene.low <= v <= gene.high]
            else:
                continue
            for option in options:
                candidate = list(values)
                candidate[i] = option
                try:
                    child = self.from_genes(candidate)
                except ArchitectureError:
                    continue
                if child != arch:
                    seen.setdefault(child, None)
        return list(seen)

    def crossover(self, a: Architecture, b: Architecture, rng: np.random.Generator) -> Architecture:
        """Uniform crossover on genes; falls back to ``a`` if no valid child is found."""
        va, vb = self.to_genes(a), self.to_genes(b)
        for _ in range(100):
            mask = rng.random(len(va)) < 0.5
            try:
                return self.from_genes([x if m else y for x, y, m in zip(va, vb, mask)])
            except ArchitectureError:
                continue
        return a

    def encode(self, arch: Architecture) -> np.ndarray:
        """Fixed-length vector: one-hot categorical genes, numeric genes scaled to [0, 1]."""
        parts: list[float] = []
        for gene, value in zip(self.genes(), self.to_genes(arch)):
            if isinstance(gene, Categorical):
                one_hot = [0.0] * gene.size
                one_hot[int(value)] = 1.0
                parts.extend(one_hot)
            else:
                parts.append(_unit(gene, float(value)))
        return np.asarray(parts, dtype=float)

    # --- helpers -----------------------------------------------------------------------------------

    def _make(self, string: str, genes: Sequence[GeneValue]) -> Architecture:
        return Architecture(self.name, string, tuple(genes))

    def _check_space(self, arch: Architecture) -> None:
        if not isinstance(arch, Architecture) or arch.space != self.name:
            got = arch.space if isinstance(arch, Architecture) else type(arch).__name__
            raise ArchitectureError(f"expected an architecture of space {self.name!r}, got {got!r}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _sample_gene(gene: Gene, rng: np.random.Generator) -> GeneValue:
    if isinstance(gene, Categorical):
        return int(rng.integers(gene.size))
    if isinstance(gene, Integer):
        return int(rng.integers(gene.low, gene.high + 1))
    if gene.log:
        return float(math.exp(rng.uniform(math.log(gene.low), math.log(gene.high))))
    return float(rng.uniform(gene.low, gene.high))


def _perturb_gene(gene: Gene, value: GeneValue, rng: np.random.Generator) -> GeneValue:
    if isinstance(gene, Categorical):
        if gene.size == 1:
            return value
        step = int(rng.integers(1, gene.size))
        return (int(value) + step) % gene.size
    if isinstance(gene, Integer):
        if gene.high == gene.low:
            return value
        return int(np.clip(int(value) + (1 if rng.random() < 0.5 else -1), gene.low, gene.high))
    unit = float(np.clip(_unit(gene, float(value)) + rng.normal(0.0, 0.1), 0.0, 1.0))
    return _from_unit(gene, unit)


def _unit(gene: Gene, value: float) -> float:
    if isinstance(gene, Categorical):
        return float(value) / max(gene.size - 1, 1)
    low, high = float(gene.low), float(gene.high)
    if isinstance(gene, Float) and gene.log:
        low, high, value = math.log(low), math.log(high), math.log(max(value, gene.low))
    return 0.0 if high == low else (value - low) / (high - low)


def _from_unit(gene: Gene, unit: float) -> GeneValue:
    """Inverse of the [0, 1] scaling, used by generic numeric operators (NSGA-II, Q-NAS)."""
    unit = min(max(unit, 0.0), 1.0)
    if isinstance(gene, Categorical):
        return min(int(unit * gene.size), gene.size - 1)
    if isinstance(gene, Integer):
        return int(round(gene.low + unit * (gene.high - gene.low)))
    if gene.log:
        return float(math.exp(math.log(gene.low) + unit * (math.log(gene.high) - math.log(gene.low))))
    return float(gene.low + unit * (gene.high - gene.low))


unit_of = _unit
from_unit = _from_unit
