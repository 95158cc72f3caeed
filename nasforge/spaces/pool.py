"""Pool mode: a space restricted to a fixed set of architectures (those a partial table holds).

Wrapping the space, rather than teaching each strategy about pools, gives every strategy pool mode
for free: sampling draws pool members, mutation and neighbourhoods move to the nearest pool members
(Hamming distance on genes), and gene vectors from generic operators (crossover, Q-NAS, NSGA-II)
are projected onto the nearest member. Architectures keep the wrapped space's name, so evaluators
and stores see ordinary members of that space.

Typical use with a partial NB101 table::

    evaluator = NB101Tabular(NB101Space())
    space = PoolSpace(evaluator.space, evaluator.pool())

From a config or the CLI, the registered space ``nb101-pool`` builds exactly that (with the
``nb101`` evaluator): ``nasforge search --space nb101-pool --evaluator nb101 --strategy bo``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..architecture import Architecture, Gene, GeneValue, LabelledDAG
from ..errors import ArchitectureError, ConfigError
from .base import SearchSpace


class PoolSpace(SearchSpace):
    """``space`` restricted to ``pool`` (deduplicated by identity); ``k`` = mutation neighbourhood."""

    def __init__(self, space: SearchSpace, pool: Sequence[Architecture], k: int = 8) -> None:
        if not isinstance(space, SearchSpace):
            raise ConfigError(f"parameter space of PoolSpace must be a SearchSpace, got {type(space).__name__}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"parameter k of PoolSpace must be a positive integer, got {k!r}")
        self.base = space
        self.name = space.name
        self.k = k
        members: dict[str, Architecture] = {}
        for arch in pool:
            space.validate(arch)
            members.setdefault(space.identity(arch), arch)
        if not members:
            raise ConfigError("parameter pool of PoolSpace must hold at least one architecture, got none")
        self._members = list(members.values())
        self._index = {key: i for i, key in enumerate(members)}
        self._genes = np.array([[float(v) for v in space.to_genes(a)] for a in self._members])

    # --- the pool ----------------------------------------------------------------------------------

    def members(self) -> list[Architecture]:
        return list(self._members)

    def __contains__(self, arch: Architecture) -> bool:
        return arch.space == self.name and self.base.identity(arch) in self._index

    def _position(self, arch: Architecture) -> int:
        self._check_space(arch)
        position = self._index.get(self.base.identity(arch))
        if position is None:
            raise ArchitectureError(f"architecture {arch.string!r} is not in the pool of {len(self)} architectures")
        return position

    def _nearest(self, values: Sequence[float], exclude: int | None = None, count: int = 1) -> list[int]:
        distance = (self._genes != np.asarray(values, dtype=float)).sum(axis=1).astype(float)
        if exclude is not None:
            distance[exclude] = np.inf
        order = np.argsort(distance, kind="stable")
        return [int(i) for i in order[:count] if np.isfinite(distance[i])]

    def __len__(self) -> int:
        return len(self._members)

    # --- SearchSpace ----------------------------------------------------------------------------

    def genes(self) -> Sequence[Gene]:
        return self.base.genes()

    def from_genes(self, values: Sequence[GeneValue]) -> Architecture:
        """The member with these genes, else the nearest member (a projection, never an error)."""
        if len(values) != len(self.base.genes()):
            raise ArchitectureError(f"{self.name} pool needs {len(self.base.genes())} gene values, got {len(values)}")
        try:
            arch = self.base.from_genes(values)
            position = self._index.get(self.base.identity(arch))
        except ArchitectureError:
            position = None
        if position is None:
            position = self._nearest([float(v) for v in values])[0]
        return self._members[position]

    def from_string(self, text: str) -> Architecture:
        return self._members[self._position(self.base.from_string(text))]

    def validate(self, arch: Architecture) -> None:
        self.base.validate(arch)
        if self._members[self._position(arch)] != arch:
            raise ArchitectureError(f"architecture {arch.string!r} is in the pool under another form")

    def identity(self, arch: Architecture) -> str:
        return self.base.identity(arch)

    def to_graph(self, arch: Architecture, **options: object) -> LabelledDAG:
        return self.base.to_graph(arch, **options)

    def encode(self, arch: Architecture) -> np.ndarray:
        return self.base.encode(arch)

    def size(self) -> int:
        return len(self._members)

    def sample(self, rng: np.random.Generator) -> Architecture:
        return self._members[int(rng.integers(len(self._members)))]

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """A random member among the ``k`` nearest others (pool stand-in for a one-gene change)."""
        options = self.neighbours(arch)
        if not options:
            raise ArchitectureError(f"pool of {len(self)} architecture(s) has nothing to mutate {arch.string!r} into")
        return options[int(rng.integers(len(options)))]

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        position = self._position(arch)
        return [self._members[i] for i in self._nearest(self._genes[position], exclude=position, count=self.k)]

    def __repr__(self) -> str:
        return f"PoolSpace({self.base!r}, {len(self)} architectures)"


def nb101_pool(path: str | None = None, data_dir: str | None = None, k: int = 8) -> PoolSpace:
    """The NB101 space restricted to the cells of an NB101 table (default: the 500-row sample).

    Registered as space ``nb101-pool``; pair it with evaluator ``nb101`` given the same table.
    """
    from .nb101 import NB101Space
    from .nb101_table import nb101_table_path, read_nb101_table

    space = NB101Space()
    _, members = read_nb101_table(nb101_table_path(path, data_dir), space)
    return PoolSpace(space, members, k=k)
