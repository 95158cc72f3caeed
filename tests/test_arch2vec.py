"""arch2vec: pretraining lowers the loss and reconstructs cells; `nasforge embed` writes embeddings."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nasforge.cli.app import main  # noqa: E402
from nasforge.predictors.arch2vec import embed, graph_tensors, pretrain, reconstruction_accuracy  # noqa: E402
from nasforge.spaces.nb201 import OPS, NB201Space  # noqa: E402
from nasforge.training.seeding import torch_threads  # noqa: E402

SPACE = NB201Space()
VOCABULARY = ("input",) + OPS + ("output",)


def test_pretraining_learns_to_reconstruct_and_is_seeded():
    archs = [SPACE.from_index(i) for i in range(600)]
    ops, adj = graph_tensors(SPACE, archs, VOCABULARY)
    assert ops.shape == (600, 8, 7) and adj.shape == (600, 8, 8)
    with torch_threads(1):
        untrained = reconstruction_accuracy(pretrain(ops[:2], adj[:2], epochs=1, batch_size=2, seed=0)[0], ops[500:], adj[500:])
        model, history = pretrain(ops[:500], adj[:500], epochs=4, batch_size=50, lr=3e-3, latent=8, hidden=32, layers=3)
        again, _ = pretrain(ops[:500], adj[:500], epochs=4, batch_size=50, lr=3e-3, latent=8, hidden=32, layers=3)
        trained = reconstruction_accuracy(model, ops[500:], adj[500:])
        vectors = embed(model, ops, adj)
    assert history[-1] < history[0]
    # a short run (40 Adam steps) already decodes held-out cells better than an untrained model
    assert trained["ops"] > untrained["ops"] + 0.1 and trained["adjacency"] > untrained["adjacency"]
    assert vectors.shape == (600, 8) and np.isfinite(vectors).all()
    np.testing.assert_array_equal(vectors, embed(again, ops, adj))


def test_cli_writes_one_embedding_per_cell(tmp_path):
    out = tmp_path / "nb201.emb.npz"
    assert main(["embed", "--space", "nb201", "--cells", "300", "--epochs", "1", "--out", str(out)]) == 0
    data = np.load(out)
    assert data["embeddings"].shape == (300, 16) and len(data["strings"]) == 300
    assert 0 <= float(data["reconstruction_ops"]) <= 1
    assert main(["embed", "--space", "nb101", "--out", str(out)]) == 2


def test_embeddings_feed_a_predictor_and_a_missing_cell_is_one_line(tmp_path):
    from nasforge.errors import DataError
    from nasforge.predictors.base import make_predictor

    out = tmp_path / "e.npz"
    assert main(["embed", "--space", "nb201", "--cells", "100", "--epochs", "1", "--out", str(out)]) == 0
    archs = [SPACE.from_index(i) for i in range(100)]
    predictor = make_predictor("mlp_ensemble", SPACE, encoding="none", embeddings=str(out), steps=20)
    mean, _ = predictor.fit(archs, np.arange(100.0)).predict(archs[:5])
    assert mean.shape == (5,) and np.isfinite(mean).all()
    with pytest.raises(DataError, match="has no cell"):
        predictor.predict([SPACE.from_index(5000)])
