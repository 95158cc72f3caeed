"""The NAS-Bench-101 cell space: DAGs of up to 7 nodes, 3 operations, at most 9 edges.

A cell is an upper-triangular 7x7 adjacency matrix (node 0 = input, node 6 = output) plus an op for
each of the 5 interior nodes. As in the NB101 API, a cell is *pruned* first: nodes not on an
input -> output path are removed (so one cell may have 2..7 nodes), then it is valid if the output
is still reachable and the pruned graph has at most 9 edges.

String form (stable, readable, the same pieces as the benchmark table): the pruned graph as
``<n*n adjacency bits, row-major>|<n comma-separated ops>``, e.g. the 3-node cell input -> conv3x3
-> output is ``010001000|input,conv3x3-bn-relu,output``. ``from_string`` also accepts unpruned
7-node specs (as stored in the tables) and returns their pruned canonical form.

Genes for generic strategies: 21 upper-triangular edge bits (row-major, ``e0_1, e0_2, ..., e5_6``)
then 5 op genes (``op1..op5``). A pruned cell of n < 7 nodes is padded: its interior nodes take
positions 1..n-2, its output position 6, and the unused positions have no edges (op index 0).

``identity`` is NB101's isomorphism hash (the ``hash_module`` rule of the nasbench API: md5 of
(out-degree, in-degree, label) per node, refined 7 times by sorted in/out-neighbour hashes), so an
architecture can be looked up in any NB101 table keyed by that hash.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np

from ..architecture import Architecture, Categorical, GeneValue, LabelledDAG
from ..errors import ArchitectureError
from ..validation import is_integer
from .base import SearchSpace

INPUT, OUTPUT = "input", "output"
OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
NUM_NODES = 7
MAX_EDGES = 9
#: (source, target) of each edge gene, row-major over the strict upper triangle
EDGE_SLOTS: tuple[tuple[int, int], ...] = tuple(
    (i, j) for i in range(NUM_NODES) for j in range(i + 1, NUM_NODES)
)
_LABEL_CODE = {INPUT: -1, OUTPUT: -2, **{op: k for k, op in enumerate(OPS)}}


def prune(matrix: np.ndarray, ops: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Drop nodes not on an input -> output path; ArchitectureError if the output is unreachable."""
    n = len(ops)
    forward = {0}
    for i in range(n):
        if i in forward:
            forward.update(j for j in range(i + 1, n) if matrix[i, j])
    backward = {n - 1}
    for j in range(n - 1, -1, -1):
        if j in backward:
            backward.update(i for i in range(j) if matrix[i, j])
    keep = sorted(forward & backward)
    if 0 not in keep or n - 1 not in keep:
        raise ArchitectureError("nb101 cell is disconnected: no path from input to output")
    return matrix[np.ix_(keep, keep)].copy(), [ops[k] for k in keep]


def graph_hash(matrix: np.ndarray, ops: Sequence[str]) -> str:
    """NB101's isomorphism-invariant md5 of a (pruned) cell, equal to the nasbench API's hash."""
    n = len(ops)
    labels = [_LABEL_CODE[op] for op in ops]
    in_deg = matrix.sum(axis=0).tolist()
    out_deg = matrix.sum(axis=1).tolist()
    hashes = [_md5(str((out_deg[v], in_deg[v], labels[v]))) for v in range(n)]
    for _ in range(n):
        hashes = [
            _md5(
                "".join(sorted(hashes[w] for w in range(n) if matrix[w, v]))
                + "|"
                + "".join(sorted(hashes[w] for w in range(n) if matrix[v, w]))
                + "|"
                + hashes[v]
            )
            for v in range(n)
        ]
    return _md5(str(sorted(hashes)))


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


class NB101Space(SearchSpace):
    """NAS-Bench-101: 423,624 distinct cells up to isomorphism."""

    name = "nb101"
    # the bare input -> output cell needs two new edges to gain a node: no one-gene change is valid
    mutation_widen_every = 50

    def __init__(self) -> None:
        self._genes = tuple(Categorical(f"e{i}_{j}", (0, 1)) for i, j in EDGE_SLOTS) + tuple(
            Categorical(f"op{k}", OPS) for k in range(1, NUM_NODES - 1)
        )

    def genes(self) -> Sequence[Categorical]:
        return self._genes

    # --- building cells --------------------------------------------------------------------------

    def from_genes(self, values: Sequence[GeneValue]) -> Architecture:
        if len(values) != len(self._genes):
            raise ArchitectureError(
                f"nb101 needs {len(self._genes)} gene values (21 edge bits + 5 ops), got {len(values)}"
            )
        for gene, value in zip(self._genes, values):
            if not is_integer(value) or not 0 <= value < gene.size:
                raise ArchitectureError(
                    f"nb101 gene {gene.name} must be an integer in 0..{gene.size - 1}, got {value!r}"
                )
        matrix = np.zeros((NUM_NODES, NUM_NODES), dtype=np.int64)
        for (i, j), bit in zip(EDGE_SLOTS, values):
            matrix[i, j] = int(bit)
        ops = [INPUT] + [OPS[int(v)] for v in values[len(EDGE_SLOTS):]] + [OUTPUT]
        return self.from_spec(matrix, ops)

    def from_spec(self, matrix: "np.ndarray | Sequence[Sequence[int]]", ops: Sequence[str]) -> Architecture:
        """Build from an adjacency matrix and op list (pruned or not, 2..7 nodes), as in the NB101 API."""
        matrix = np.asarray(matrix)
        n = len(ops)
        if not 2 <= n <= NUM_NODES or matrix.shape != (n, n):
            raise ArchitectureError(
                f"nb101 cell needs 2..{NUM_NODES} ops and a matching square matrix, "
                f"got {n} ops and shape {matrix.shape}"
            )
        if not np.isin(matrix, (0, 1)).all():
            raise ArchitectureError("nb101 adjacency entries must be 0 or 1")
        if np.tril(matrix).any():
            raise ArchitectureError("nb101 adjacency must be strictly upper triangular (a DAG in node order)")
        ops = list(ops)
        if ops[0] != INPUT or ops[-1] != OUTPUT:
            raise ArchitectureError(f"nb101 ops must start with {INPUT!r} and end with {OUTPUT!r}, got {ops}")
        for op in ops[1:-1]:
            if op not in OPS:
                raise ArchitectureError(f"nb101 op {op!r} unknown; allowed: {', '.join(OPS)}")
        pruned, pruned_ops = prune(matrix.astype(np.int64), ops)
        edges = int(pruned.sum())
        if edges > MAX_EDGES:
            raise ArchitectureError(f"nb101 cell has {edges} edges after pruning; at most {MAX_EDGES} allowed")
        bits = "".join(str(int(b)) for b in pruned.ravel())
        return self._make(f"{bits}|{','.join(pruned_ops)}", _padded_genes(pruned, pruned_ops))

    def from_string(self, text: str) -> Architecture:
        matrix, ops = parse_spec(text)
        return self.from_spec(matrix, ops)

    # --- views -------------------------------------------------------------------------------------

    def spec(self, arch: Architecture) -> tuple[np.ndarray, list[str]]:
        """The pruned (matrix, ops) pair, the form NB101 tools use."""
        self._check_space(arch)
        return parse_spec(arch.string)

    def identity(self, arch: Architecture) -> str:
        return graph_hash(*self.spec(arch))

    def to_graph(self, arch: Architecture) -> LabelledDAG:
        matrix, ops = self.spec(arch)
        edges = tuple((int(i), int(j)) for i, j in zip(*np.nonzero(matrix)))
        return LabelledDAG(tuple(ops), edges)

    def size(self) -> int:
        """Gene vectors (2**21 * 3**5), not distinct cells (423,624 up to isomorphism)."""
        return 2 ** len(EDGE_SLOTS) * len(OPS) ** (NUM_NODES - 2)

    def __repr__(self) -> str:
        return "NB101Space()"


def parse_spec(text: str) -> tuple[np.ndarray, list[str]]:
    """(matrix, ops) of a ``bits|op,op,...`` string, with one-line errors naming the bad part."""
    example = "010001000|input,conv3x3-bn-relu,output"
    if not isinstance(text, str) or "|" not in text:
        raise ArchitectureError(f"nb101 architecture must be a string like {example!r}, got {text!r}")
    bits, _, op_text = text.strip().partition("|")
    ops = [op.strip() for op in op_text.split(",")]
    n = len(ops)
    if len(bits) != n * n or set(bits) - {"0", "1"}:
        raise ArchitectureError(
            f"nb101 architecture {text!r}: {n} ops need {n * n} adjacency bits (0/1), got {bits!r}"
        )
    matrix = np.array([int(b) for b in bits], dtype=np.int64).reshape(n, n)
    return matrix, ops


def _padded_genes(matrix: np.ndarray, ops: Sequence[str]) -> tuple[int, ...]:
    """Genes of a pruned cell: interior nodes at positions 1..n-2, output at position 6."""
    n = len(ops)
    position = list(range(n - 1)) + [NUM_NODES - 1]
    full = np.zeros((NUM_NODES, NUM_NODES), dtype=np.int64)
    for i, j in zip(*np.nonzero(matrix)):
        full[position[i], position[j]] = 1
    op_genes = [OPS.index(op) for op in ops[1:-1]] + [0] * (NUM_NODES - n)
    return tuple(int(full[i, j]) for i, j in EDGE_SLOTS) + tuple(op_genes)

