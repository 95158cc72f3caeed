"""Graph kernels (WL, untrained GCN) and the graph GP: agreement with GraKel, invariances, fitting."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau

from nasforge.architecture import LabelledDAG
from nasforge.errors import ConfigError
from nasforge.predictors.gcn import GCNKernel
from nasforge.predictors.gp import GraphGP
from nasforge.predictors.wl import WLKernel
from nasforge.spaces.nb101 import NB101Space


@pytest.fixture(scope="module")
def graphs():
    space = NB101Space()
    rng = np.random.default_rng(0)
    return [space.to_graph(space.sample(rng)) for _ in range(40)]


def _permuted(graph: LabelledDAG) -> LabelledDAG:
    """The same DAG with interior nodes listed in another topological order (if one exists)."""
    n = len(graph.labels)
    preds = {v: {s for s, d in graph.edges if d == v} for v in range(n)}
    order, placed = [], set()
    while len(order) < n:  # Kahn's algorithm taking the *largest* ready node first
        ready = [v for v in range(n) if v not in placed and preds[v] <= placed]
        order.append(max(ready) if len(order) and len(order) < n - 1 else min(ready))
        placed.add(order[-1])
    new = {old: i for i, old in enumerate(order)}
    return LabelledDAG(tuple(graph.labels[o] for o in order), tuple(sorted((new[s], new[d]) for s, d in graph.edges)))


@pytest.mark.parametrize("h", [1, 2, 3])
def test_wl_equals_grakel_weisfeiler_lehman(graphs, h):
    grakel = pytest.importorskip("grakel")
    from grakel.kernels import VertexHistogram, WeisfeilerLehman

    def to_grakel(g):
        adjacency = {i: [d for s, d in g.edges if s == i] for i in range(len(g.labels))}
        return grakel.Graph(adjacency, node_labels=dict(enumerate(g.labels)))

    expected = WeisfeilerLehman(n_iter=h, normalize=True, base_graph_kernel=VertexHistogram).fit_transform(
        [to_grakel(g) for g in graphs]
    )
    # GraKel follows out-edges of a directed adjacency; our default follows in-edges
    assert np.allclose(WLKernel(direction="out").gram(graphs, graphs, h), expected, atol=1e-12)


def test_wl_level_zero_is_the_op_histogram_and_kernels_see_through_node_order(graphs):
    kernel = WLKernel(normalize=False)
    labels = sorted({label for g in graphs for label in g.labels})
    hist = np.array([[g.labels.count(label) for label in labels] for g in graphs], dtype=float)
    assert np.allclose(kernel.gram(graphs, graphs, 0), hist @ hist.T)
    permuted = [_permuted(g) for g in graphs]
    assert any(p != g for p, g in zip(permuted, graphs))
    for k in (WLKernel(), GCNKernel(seed=1)):
        theta = k.hyperparameters(graphs)[-1]
        assert np.allclose(np.diag(k.gram(graphs, permuted, theta)), 1.0)
        gram = k.gram(graphs, graphs, theta)
        assert np.allclose(gram, gram.T) and np.linalg.eigvalsh(gram).min() > -1e-9


def test_gcn_embeddings_are_seeded(graphs):
    a, b, c = GCNKernel(seed=3), GCNKernel(seed=3), GCNKernel(seed=4)
    assert np.array_equal(a.embeddings(graphs), b.embeddings(graphs))
    assert not np.allclose(a.embeddings(graphs), c.embeddings(graphs))
    with pytest.raises(ConfigError, match="dim of GCNKernel"):
        GCNKernel(dim=0)


def _target(graph: LabelledDAG) -> float:
    """A structured function of the cell: conv3x3 count, plus a bonus for a conv feeding the output."""
    out = len(graph.labels) - 1
    feeds = [graph.labels[s] for s, d in graph.edges if d == out]
    return graph.labels.count("conv3x3-bn-relu") + 1.5 * ("conv3x3-bn-relu" in feeds) + 0.3 * len(graph.edges)


@pytest.mark.parametrize("kernel", [WLKernel(), GCNKernel(seed=0)], ids=["wl", "gcn"])
def test_gp_ranks_held_out_cells_and_learns_noise(kernel):
    space = NB101Space()
    rng = np.random.default_rng(1)
    graphs = [space.to_graph(space.sample(rng)) for _ in range(160)]
    y = np.array([_target(g) for g in graphs])
    train, test = slice(0, 100), slice(100, 160)
    gp = GraphGP(kernel).fit(graphs[train], y[train])
    mean, std = gp.predict(graphs[test])
    assert kendalltau(mean, y[test])[0] > 0.6
    assert gp.fit_.theta in kernel.hyperparameters(graphs[train])
    assert np.all(std >= 0)
    noisy = y[train] + np.random.default_rng(2).normal(0, 2.0, 100)
    assert GraphGP(kernel).fit(graphs[train], noisy).fit_.noise > 3 * gp.fit_.noise
    # near-interpolation of clean training targets
    assert np.abs(gp.predict(graphs[train])[0] - y[train]).mean() < 0.5


def test_gp_validates_inputs(graphs):
    with pytest.raises(ConfigError, match="as many targets"):
        GraphGP(WLKernel()).fit(graphs[:3], [1.0, 2.0])
    with pytest.raises(ConfigError, match="before fit"):
        GraphGP(WLKernel()).predict(graphs[:2])
    with pytest.raises(ConfigError, match="must provide"):
        GraphGP(object())
