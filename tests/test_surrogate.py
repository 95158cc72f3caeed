"""Surrogate benchmark: `nasforge fit-predictor` writes a file, `evaluator: surrogate` searches on it."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from nasforge.cli.app import main
from nasforge.errors import DataError
from nasforge.evaluators.surrogate import SurrogateEvaluator
from nasforge.predictors.base import load_predictor
from nasforge.spaces.nb201 import NB201Space
from nasforge.store.sqlite import SQLiteStore

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def surrogate_file(data_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("surrogate") / "nb201_c10.pred"
    code = main(["fit-predictor", "--out", str(path), "--predictor", "xgboost", "--train", "300",
                 "--data", str(data_dir), "-o", "n_estimators=100"])  # fmt: skip
    assert code == 0 and path.is_file()
    return path


def test_surrogate_answers_like_the_saved_predictor_and_pickles(surrogate_file):
    space = NB201Space()
    evaluator = pickle.loads(pickle.dumps(SurrogateEvaluator(space, str(surrogate_file))))
    archs = [space.sample(np.random.default_rng(i)) for i in range(5)]
    expected, _ = load_predictor(surrogate_file).predict(archs)
    got = [evaluator.evaluate(a)["valid_accuracy"] for a in archs]
    np.testing.assert_allclose(got, expected)
    assert 10 < min(got) and max(got) < 100  # accuracies in %, as the table it was fitted on


def test_cli_search_on_the_surrogate_example(surrogate_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nb201_c10.pred").write_bytes(surrogate_file.read_bytes())
    assert main(["search", "--config", str(EXAMPLES / "surrogate_nb201.yaml"), "--trials", "12"]) == 0
    store = SQLiteStore("surrogate.db")
    trials = store.trials(store.get_study("nb201-surrogate").study_id)
    assert len(trials) == 12 and all("valid_accuracy_std" in t.metrics for t in trials)


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(DataError, match="not found"):
        SurrogateEvaluator(NB201Space(), str(tmp_path / "none.pred"))
    assert main(["search", "--space", "nb201", "--evaluator", "surrogate", "-o", f"evaluator.path={tmp_path / 'x.pred'}",
                 "--trials", "2", "--storage", str(tmp_path / "s.db")]) == 2  # fmt: skip
