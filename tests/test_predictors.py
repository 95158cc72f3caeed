"""Predictors on real NB201 table accuracies: quality above chance, save/load, features, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau

from nasforge.errors import ConfigError, DataError
from nasforge.evaluators.tabular import NB201Tabular
from nasforge.predictors.base import PREDICTORS, load_predictor, make_predictor, save_predictor
from nasforge.predictors.features import Featurizer
from nasforge.spaces.nb101 import NB101Space
from nasforge.spaces.nb201 import NB201Space

SPACE = NB201Space()


@pytest.fixture(scope="module")
def cells(data_dir):
    """120 training and 300 held-out cells with their CIFAR-10 validation accuracy (200 epochs)."""
    valid = NB201Tabular(SPACE, "cifar10", data_dir=data_dir, hardware=False).column("valid_accuracy", 200)
    order = np.random.default_rng(0).permutation(len(valid))[:420]
    archs = [SPACE.from_index(int(i)) for i in order]
    return archs[:120], valid[order[:120]], archs[120:], valid[order[120:]]


CASES = [
    ("gp_wl", {"graph_options": {"prune": True}}),
    ("gp_gcn", {}),
    ("mlp_ensemble", {"steps": 150, "width": 20, "layers": 2}),
    ("xgboost", {"encoding": "onehot", "zero_cost": True, "n_estimators": 100}),
    ("lightgbm", {"encoding": "onehot+path", "n_estimators": 100}),
    ("gin_ensemble", {"epochs": 30}),
    ("infonas", {"unlabelled": 800, "epochs": 3}),
]


@pytest.mark.parametrize("name, options", CASES, ids=[c[0] for c in CASES])
def test_predictor_ranks_held_out_cells_and_survives_save_and_load(name, options, cells, data_dir, tmp_path):
    train, y_train, test, y_test = cells
    if options.get("zero_cost"):
        options = {**options, "data": str(data_dir)}
    predictor = make_predictor(name, SPACE, seed=0, **options).fit(train, y_train)
    mean, std = predictor.predict(test)
    assert mean.shape == std.shape == (len(test),) and np.all(std >= 0)
    assert kendalltau(mean, y_test)[0] > 0.35  # chance is 0; 120 cells are enough for a ranking
    path = save_predictor(predictor, tmp_path / f"{name}.pred")
    loaded = load_predictor(path)
    again, again_std = loaded.predict(test)
    np.testing.assert_allclose(again, mean, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(again_std, std, rtol=1e-9, atol=1e-9)


def test_mlp_ensemble_is_seeded_and_members_disagree_off_the_data(cells):
    train, y_train, test, _ = cells
    a = make_predictor("mlp_ensemble", SPACE, seed=3, steps=60).fit(train[:40], y_train[:40]).predict(test[:50])
    b = make_predictor("mlp_ensemble", SPACE, seed=3, steps=60).fit(train[:40], y_train[:40]).predict(test[:50])
    c = make_predictor("mlp_ensemble", SPACE, seed=4, steps=60).fit(train[:40], y_train[:40]).predict(test[:50])
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    assert a[1].mean() > 0


def test_path_encoding_counts_input_to_output_paths():
    features = Featurizer(SPACE, "path")
    all_conv = SPACE.from_ops(["nor_conv_3x3"] * 6)
    conv = "nor_conv_3x3"
    assert features.paths(all_conv) == {(conv,): 1, (conv, conv): 2, (conv, conv, conv): 1}
    only_skip_out = SPACE.from_ops(["none", "none", "none", "skip_connect", "none", "none"])
    assert features.paths(only_skip_out) == {("skip_connect",): 1}
    features.fit([all_conv])
    x = features.transform([all_conv, only_skip_out])
    assert x.tolist() == [[1, 2, 1], [0, 0, 0]]  # a path never seen at fit has no column


def test_zero_cost_features_come_from_the_table(data_dir):
    features = Featurizer(SPACE, "none", zero_cost=["params", "synflow"], data=str(data_dir))
    x = features.transform([SPACE.from_index(0), SPACE.from_index(1)])
    assert x[:, 0] == pytest.approx([0.129306, 0.802426])  # the table's params for cells 0 and 1


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: make_predictor("forest", SPACE), "unknown predictor 'forest'"),
        (lambda: make_predictor("mlp_ensemble", SPACE, encoding="graph"), "encoding"),
        (lambda: make_predictor("mlp_ensemble", SPACE, width=0), "width"),
        (lambda: make_predictor("xgboost", NB101Space(), zero_cost=True), "nb201 only"),
        (lambda: make_predictor("xgboost", SPACE, zero_cost=["synflowz"]), "zero_cost"),
        (lambda: make_predictor("gp_wl", SPACE, kernel_options={"depth": 2}), "kernel_options"),
        (lambda: make_predictor("xgboost", SPACE).predict([SPACE.from_index(0)]), "before fit"),
        (lambda: make_predictor("xgboost", SPACE).fit([SPACE.from_index(0)] * 3, [1.0, 2.0]), "as many targets"),
    ],
)
def test_bad_input_is_one_clear_line(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


def test_loading_a_file_that_is_not_a_predictor_fails_clearly(tmp_path):
    path = tmp_path / "junk.pred"
    path.write_text("not gzip")
    with pytest.raises(DataError, match="cannot read predictor file"):
        load_predictor(path)


def test_every_registered_predictor_is_covered_here():
    assert sorted(PREDICTORS) == sorted(name for name, _ in CASES)

