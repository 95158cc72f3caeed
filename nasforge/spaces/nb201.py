"""The NAS-Bench-201 cell space (= NATS-Bench topology space): 6 edges x 5 operations.

A cell has 4 nodes; node j sums one operation applied to every earlier node i (edge ``j<-i``).
Genes are the 6 edges in the order of the official string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``.

The official benchmark index is not a lexicographic rank: NB201 enumerated all 5**6 cells
lexicographically (edge ``1<-0`` most significant, ops in :data:`OPS` order) and then shuffled
that list with Python's Mersenne Twister seeded with 88. We rebuild the same permutation from that
rule (a private ``random.Random(88)``, not the global RNG), so ``index``/``from_index`` need no table;
the tests check the rule against all 15,625 rows of the published table.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import Sequence

import numpy as np

from ..architecture import Architecture, Categorical, GeneValue, LabelledDAG
from ..errors import ArchitectureError, ConfigError
from ..validation import is_integer
from .base import SearchSpace

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: (target node, source node) of each gene, in official string order
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
EDGE_NAMES: tuple[str, ...] = tuple(f"{dst}<-{src}" for dst, src in EDGES)
NUM_ARCHS = len(OPS) ** len(EDGES)  # 15,625
_OFFICIAL_SHUFFLE_SEED = 88


@lru_cache(maxsize=1)
def _official_order() -> tuple[np.ndarray, np.ndarray]:
    """(rank of official index i, official index of rank r); rank = base-5 number of the genes."""
    ranks = list(range(NUM_ARCHS))
    random.Random(_OFFICIAL_SHUFFLE_SEED).shuffle(ranks)
    rank_of_index = np.asarray(ranks, dtype=np.int64)
    index_of_rank = np.empty(NUM_ARCHS, dtype=np.int64)
    index_of_rank[rank_of_index] = np.arange(NUM_ARCHS)
    rank_of_index.setflags(write=False)
    index_of_rank.setflags(write=False)
    return rank_of_index, index_of_rank


def _rank(genes: Sequence[int]) -> int:
    value = 0
    for g in genes:
        value = value * len(OPS) + int(g)
    return value


def _genes_of_rank(rank: int) -> tuple[int, ...]:
    digits = []
    for _ in EDGES:
        rank, digit = divmod(rank, len(OPS))
        digits.append(digit)
    return tuple(reversed(digits))


class NB201Space(SearchSpace):
    """NAS-Bench-201: 15,625 cells, 6,466 distinct up to the benchmark's isomorphism rule."""

    name = "nb201"

    def __init__(self) -> None:
        self._genes = tuple(Categorical(edge, OPS) for edge in EDGE_NAMES)

    # --- genes and strings -------------------------------------------------------------------

    def genes(self) -> Sequence[Categorical]:
        return self._genes

    def from_genes(self, values: Sequence[GeneValue]) -> Architecture:
        if len(values) != len(EDGES):
            raise ArchitectureError(
                f"nb201 needs {len(EDGES)} gene values (edges {', '.join(EDGE_NAMES)}), got {len(values)}"
            )
        genes = []
        for edge, value in zip(EDGE_NAMES, values):
            if not is_integer(value) or not 0 <= value < len(OPS):
                raise ArchitectureError(
                    f"nb201 edge {edge}: gene must be an op index in 0..{len(OPS) - 1}, got {value!r}"
                )
            genes.append(int(value))
        return self._make(_format(genes), genes)

    def from_string(self, text: str) -> Architecture:
        return self.from_genes(_parse(text))

    def from_ops(self, ops: Sequence[str]) -> Architecture:
        """Build from 6 op names in edge order (``1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2``)."""
        if len(ops) != len(EDGES):
            raise ArchitectureError(f"nb201 needs {len(EDGES)} ops (edges {', '.join(EDGE_NAMES)}), got {len(ops)}")
        genes = []
        for edge, op in zip(EDGE_NAMES, ops):
            if op not in OPS:
                raise ArchitectureError(f"nb201 edge {edge}: unknown op {op!r}; allowed: {', '.join(OPS)}")
            genes.append(OPS.index(op))
        return self.from_genes(genes)

    def ops(self, arch: Architecture) -> tuple[str, ...]:
        return tuple(OPS[g] for g in self.to_genes(arch))

    # --- the official index ----------------------------------------------------------------------

    def index(self, arch: Architecture) -> int:
        """The NAS-Bench-201 index (0..15624) of ``arch``."""
        return int(_official_order()[1][_rank(self.to_genes(arch))])

    def from_index(self, index: int) -> Architecture:
        if not is_integer(index) or not 0 <= index < NUM_ARCHS:
            raise ArchitectureError(f"nb201 index must be an integer in 0..{NUM_ARCHS - 1}, got {index!r}")
        return self.from_genes(_genes_of_rank(int(_official_order()[0][index])))

    # --- identity, graph ---------------------------------------------------------------------------

    def identity(self, arch: Architecture) -> str:
        """NB201's isomorphism key: the output written as a sum of op applications.

        Each node is the sorted sum of its incoming terms: ``skip_connect`` passes the source
        expression through, ``none`` (or any op applied to a node that is only zero) contributes
        ``#``, any other op writes ``(source)@op``. This reproduces the benchmark's
        ``isomorphism_key`` column exactly (6,466 classes); as in NB201, a skip into a sum is kept
        as one nested term, so a few functionally equal cells keep distinct keys.
        """
        exprs = ["0"]
        ops = self.ops(arch)
        for node in (1, 2, 3):
            terms = []
            for (dst, src), op in zip(EDGES, ops):
                if dst != node:
                    continue
                source = exprs[src]
                if op == "none" or source == "#":
                    terms.append("#")
                elif op == "skip_connect":
                    terms.append(source)
                else:
                    terms.append(f"({source})@{op}")
            exprs.append("+".join(sorted(terms)))
        return exprs[3]

    def to_graph(self, arch: Architecture, prune: bool = False) -> LabelledDAG:
        """Op-as-node DAG: ``input``, one node per edge labelled with its op, ``output``.

        An edge node ``j<-i`` reads what arrives at cell node i (the input, or the edge nodes
        ending at i) and feeds the edge nodes leaving cell node j (or the output when j is 3).
        The 8-node form is fixed-size (GNN friendly); ``prune=True`` drops ``none`` nodes, which
        carry nothing, for graph kernels that should only see the computation.
        """
        if not isinstance(prune, bool):
            raise ConfigError(f"parameter prune of NB201Space.to_graph must be a bool, got {prune!r}")
        ops = self.ops(arch)
        keep = [not (prune and op == "none") for op in ops]
        node_of_edge: dict[int, int] = {}
        labels = ["input"]
        for e, op in enumerate(ops):
            if keep[e]:
                node_of_edge[e] = len(labels)
                labels.append(op)
        output = len(labels)
        labels.append("output")
        edges = []
        for e, (dst, src) in enumerate(EDGES):
            if e not in node_of_edge:
                continue
            node = node_of_edge[e]
            if src == 0:
                edges.append((0, node))
            else:
                edges.extend((node_of_edge[f], node) for f, (d, _) in enumerate(EDGES) if d == src and f in node_of_edge)
            if dst == 3:
                edges.append((node, output))
        return LabelledDAG(tuple(labels), tuple(sorted(edges)))

    def size(self) -> int:
        return NUM_ARCHS

    def __repr__(self) -> str:
        return "NB201Space()"


def _format(genes: Sequence[int]) -> str:
    cells = []
    position = 0
    for node in (1, 2, 3):
        parts = []
        for src in range(node):
            parts.append(f"{OPS[genes[position]]}~{src}")
            position += 1
        cells.append("|" + "|".join(parts) + "|")
    return "+".join(cells)


def _parse(text: str) -> list[int]:
    """Gene values of an NB201 string, with one-line errors that name the bad part."""
    example = "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|"
    if not isinstance(text, str):
        raise ArchitectureError(f"nb201 architecture must be a string like {example}, got {type(text).__name__}")
    stripped = text.strip()
    nodes = stripped.split("+")
    if len(nodes) != 3:
        raise ArchitectureError(
            f"nb201 architecture {text!r} must have 3 nodes joined by '+', like {example}; found {len(nodes)}"
        )
    genes: list[int] = []
    for node, cell in enumerate(nodes, start=1):
        if not (cell.startswith("|") and cell.endswith("|") and len(cell) > 1):
            raise ArchitectureError(f"nb201 architecture {text!r}: node {node} part {cell!r} must be enclosed in '|'")
        parts = cell[1:-1].split("|")
        if len(parts) != node:
            raise ArchitectureError(
                f"nb201 architecture {text!r}: node {node} part {cell!r} needs {node} 'op~source' entries, got {len(parts)}"
            )
        for src, part in enumerate(parts):
            op, sep, source = part.partition("~")
            if not sep or source != str(src):
                raise ArchitectureError(
                    f"nb201 architecture {text!r}: entry {part!r} of node {node} must be 'op~{src}'"
                )
            if op not in OPS:
                raise ArchitectureError(
                    f"nb201 architecture {text!r}: unknown op {op!r} on edge {node}<-{src}; allowed: {', '.join(OPS)}"
                )
            genes.append(OPS.index(op))
    return genes
