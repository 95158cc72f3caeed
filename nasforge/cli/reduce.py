"""`nasforge reduce`: find a much smaller variant of a base CNN with the same accuracy."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer


def reduce(
    config: Path = typer.Option(..., "--config", "-c", help="reduction YAML (see examples/reduce_*.yaml)"),
    strategy: Optional[str] = typer.Option(None, help="greedy_shrink, reinforce, nsga2, evolution (overrides search.strategy)"),
    trials: Optional[int] = typer.Option(None, help="search trials (overrides search.trials)"),
    seeds: Optional[int] = typer.Option(None, help="final retraining seeds 0..N-1 (overrides seeds)"),
    name: Optional[str] = typer.Option(None, help="study name (default from base, dataset, strategy, seed)"),
    storage: Optional[str] = typer.Option(None, help="SQLite file for the search study"),
    export: Optional[Path] = typer.Option(None, help="write the reduced network here as plain PyTorch"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="write the report as JSON"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Train the base, search the reduction space, retrain the pick, compare with pruning; print the report."""
    from ..config import load_config_file
    from ..reduction.pipeline import format_report, parse_reduce_config, run_reduction

    data = load_config_file(config)
    search = dict(data.get("search") or {})
    if strategy is not None:
        search["strategy"] = strategy
    if trials is not None:
        search["trials"] = trials
    data["search"] = search
    overrides = {"name": name, "storage": storage, "seeds": None if seeds is None else list(range(seeds)),
                 "export": None if export is None else str(export), "output": None if output is None else str(output)}
    data.update({k: v for k, v in overrides.items() if v is not None})
    cfg = parse_reduce_config(data)
    # a user factory module next to the config ('my_net:build') must be importable here and in workers
    sys.path.insert(0, str(config.resolve().parent))
    report = run_reduction(cfg, log=lambda line: typer.echo(line, err=True))
    typer.echo(json.dumps(report, indent=2) if as_json else format_report(report))
