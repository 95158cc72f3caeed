"""info-NAS: the semi-supervised arch2vec ranks real NB201 cells, is seeded, saves, and embeds from the CLI."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from scipy.stats import kendalltau  # noqa: E402

from nasforge.cli.app import main  # noqa: E402
from nasforge.errors import ConfigError  # noqa: E402
from nasforge.evaluators.tabular import NB201Tabular  # noqa: E402
from nasforge.predictors.base import load_predictor, make_predictor, save_predictor  # noqa: E402
from nasforge.spaces.nb101 import NB101Space  # noqa: E402
from nasforge.spaces.nb201 import NB201Space  # noqa: E402

SPACE = NB201Space()
OPTIONS = {"unlabelled": 800, "epochs": 3}


@pytest.fixture(scope="module")
def cells(data_dir):
    """100 labelled and 300 held-out cells with their CIFAR-10 validation accuracy (200 epochs)."""
    valid = NB201Tabular(SPACE, "cifar10", data_dir=data_dir, hardware=False).column("valid_accuracy", 200)
    order = np.random.default_rng(1).permutation(len(valid))[:400]
    archs = [SPACE.from_index(int(i)) for i in order]
    return archs[:100], valid[order[:100]], archs[100:], valid[order[100:]]


def test_infonas_head_ranks_held_out_cells_reproducibly_and_survives_save_and_load(cells, tmp_path):
    train, y_train, test, y_test = cells
    predictor = make_predictor("infonas", SPACE, seed=0, **OPTIONS).fit(train, y_train)
    mean, std = predictor.predict(test)
    assert mean.shape == std.shape == (300,) and np.all(std > 0)  # three heads disagree off the data
    assert kendalltau(mean, y_test)[0] > 0.3  # chance is 0; measured about 0.5 with these settings
    again = make_predictor("infonas", SPACE, seed=0, **OPTIONS).fit(train, y_train).predict(test)
    np.testing.assert_array_equal(again[0], mean)
    other = make_predictor("infonas", SPACE, seed=1, **OPTIONS).fit(train, y_train).predict(test)
    assert not np.array_equal(other[0], mean)
    loaded = load_predictor(save_predictor(predictor, tmp_path / "infonas.pred"))
    np.testing.assert_array_equal(loaded.predict(test)[0], mean)
    np.testing.assert_array_equal(loaded.embed(test[:5]), predictor.embed(test[:5]))


def test_cli_labels_write_infonas_embeddings_that_feed_a_predictor(tmp_path, data_dir):
    out = tmp_path / "infonas.npz"
    args = ["embed", "--space", "nb201", "--cells", "400", "--epochs", "2", "--labels", "40", "--data", str(data_dir)]
    assert main(args + ["--out", str(out)]) == 0
    data = np.load(out)
    assert data["embeddings"].shape == (400, 16) and len(data["labelled"]) == 40
    assert len(set(data["labelled"].tolist())) == 40
    archs = [SPACE.from_index(i) for i in range(400)]
    predictor = make_predictor("mlp_ensemble", SPACE, encoding="none", embeddings=str(out), steps=20)
    mean, _ = predictor.fit(archs[:200], np.arange(200.0)).predict(archs[200:])
    assert mean.shape == (200,) and np.isfinite(mean).all()
    assert main(args[:-3] + ["--labels", "1", "--out", str(out)]) == 2


def test_bad_options_and_spaces_are_one_line_errors():
    with pytest.raises(ConfigError, match="label_weight"):
        make_predictor("infonas", SPACE, label_weight=0)
    with pytest.raises(ConfigError, match="epochs"):
        make_predictor("infonas", SPACE, epochs=0)
    with pytest.raises(ConfigError, match="fixed-size graphs"):
        make_predictor("infonas", NB101Space())
