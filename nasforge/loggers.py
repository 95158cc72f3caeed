"""Optional experiment-tracker callbacks: each finished trial's metrics and its learning curve
(the intermediate reports the store holds) go to TensorBoard or MLflow.

Both are Study callbacks ``(study, trial)``, attached by ``nasforge search/resume --log-to
tensorboard:DIR`` / ``--log-to mlflow[:TRACKING_URI]`` or a config's ``loggers:`` list. Their
libraries are imported only when a logger is built (extras ``tensorboard`` / ``mlflow``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .errors import ConfigError, require
from .trial import Trial


def numeric(metrics: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))}


def curve(study: Any, number: int) -> list[tuple[int, dict[str, Any]]]:
    """One trial's intermediate reports (step order), read from the study's store."""
    import json

    try:
        rows = study.store._db.execute(  # one trial's rows, not the whole study's
            "SELECT step, metrics FROM intermediate WHERE study_id = ? AND number = ? ORDER BY step",
            (study.record.study_id, number),
        ).fetchall()
    except Exception:  # a store without intermediate reports
        return []
    return [(int(step), json.loads(metrics)) for step, metrics in rows]


class TensorBoardLogger:
    """Scalars ``trial/<metric>`` by trial number, ``best/<objective>`` so far, and
    ``curve/<metric>/trial_<n>`` by step, in one event file under ``log_dir``."""

    def __init__(self, log_dir: str | Path) -> None:
        require("tensorboard", "tensorboard")
        tensorboard = require("torch.utils.tensorboard", "torch")
        self.log_dir = Path(log_dir)
        self.writer = tensorboard.SummaryWriter(log_dir=str(self.log_dir))
        self.best: float | None = None

    def __call__(self, study: Any, trial: Trial) -> None:
        for key, value in numeric(trial.metrics).items():
            self.writer.add_scalar(f"trial/{key}", value, trial.number)
        if trial.values and study is not None and trial.state.value == "COMPLETE":
            objective = study.objectives[0]
            value = float(trial.values[0])
            if self.best is None or objective.sign * value > objective.sign * self.best:
                self.best = value
            self.writer.add_scalar(f"best/{objective.name}", self.best, trial.number)
        if study is not None:
            for step, metrics in curve(study, trial.number):
                for key, value in numeric(metrics).items():
                    self.writer.add_scalar(f"curve/{key}/trial_{trial.number}", value, step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class MLflowLogger:
    """One MLflow run per trial in experiment ``experiment`` (default: the study name): the
    architecture, seed, fidelity and state as params, metrics, and the curve as stepped metrics."""

    def __init__(self, tracking_uri: str | None = None, experiment: str | None = None) -> None:
        self.mlflow = require("mlflow", "mlflow")
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        if tracking_uri:
            self.mlflow.set_tracking_uri(tracking_uri)
        self._experiment_id: str | None = None

    def _experiment(self, study: Any) -> str:
        if self._experiment_id is None:
            name = self.experiment or (study.name if study is not None else "nasforge")
            found = self.mlflow.get_experiment_by_name(name)
            self._experiment_id = found.experiment_id if found else self.mlflow.create_experiment(name)
        return self._experiment_id

    def __call__(self, study: Any, trial: Trial) -> None:
        client = self.mlflow.tracking.MlflowClient(self.tracking_uri)
        run = client.create_run(self._experiment(study), run_name=f"trial-{trial.number}",
                                tags={"nasforge.study": getattr(study, "name", "")})  # fmt: skip
        run_id = run.info.run_id
        params = {"arch": trial.arch[:500], "seed": trial.seed, "fidelity": trial.fidelity,
                  "state": trial.state.value, "number": trial.number}  # fmt: skip
        for key, value in params.items():
            client.log_param(run_id, key, value)
        if trial.error:
            client.set_tag(run_id, "error", trial.error[:500])
        for key, value in numeric(trial.metrics).items():
            client.log_metric(run_id, key, value, step=trial.fidelity or 0)
        if study is not None:
            for step, metrics in curve(study, trial.number):
                for key, value in numeric(metrics).items():
                    client.log_metric(run_id, f"curve_{key}", value, step=step)
        status = "FINISHED" if trial.state.value in ("COMPLETE", "PRUNED") else "FAILED"
        client.set_terminated(run_id, status=status)

    def close(self) -> None:
        pass


def build(specs: list[str] | None, study_name: str | None = None) -> list[Any]:
    """Loggers from ``tensorboard:DIR`` / ``mlflow`` / ``mlflow:URI`` specs."""
    out = []
    for spec in specs or []:
        kind, _, target = str(spec).partition(":")
        if kind == "tensorboard":
            out.append(TensorBoardLogger(target or "runs"))
        elif kind == "mlflow":
            out.append(MLflowLogger(target or None, study_name))
        else:
            raise ConfigError(
                f"logger {spec!r} unknown; use 'tensorboard:DIR', 'mlflow' or 'mlflow:TRACKING_URI'"
            )
    return out
