"""TensorBoard and MLflow loggers on a real NB201 table study with ASHA (so trials have learning
curves in the store): read back what was logged."""

from __future__ import annotations

import pytest

from nasforge.cli.app import main
from nasforge.store import SQLiteStore


def _search(tmp_path, data_dir, *log_to):
    args = ["search", "--space", "nb201", "--strategy", "random", "--dataset", "cifar10",
            "--trials", "12", "--seed", "0", "--scheduler", "asha", "--storage",
            str(tmp_path / "s.db"), "--data", str(data_dir), "--name", "logged"]
    for spec in log_to:
        args += ["--log-to", spec]
    return main(args)


def test_tensorboard_logs_metrics_and_curves(tmp_path, data_dir):
    pytest.importorskip("tensorboard")
    pytest.importorskip("torch")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    assert _search(tmp_path, data_dir, f"tensorboard:{tmp_path / 'tb'}") == 0
    events = EventAccumulator(str(tmp_path / "tb"), size_guidance={"scalars": 0})
    events.Reload()
    tags = events.Tags()["scalars"]
    store = SQLiteStore(tmp_path / "s.db")
    study_id = store.get_study("logged").study_id
    trials = store.trials(study_id)
    logged = events.Scalars("trial/valid_accuracy")
    assert [e.step for e in logged] == [t.number for t in trials]
    assert [round(e.value, 3) for e in logged] == [round(t.metrics["valid_accuracy"], 3) for t in trials]
    curves = store.intermediate(study_id)
    number, reports = next(iter(curves.items()))
    steps = [e.step for e in events.Scalars(f"curve/valid_accuracy/trial_{number}")]
    assert steps == [step for step, _ in reports] and len(steps) >= 1
    best = events.Scalars("best/valid_accuracy")
    assert [e.value for e in best] == sorted(e.value for e in best)
    assert "trial/test_accuracy" in tags


def test_mlflow_logs_one_run_per_trial(tmp_path, data_dir):
    mlflow = pytest.importorskip("mlflow", reason="mlflow not installed: pip install 'nasforge[mlflow]'")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert _search(tmp_path, data_dir, f"mlflow:{uri}") == 0
    client = mlflow.tracking.MlflowClient(uri)
    experiment = client.get_experiment_by_name("logged")
    runs = client.search_runs([experiment.experiment_id], max_results=100)
    assert len(runs) == 12
    store = SQLiteStore(tmp_path / "s.db")
    trials = {t.number: t for t in store.trials(store.get_study("logged").study_id)}
    for run in runs:
        trial = trials[int(run.data.params["number"])]
        assert run.data.params["arch"] == trial.arch
        assert run.data.metrics["valid_accuracy"] == pytest.approx(trial.metrics["valid_accuracy"])
        history = client.get_metric_history(run.info.run_id, "curve_valid_accuracy")
        assert len(history) >= 1


def test_unknown_logger_exits_2(tmp_path, data_dir, capsys):
    assert _search(tmp_path, data_dir, "wandb") == 2
    assert "logger 'wandb' unknown" in capsys.readouterr().err


def test_example_config_loggers_key(tmp_path, data_dir, monkeypatch):
    pytest.importorskip("tensorboard")
    pytest.importorskip("torch")
    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    monkeypatch.chdir(tmp_path)  # the example logs to runs/tensorboard, relative to the cwd
    assert main(["search", "-c", str(root / "examples" / "nb201_watch.yaml"), "--trials", "6",
                 "--storage", str(tmp_path / "w.db"), "--data", str(data_dir)]) == 0
    assert list((tmp_path / "runs" / "tensorboard").glob("events.out.tfevents.*"))
