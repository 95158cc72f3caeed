"""GIN regressor ensemble (torch_geometric) on real NB201 accuracies: ranks, is seeded, saves, any graph space."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch_geometric")

from scipy.stats import kendalltau  # noqa: E402

from nasforge.errors import ConfigError  # noqa: E402
from nasforge.evaluators.tabular import NB201Tabular  # noqa: E402
from nasforge.predictors.base import load_predictor, make_predictor, save_predictor  # noqa: E402
from nasforge.spaces.nb101 import NB101Space  # noqa: E402
from nasforge.spaces.nb201 import NB201Space  # noqa: E402

SPACE = NB201Space()


@pytest.fixture(scope="module")
def cells(data_dir):
    """120 training and 300 held-out cells with their CIFAR-10 validation accuracy (200 epochs)."""
    valid = NB201Tabular(SPACE, "cifar10", data_dir=data_dir, hardware=False).column("valid_accuracy", 200)
    order = np.random.default_rng(0).permutation(len(valid))[:420]
    archs = [SPACE.from_index(int(i)) for i in order]
    return archs[:120], valid[order[:120]], archs[120:], valid[order[120:]]


def test_gin_ensemble_ranks_held_out_cells_and_survives_save_and_load(cells, tmp_path):
    train, y_train, test, y_test = cells
    predictor = make_predictor("gin_ensemble", SPACE, seed=0, epochs=40).fit(train, y_train)
    mean, std = predictor.predict(test)
    assert mean.shape == std.shape == (300,) and np.all(std > 0)  # members disagree off the data
    assert kendalltau(mean, y_test)[0] > 0.35  # chance is 0; measured about 0.55
    loaded = load_predictor(save_predictor(predictor, tmp_path / "gin.pred"))
    again, again_std = loaded.predict(test)
    np.testing.assert_array_equal(again, mean)
    np.testing.assert_array_equal(again_std, std)
    assert loaded.member_predictions(test[:4]).shape == (3, 4)


def test_gin_ensemble_is_seeded(cells):
    train, y_train, test, _ = cells
    a = make_predictor("gin_ensemble", SPACE, seed=3, epochs=5).fit(train[:40], y_train[:40]).predict(test[:50])[0]
    b = make_predictor("gin_ensemble", SPACE, seed=3, epochs=5).fit(train[:40], y_train[:40]).predict(test[:50])[0]
    c = make_predictor("gin_ensemble", SPACE, seed=4, epochs=5).fit(train[:40], y_train[:40]).predict(test[:50])[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_gin_ensemble_reads_any_graph_space_and_rejects_bad_options():
    space = NB101Space()
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(30)]
    y = np.array([len(space.to_graph(a).edges) for a in archs], dtype=float)  # any finite target will do here
    mean, _ = make_predictor("gin_ensemble", space, epochs=30, members=2).fit(archs[:20], y[:20]).predict(archs[20:])
    assert mean.shape == (10,) and np.isfinite(mean).all()
    with pytest.raises(ConfigError, match="members"):
        make_predictor("gin_ensemble", SPACE, members=0)
    with pytest.raises(ConfigError, match="lr"):
        make_predictor("gin_ensemble", SPACE, lr=-1.0)
