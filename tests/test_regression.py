"""Regression: a CSV table with a numeric target (sklearn's diabetes), trained and searched for real."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from nasforge.cli.app import main
from nasforge.data.load import load_dataset
from nasforge.errors import ConfigError, DataError
from nasforge.evaluators.trainer import TrainerEvaluator
from nasforge.spaces.chain import ChainSpace
from nasforge.store.sqlite import SQLiteStore
from nasforge.training.tasks import Regression

SPACE = {"max_nodes": 2, "filters": (8,), "kernels": (1,), "include_pooling": False, "numeric_genes": False}


@pytest.fixture(scope="module")
def diabetes_csv(tmp_path_factory):
    """442 patients, 10 numeric features, disease progression (25..346) as the target."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame.rename(columns={"target": "progression"})
    path = tmp_path_factory.mktemp("tables") / "diabetes.csv"
    frame.to_csv(path, index=False)
    return path


def test_regression_task_scores_mae_in_the_targets_unit() -> None:
    task = Regression(scale=10.0)
    out, target = torch.tensor([[1.0], [2.0], [4.0]]), torch.tensor([1.5, 2.0, 3.0])
    assert float(task.loss(out, target)) == pytest.approx((0.25 + 0 + 1) / 3)
    assert task.summarize(task.batch_stats(out, target), 3) == pytest.approx(10 * 1.5 / 3)
    assert not task.higher_is_better and task.metric == "mae"


def test_table_target_column_loads_as_standardised_float_targets(diabetes_csv) -> None:
    data = load_dataset(str(diabetes_csv), seed=0, task="regression", target="progression")
    assert data.input_shape == (10, 1) and data.num_classes == 1
    assert data.y_train.dtype == np.float32 and abs(float(data.y_train.mean())) < 1e-4
    assert 60 < data.info["target_std"] < 90 and 130 < data.info["target_mean"] < 170
    with pytest.raises(DataError, match="has no column 'outcome'"):
        load_dataset(str(diabetes_csv), task="regression", target="outcome")
    with pytest.raises(ConfigError, match="task of load_dataset must be one of classification, regression"):
        load_dataset(str(diabetes_csv), task="ranking")


def test_trainer_regression_learns_and_reports_mae(diabetes_csv) -> None:
    space = ChainSpace(**SPACE)
    arch = space.sample(np.random.default_rng(0))
    common = {"dataset": str(diabetes_csv), "task": "regression", "target": "progression",
              "epochs": 15, "batch_size": 32, "latency_repeats": 1, "lr": 0.01}
    evaluator = TrainerEvaluator(space, **common)
    assert "valid_mae" in evaluator.metrics() and "valid_accuracy" not in evaluator.metrics()
    metrics = evaluator.evaluate(arch, seed=0)
    data = evaluator.data()
    baseline = float(np.mean(np.abs(data.y_valid))) * data.info["target_std"]  # predict the mean
    assert metrics["valid_mae"] < 0.9 * baseline
    assert metrics == pytest.approx(TrainerEvaluator(space, **common).evaluate(arch, seed=0) | {
        k: metrics[k] for k in ("train_time", "latency_ms")})


def test_regression_search_from_the_cli_minimises_valid_mae(diabetes_csv, tmp_path) -> None:
    db = tmp_path / "s.db"
    args = ["search", "--space", "chain", "--strategy", "random", "--dataset", str(diabetes_csv),
            "--trials", "2", "--name", "reg", "--storage", str(db), "--objective", "valid_mae:min",
            "-o", "evaluator.task=regression", "-o", "evaluator.target=progression",
            "-o", "evaluator.epochs=3", "-o", "evaluator.latency_repeats=1",
            "-o", "space.max_nodes=2", "-o", "space.filters=[8]", "-o", "space.kernels=[1]",
            "-o", "space.include_pooling=false", "-o", "space.numeric_genes=false"]
    assert main(args) == 0
    store = SQLiteStore(db)
    trials = store.trials(store.get_study("reg").study_id)
    assert [t.state.value for t in trials] == ["COMPLETE", "COMPLETE"]
    assert all(0 < t.values[0] < 200 for t in trials)
    # the exported model says how to turn its output back into the target's unit
    assert main(["export", "reg", "--storage", str(db), "--output", str(tmp_path / "model")]) == 0
    described = json.loads((tmp_path / "model" / "architecture.json").read_text())
    assert described["task"] == "regression" and 60 < described["target_std"] < 90
    assert described["output"].startswith("standardised target")


def test_bad_task_and_target_fail_in_one_line(diabetes_csv) -> None:
    space = ChainSpace(**SPACE)
    with pytest.raises(ConfigError, match="parameter task of TrainerEvaluator must be one of"):
        TrainerEvaluator(space, dataset=str(diabetes_csv), task="ranking")
    with pytest.raises(ConfigError, match="option target of TrainerEvaluator names a table column"):
        TrainerEvaluator(space, dataset="digits", target="label")
