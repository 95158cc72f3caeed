"""`nasforge ablate`: leave-one-component-out over a model's modules or an input's features.

The ablation runs as an ordinary study (space 'ablation', strategy 'loco'), so with ``--storage``
it can be resumed with ``nasforge resume`` and shown again with ``nasforge report``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer


def ablate(
    config: Path = typer.Option(..., "--config", "-c", help="ablation YAML (kind: model|features)"),
    executor: Optional[str] = typer.Option(None, help="serial, local, ray (overrides the config)"),
    workers: Optional[int] = typer.Option(None, help="parallel workers (overrides the config)"),
    seeds: Optional[int] = typer.Option(None, help="use seeds 0..N-1 instead of the config's"),
    epochs: Optional[int] = typer.Option(None, help="training epochs per trial"),
    storage: Optional[str] = typer.Option(None, help="SQLite file to record the study in (resumable)"),
    name: Optional[str] = typer.Option(None, help="study name (overrides the config)"),
    output: Optional[Path] = typer.Option(None, "--output", help="write the report as JSON"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Run an ablation study (a base trial + one per component, over seeds); print the table."""
    from ..ablation.config import build_ablation, load_ablation_file
    from ..ablation.report import ablation_report, print_report

    cfg = load_ablation_file(config)
    # flags override the config without clashing with its other keys, as in `search`:
    # --executor serial drops the config's workers, --workers N > 1 alone means the local pool
    if executor == "serial" and workers is None:
        workers = 1
    if workers is not None and workers > 1 and executor is None and cfg.executor == "serial":
        executor = "local"
    overrides = {"executor": executor, "workers": workers, "epochs": epochs, "storage": storage,
                 "name": name, "seeds": None if seeds is None else list(range(seeds))}
    cfg = cfg.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    cfg = type(cfg).model_validate(cfg.model_dump())  # re-check overridden values
    # a factory module beside the config ('my_model:build') is found there, after installed packages
    ablation = build_ablation(cfg, search_path=str(config.resolve().parent))
    study = ablation.create(ablation.study_config(
        cfg.name, cfg.storage, cfg.executor, cfg.workers, cfg.executor_options))
    total = ablation.n_trials()
    done = [0]

    def progress(_study, trial) -> None:
        done[0] += 1
        outcome = f"{trial.values[0]:.4f}" if trial.values else f"{trial.state.value}: {trial.error}"
        typer.echo(f"[{done[0]}/{total}] {trial.arch}: {outcome}", err=True)

    try:
        study.optimize(n_trials=total, callbacks=[progress])
    except KeyboardInterrupt:
        if cfg.storage:
            typer.echo(f"\ninterrupted; continue with: nasforge resume {study.name} --storage {cfg.storage}",
                       err=True)
        raise typer.Exit(130)
    report = ablation_report(study.record.config, study.trials)
    data = report.to_dict()
    if output is not None:
        output.write_text(json.dumps(data, indent=2, allow_nan=False))
    if as_json:
        typer.echo(json.dumps(data, indent=2, allow_nan=False))
    else:
        print_report(report, width=None if sys.stdout.isatty() else 160)
    if cfg.storage:
        from .search import _next_steps

        _next_steps(study, cfg.storage)
    failed = [t for t in study.trials if t.state.value == "FAILED"]
    if failed and len(failed) == len(study.trials):
        typer.echo(f"error: every trial failed ({len(failed)}); first reason: {failed[0].error}", err=True)
        raise typer.Exit(1)
