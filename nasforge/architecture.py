"""Architectures as immutable values, and the gene / graph descriptions spaces expose.

An :class:`Architecture` is what flows through the whole library: strategies propose them,
evaluators consume them, the store records their canonical string. Its meaning belongs to the
space named in ``space``; the architecture itself is only a hashable value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence, Union

GeneValue = Union[int, float, str]


@dataclass(frozen=True)
class Architecture:
    """A member of a search space.

    ``string`` is the canonical, human-readable form (equality and hashing use it together with
    ``space``); ``genes`` is the decoded tuple the space works with, cached so that spaces do not
    re-parse strings in hot loops.
    """

    space: str
    string: str
    genes: tuple = field(compare=False, hash=False, repr=False)

    def __str__(self) -> str:
        return self.string

    def to_json(self) -> str:
        return json.dumps({"space": self.space, "arch": self.string})

    @staticmethod
    def from_json(text: str, space: "Any") -> "Architecture":
        """Rebuild from :meth:`to_json` with the given space (which validates the string)."""
        data = json.loads(text)
        if data.get("space") != space.name:
            from .errors import ArchitectureError

            raise ArchitectureError(
                f"architecture belongs to space {data.get('space')!r}, not {space.name!r}"
            )
        return space.from_string(data["arch"])


# --- gene descriptions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Categorical:
    """A gene taking one of ``choices`` (stored as the index into ``choices``)."""

    name: str
    choices: tuple

    @property
    def size(self) -> int:
        return len(self.choices)


@dataclass(frozen=True)
class Integer:
    """An integer gene in ``[low, high]`` inclusive."""

    name: str
    low: int
    high: int


@dataclass(frozen=True)
class Float:
    """A real gene in ``[low, high]``; ``log`` marks genes best searched on a log scale."""

    name: str
    low: float
    high: float
    log: bool = False


Gene = Union[Categorical, Integer, Float]


# --- graph form --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelledDAG:
    """A directed acyclic graph with one string label per node, in topological order.

    Node 0 is the input and the last node the output; graph kernels and GNN encoders use this form.
    """

    labels: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]

    def __hash__(self) -> int:
        # computed once: kernels look graphs up in dicts ~10^5 times per BO run
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((self.labels, self.edges))
            object.__setattr__(self, "_hash", cached)
        return cached

    def __getstate__(self) -> dict:
        # string hashes differ between processes: never ship the cached one
        return {"labels": self.labels, "edges": self.edges}

    def __setstate__(self, state: dict) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)

    def adjacency(self) -> "list[list[int]]":
        n = len(self.labels)
        matrix = [[0] * n for _ in range(n)]
        for src, dst in self.edges:
            matrix[src][dst] = 1
        return matrix


def genes_to_list(values: Sequence[GeneValue]) -> list[GeneValue]:
    """Gene values as plain Python scalars (numpy scalars do not JSON-serialise)."""
    out: list[GeneValue] = []
    for v in values:
        if hasattr(v, "item"):
            v = v.item()
        out.append(v)
    return out
