"""`nasforge ablate`: leave-one-component-out over a model's modules or a table's features."""

from __future__ import annotations

import itertools
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
    storage: Optional[str] = typer.Option(None, help="SQLite file to record the trials in"),
    output: Optional[Path] = typer.Option(None, "--output", help="write the report as JSON"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Run an ablation study (a base trial + one per component, over seeds); print the table."""
    from ..ablation.config import build_ablation, build_executor, load_ablation_file

    cfg = load_ablation_file(config)
    overrides = {"executor": executor, "workers": workers, "epochs": epochs, "storage": storage,
                 "seeds": None if seeds is None else list(range(seeds))}
    cfg = cfg.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    cfg = type(cfg).model_validate(cfg.model_dump())  # re-check overridden values
    # a factory module next to the config ('my_model:build') must be importable, here and in workers
    sys.path.insert(0, str(config.resolve().parent))
    ablation = build_ablation(cfg)
    total, counter = len(ablation.tasks()), itertools.count(1)

    def progress(trial) -> None:
        outcome = f"{trial.values[0]:.4f}" if trial.values else f"FAILED: {trial.error}"
        typer.echo(f"[{next(counter)}/{total}] {trial.arch} seed {trial.seed}: {outcome}", err=True)

    report = ablation.run(build_executor(cfg), storage=cfg.storage, name=cfg.name,
                          config=cfg.model_dump(), on_trial=progress)
    data = report.to_dict()
    if output is not None:
        output.write_text(json.dumps(data, indent=2))
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    _print_table(report, cfg)


def _print_table(report, cfg) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"ablation {cfg.name!r}: {cfg.kind}, seeds {report.seeds}, "
                        f"{report.objective} (sorted by impact)")
    metric = f"{report.objective.name} mean ± std"
    for column in ("component", metric, "change vs base", "removed"):
        table.add_column(column)
    for row in report.table_rows():
        table.add_row(*row)
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(table)
    if report.info.get("skipped"):
        console.print("not removable (skipped by 'all'): " + "; ".join(
            f"{k} ({v})" for k, v in report.info["skipped"].items()))
