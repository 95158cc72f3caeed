"""A kernel on the embeddings of an untrained (randomly initialised, seeded) graph convolutional net.

Random GCN layers already map graphs with similar local structure to nearby points, and need no
training data, so the embedding is fixed before BO starts and the GP only learns a lengthscale.
Numpy only: the network is a few dense products on 7-8 node graphs, far cheaper than loading torch.

Node features are fixed random vectors per op label (seeded from the label's md5, so any space's
labels work without a vocabulary); each layer propagates along edges in both directions with
self-loops (symmetric normalisation) and a tanh; the graph embedding is the mean over nodes joined
with the output node's state, scaled to unit length. The kernel is an RBF on embeddings whose
lengthscale candidates are multiples of the median pairwise distance of the training graphs.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np

from ..architecture import LabelledDAG
from ..errors import ConfigError
from ..validation import check_int


class GCNKernel:
    """RBF kernel on untrained-GCN embeddings; its hyperparameter is the lengthscale."""

    name = "gcn"

    def __init__(
        self,
        seed: int = 0,
        dim: int = 32,
        layers: int = 3,
        lengthscale_factors: Sequence[float] = (0.25, 0.5, 1.0, 2.0),
    ) -> None:
        for name, value, low in (("seed", seed, 0), ("dim", dim, 1), ("layers", layers, 1)):
            check_int("GCNKernel", name, value, low)
        factors = tuple(float(f) for f in lengthscale_factors)
        if not factors or any(f <= 0 for f in factors):
            raise ConfigError(f"parameter lengthscale_factors of GCNKernel must be positive, got {lengthscale_factors!r}")
        self.seed, self.dim, self.layers, self.factors = int(seed), int(dim), int(layers), factors
        rng = np.random.default_rng(self.seed)
        self._weights = [rng.normal(0.0, 1.0 / np.sqrt(dim), size=(dim, dim)) for _ in range(layers)]
        self._cache: dict[LabelledDAG, np.ndarray] = {}
        self._label_vectors: dict[str, np.ndarray] = {}

    def _label_vector(self, label: str) -> np.ndarray:
        vector = self._label_vectors.get(label)
        if vector is None:
            digest = int(hashlib.md5(label.encode("utf-8")).hexdigest()[:16], 16)
            vector = self._label_vectors[label] = np.random.default_rng([self.seed, digest]).normal(size=self.dim)
        return vector

    def embed(self, graph: LabelledDAG) -> np.ndarray:
        cached = self._cache.get(graph)
        if cached is not None:
            return cached
        n = len(graph.labels)
        adjacency = np.eye(n)
        for src, dst in graph.edges:
            adjacency[src, dst] = adjacency[dst, src] = 1.0
        scale = 1.0 / np.sqrt(adjacency.sum(axis=1))
        propagate = adjacency * scale[:, None] * scale[None, :]
        h = np.stack([self._label_vector(label) for label in graph.labels])
        for w in self._weights:
            h = np.tanh(propagate @ h @ w)
        embedding = np.concatenate([h.mean(axis=0), h[-1]])
        embedding /= np.linalg.norm(embedding) or 1.0
        self._cache[graph] = embedding
        return embedding

    def embeddings(self, graphs: Sequence[LabelledDAG]) -> np.ndarray:
        return np.stack([self.embed(g) for g in graphs]) if graphs else np.zeros((0, 2 * self.dim))

    # --- kernel -------------------------------------------------------------------------------------

    def hyperparameters(self, graphs: Sequence[LabelledDAG] = ()) -> tuple[float, ...]:
        """Lengthscales: the factors times the median pairwise embedding distance of ``graphs``."""
        e = self.embeddings(graphs)
        if len(e) < 2:
            median = 1.0
        else:
            d = np.sqrt(np.maximum(_sq_dist(e, e), 0.0))[np.triu_indices(len(e), 1)]
            positive = d[d > 1e-12]
            median = float(np.median(positive)) if len(positive) else 1.0
        return tuple(f * median for f in self.factors)

    def gram(self, a: Sequence[LabelledDAG], b: Sequence[LabelledDAG], lengthscale: float) -> np.ndarray:
        if not lengthscale > 0:
            raise ConfigError(f"GCN kernel lengthscale must be positive, got {lengthscale!r}")
        return np.exp(-0.5 * _sq_dist(self.embeddings(a), self.embeddings(b)) / lengthscale**2)

    def diag(self, graphs: Sequence[LabelledDAG], lengthscale: float) -> np.ndarray:
        return np.ones(len(graphs))

    def __repr__(self) -> str:
        return f"GCNKernel(seed={self.seed}, dim={self.dim}, layers={self.layers})"


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T, 0.0)
