"""Fixed-length feature vectors for predictors: encodings of the architecture, zero-cost proxies.

Encodings:

- ``onehot``: the space's gene encoding (:meth:`SearchSpace.encode`), any space.
- ``path``: counts of input->output paths by their op sequence (the BANANAS path encoding), from
  ``to_graph``; NB201 graphs are pruned of ``none`` nodes first (they carry nothing). The vocabulary
  is the paths seen at fit time, in order of first appearance, and is part of the saved state: a
  path never seen in training has no weight in any model, so dropping it at predict time is exact.
- ``onehot+path``: both, concatenated; ``none``: no encoding (zero-cost features alone).

``embeddings`` appends the vectors of an embedding file written by ``nasforge embed`` (arch2vec).

Zero-cost features come from the NAS-Bench-201 zero-cost table (``nb201_zero_cost.csv.gz``; 9,445
cells with CIFAR-10 and ImageNet16-120 rows). Cells the table lacks get NaN, which the boosting
predictors handle natively; CIFAR-100 uses the CIFAR-10 rows (same network but for the classifier;
the table has no CIFAR-100 rows).
"""

from __future__ import annotations

import csv
import gzip
import threading
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from ..architecture import Architecture, LabelledDAG
from ..errors import ArchitectureError, ConfigError, DataError

ENCODINGS = ("onehot", "path", "onehot+path", "none")
ZERO_COST_FILE = "nb201/nb201_zero_cost.csv.gz"
ZERO_COST_PROXIES = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "nwot",
                     "params", "plain", "snip", "synflow", "zen")  # fmt: skip
_ZC_DATASET = {"cifar10": "cifar10", "cifar10-valid": "cifar10", "cifar100": "cifar10",
               "ImageNet16-120": "ImageNet16-120"}  # fmt: skip
_LOCK = threading.Lock()


class Featurizer:
    """Architecture -> feature vector; ``fit`` freezes the path vocabulary."""

    def __init__(
        self,
        space: Any,
        encoding: str = "onehot",
        zero_cost: bool | Sequence[str] = False,
        dataset: str = "cifar10",
        data: str | None = None,
        embeddings: str | None = None,
    ) -> None:
        if encoding not in ENCODINGS:
            raise ConfigError(f"parameter encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}")
        if zero_cost is True:
            proxies: tuple[str, ...] = ZERO_COST_PROXIES
        elif zero_cost is False or zero_cost is None:
            proxies = ()
        else:
            proxies = tuple(zero_cost)
            bad = [p for p in proxies if p not in ZERO_COST_PROXIES]
            if bad or not proxies:
                raise ConfigError(f"parameter zero_cost must be true/false or proxies from {', '.join(ZERO_COST_PROXIES)}, got {zero_cost!r}")
        if proxies and space.name != "nb201":
            raise ConfigError(f"zero-cost table features exist for space nb201 only, not {space.name!r}")
        if proxies and dataset not in _ZC_DATASET:
            raise ConfigError(f"zero-cost features: dataset must be one of {', '.join(_ZC_DATASET)}, got {dataset!r}")
        self.space = space
        self.encoding = encoding
        self.proxies = proxies
        self.dataset = dataset
        self.data = data
        self.vocabulary: dict[tuple[str, ...], int] = {}
        self.embeddings = embeddings
        self._embedding: dict[str, np.ndarray] | None = None
        if embeddings is not None:
            self._load_embeddings()
        self._paths: dict[str, dict[tuple[str, ...], int]] = {}
        if "path" in encoding:
            try:
                self._graph(space.sample(np.random.default_rng(0)))
            except (ArchitectureError, NotImplementedError) as exc:
                raise ConfigError(f"encoding {encoding!r} needs a space with a graph form; {space.name!r}: {exc}") from None

    # --- vocabulary ------------------------------------------------------------------------------

    def fit(self, archs: Sequence[Architecture]) -> "Featurizer":
        if "path" in self.encoding:
            for arch in archs:
                for path in self.paths(arch):
                    self.vocabulary.setdefault(path, len(self.vocabulary))
        return self

    def state_dict(self) -> dict[str, Any]:
        return {"vocabulary": ["\t".join(p) for p in self.vocabulary]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.vocabulary = {tuple(p.split("\t")) if p else (): i for i, p in enumerate(state["vocabulary"])}

    # --- features --------------------------------------------------------------------------------

    def transform(self, archs: Sequence[Architecture]) -> np.ndarray:
        parts = []
        if self.encoding in ("onehot", "onehot+path"):
            parts.append(np.stack([self.space.encode(a) for a in archs]))
        if "path" in self.encoding:
            counts = np.zeros((len(archs), len(self.vocabulary)))
            for row, arch in enumerate(archs):
                for path, count in self.paths(arch).items():
                    column = self.vocabulary.get(path)
                    if column is not None:
                        counts[row, column] = count
            parts.append(counts)
        if self.proxies:
            parts.append(self.zero_cost(archs))
        if self.embeddings is not None:
            table = self._load_embeddings()
            try:
                parts.append(np.stack([table[a.string] for a in archs]))
            except KeyError as exc:
                raise DataError(f"embedding file {self.embeddings!r} has no cell {exc.args[0]!r}") from None
        return np.concatenate(parts, axis=1) if parts else np.zeros((len(archs), 0))

    def _load_embeddings(self) -> dict[str, np.ndarray]:
        """Embeddings written by `nasforge embed` (arch2vec), by architecture string."""
        if self._embedding is None:
            try:
                with np.load(self.embeddings) as data:
                    self._embedding = dict(zip(data["strings"].tolist(), data["embeddings"]))
            except (OSError, KeyError, ValueError) as exc:
                raise DataError(f"cannot read embedding file {self.embeddings!r} (from `nasforge embed`): {exc}") from None
        return self._embedding

    def zero_cost(self, archs: Sequence[Architecture]) -> np.ndarray:
        table = zero_cost_table(_ZC_DATASET[self.dataset], self.data)
        rows = np.asarray([self.space.index(a) for a in archs])
        columns = [ZERO_COST_PROXIES.index(p) for p in self.proxies]
        return table[np.ix_(rows, columns)]

    def paths(self, arch: Architecture) -> dict[tuple[str, ...], int]:
        """Op sequences of every input->output path (labels between the two ends) and their counts."""
        cached = self._paths.get(arch.string)
        if cached is None:
            cached = self._paths[arch.string] = _path_counts(self._graph(arch))
        return cached

    def _graph(self, arch: Architecture) -> LabelledDAG:
        if self.space.name == "nb201":
            return self.space.to_graph(arch, prune=True)
        return self.space.to_graph(arch)


def _path_counts(graph: LabelledDAG) -> dict[tuple[str, ...], int]:
    n = len(graph.labels)
    succs: list[list[int]] = [[] for _ in range(n)]
    for src, dst in graph.edges:
        succs[src].append(dst)
    counts: dict[tuple[str, ...], int] = {}
    stack: list[tuple[int, tuple[str, ...]]] = [(0, ())]
    while stack:
        node, ops = stack.pop()
        if node == n - 1:
            counts[ops] = counts.get(ops, 0) + 1
            continue
        for nxt in succs[node]:
            stack.append((nxt, ops if nxt == n - 1 else ops + (graph.labels[nxt],)))
    return counts


@lru_cache(maxsize=4)
def _zero_cost_tables(path: str) -> dict[str, np.ndarray]:
    from ..spaces.nb201 import NUM_ARCHS

    tables: dict[str, np.ndarray] = {}
    with gzip.open(path, "rt") as handle:
        for row in csv.DictReader(handle):
            table = tables.get(row["dataset"])
            if table is None:
                table = tables[row["dataset"]] = np.full((NUM_ARCHS, len(ZERO_COST_PROXIES)), np.nan)
            table[int(row["index"])] = [float(row[p]) if row[p] != "" else np.nan for p in ZERO_COST_PROXIES]
    for table in tables.values():
        table.setflags(write=False)
    return tables


def zero_cost_table(dataset: str, data: str | None = None) -> np.ndarray:
    """(15,625 x proxies) array by NB201 index for ``dataset`` (cifar10 / ImageNet16-120); NaN rows
    for cells the table lacks. Columns in :data:`ZERO_COST_PROXIES` order."""
    from ..paths import data_file

    path = str(data_file(ZERO_COST_FILE, data))
    with _LOCK:
        tables = _zero_cost_tables(path)
    if dataset not in tables:
        raise DataError(f"{ZERO_COST_FILE} has no rows for dataset {dataset!r}; it has: {', '.join(sorted(tables))}")
    return tables[dataset]
