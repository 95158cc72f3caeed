"""`nasforge search` and `nasforge resume`: run a study from a config and/or flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from ..config import apply_overrides, load_config_file, parse_config
from ..errors import ConfigError
from .common import Progress, parse_assignments

SHOWN_METRICS = ("valid_accuracy", "test_accuracy", "valid_dice", "test_dice", "params_m", "flops_m",
                 "latency_ms", "train_time")


def search(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML config file"),
    space: Optional[str] = typer.Option(None, help="search space (list below)"),
    strategy: Optional[str] = typer.Option(None, help="search strategy (list below)"),
    dataset: Optional[str] = typer.Option(None, help="dataset of the evaluator (e.g. cifar10, digits)"),
    trials: Optional[int] = typer.Option(None, help="total number of trials in the study"),
    timeout: Optional[float] = typer.Option(None, help="wall-clock budget in seconds"),
    seed: Optional[int] = typer.Option(None, help="study seed"),
    name: Optional[str] = typer.Option(None, help="study name (default: derived from the config)"),
    storage: Optional[str] = typer.Option(None, help="SQLite file holding the study"),
    data: Optional[str] = typer.Option(None, help="benchmark data folder (else $NASFORGE_DATA)"),
    fidelity: Optional[int] = typer.Option(None, help="fidelity, e.g. epochs"),
    objectives: Optional[list[str]] = typer.Option(
        None, "--objectives", "--objective", help="metric[:max|min]; repeat or comma-separate"
    ),
    constraints: Optional[list[str]] = typer.Option(
        None, "--constraints", "--constraint", help="e.g. latency_ms<=5; repeat or comma-separate"
    ),
    evaluator: Optional[str] = typer.Option(None, help="evaluator (list below)"),
    executor: Optional[str] = typer.Option(None, help="serial, local or ray (overrides the config's)"),
    workers: Optional[int] = typer.Option(None, help="parallel workers; > 1 alone means executor local"),
    scheduler: Optional[str] = typer.Option(None, help="early stopping: median, asha"),
    option: Optional[list[str]] = typer.Option(
        None, "--option", "-o", help="component option, e.g. -o strategy.population=20"
    ),
    log_to: Optional[list[str]] = typer.Option(
        None, "--log-to", help="tensorboard:DIR, mlflow or mlflow:TRACKING_URI (repeatable)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the final report as JSON"),
) -> None:
    """Run a new architecture search."""
    from ..study.api import create_study_from_config

    data_: dict[str, Any] = load_config_file(config) if config else {}
    flags = {
        "space": space, "strategy": strategy, "dataset": dataset, "trials": trials,
        "timeout": timeout, "seed": seed, "name": name, "storage": storage, "data": data,
        "fidelity": fidelity, "objectives": _split(objectives), "evaluator": evaluator,
        "constraints": _split(constraints),
        "executor": executor, "workers": workers, "scheduler": scheduler,
    }  # fmt: skip
    loggers = list(data_.pop("loggers", None) or []) + list(log_to or [])  # config key or flag
    data_ = apply_overrides(data_, flags)
    for key, value in parse_assignments(option).items():
        if key.endswith("_options"):
            data_.setdefault(key, {}).update(value)
        else:
            data_[key] = value
    cfg = parse_config(data_)
    study = create_study_from_config(cfg)
    typer.echo(f"study {study.name!r} in {cfg.storage}: {cfg.space} / {cfg.strategy} / "
               f"{cfg.evaluator_name}" + (f" / {cfg.dataset}" if cfg.dataset else ""), err=True)
    _run(study, cfg.trials, cfg.timeout, cfg.storage, as_json, loggers)
    _next_steps(study, cfg.storage)


def resume(
    name: str = typer.Argument(..., help="study name"),
    storage: str = typer.Option("nasforge.db", help="SQLite file holding the study"),
    trials: Optional[int] = typer.Option(None, help="new total number of trials"),
    timeout: Optional[float] = typer.Option(None, help="wall-clock budget in seconds"),
    data: Optional[str] = typer.Option(None, help="benchmark data folder"),
    executor: Optional[str] = typer.Option(None, help="serial, local, ray"),
    workers: Optional[int] = typer.Option(None, help="parallel workers"),
    log_to: Optional[list[str]] = typer.Option(
        None, "--log-to", help="tensorboard:DIR, mlflow or mlflow:TRACKING_URI (repeatable)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the final report as JSON"),
) -> None:
    """Continue a study after a crash or with a larger budget; RUNNING trials are re-run."""
    from ..study.api import load_study, stored_config

    overrides = {"trials": trials, "timeout": timeout, "data": data, "executor": executor,
                 "workers": workers}  # fmt: skip
    study = load_study(name, storage, overrides)
    study.check_free()
    cfg = stored_config(study)
    total = trials if trials is not None else (cfg.trials if cfg else None)
    counts = study.counts()
    finished = sum(n for s, n in counts.items() if s != "RUNNING")
    if trials is not None and trials < finished:
        raise ConfigError(
            f"--trials {trials} is below the {finished} trials study {name!r} already has; "
            "--trials is the new total: give a larger number"
        )
    typer.echo(f"resuming {name!r}: {counts['COMPLETE']} complete, {counts['RUNNING']} to re-run",
               err=True)  # fmt: skip
    _run(study, total, timeout, storage, as_json, log_to)
    _next_steps(study, storage)


def _next_steps(study: Any, storage: str) -> None:
    """The exact commands that read this study (on stderr, so --json output stays one object)."""
    import shlex

    where = f"{shlex.quote(study.name)} --storage {shlex.quote(str(storage))}"
    lines = [f"report:  nasforge report {where}", f"trials:  nasforge trials {where} --csv"]
    if callable(getattr(study.evaluator, "train", None)):  # a training evaluator: weights to export
        lines.append(f"export:  nasforge export {where} --output {shlex.quote(study.name + '-model')}")
    typer.echo("\n".join(lines), err=True)


def _run(study: Any, total: int | None, timeout: float | None, storage: str, as_json: bool,
         loggers: list[str] | None = None) -> None:
    from ..loggers import build
    from ..report.summary import study_summary

    trackers = build(loggers, study.name)
    counts = study.counts()
    already = sum(n for s, n in counts.items() if s != "RUNNING")
    objective = study.objectives[0]
    earlier = study.best_trial  # one notion of best, earlier trials included
    best = earlier.values[0] if earlier is not None else None
    try:
        with Progress(total, already, objective.name, objective.sign, best) as progress:
            study.optimize(n_trials=total, timeout=timeout, callbacks=[progress, *trackers])
    except KeyboardInterrupt:
        typer.echo(f"\ninterrupted; continue with: nasforge resume {study.name} --storage {storage}",
                   err=True)  # fmt: skip
        raise typer.Exit(130)
    finally:
        for tracker in trackers:
            tracker.close()
    from ..ablation.report import show_stored

    summary = study_summary(study.record, study.trials)
    if show_stored(study.store, study.name, as_json):  # an ablation study shows its table instead
        pass
    elif as_json:
        typer.echo(json.dumps(summary, allow_nan=False))
    else:
        print_result(summary)
    counts = summary["counts"]
    if counts["FAILED"] and not counts["COMPLETE"] and not counts["PRUNED"]:
        first = (summary.get("failures") or [{}])[0].get("error")
        typer.echo(f"error: every trial failed ({counts['FAILED']}); first reason: {first}", err=True)
        raise typer.Exit(1)


def print_result(summary: dict[str, Any]) -> None:
    counts = ", ".join(f"{n} {s}" for s, n in summary["counts"].items() if n)
    typer.echo(f"study {summary['study']!r}: {counts or 'no trials'}")
    best = summary.get("best")
    if best is None:
        typer.echo("no completed trial")
        return
    typer.echo(f"best trial #{best['number']}: {best['arch']}")
    metrics = best["metrics"]
    shown = [k for k in SHOWN_METRICS if k in metrics] + [
        o.split(":")[0] for o in summary["objectives"] if o.split(":")[0] not in SHOWN_METRICS
    ]
    typer.echo("  " + "  ".join(f"{k}={_fmt(metrics.get(k), k)}" for k in dict.fromkeys(shown)))


def _split(items: Optional[list[str]]) -> Optional[list[str]]:
    """Repeated and comma-separated flag values as one list (None when not given)."""
    out = [part.strip() for item in items or [] for part in item.split(",") if part.strip()]
    return out or None


def _fmt(value: Any, key: str = "") -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
