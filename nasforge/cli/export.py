"""`nasforge export`: write a study's best (or a chosen) trial as a standalone model folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ..errors import ConfigError


def export(
    name: Optional[str] = typer.Argument(None, help="study name (optional if the file has one)"),
    storage: str = typer.Option("nasforge.db", help="SQLite file holding the study"),
    out: Path = typer.Option(..., "--output", help="folder to write model.pt2, weights.pt and JSON files"),
    trial: Optional[int] = typer.Option(None, help="trial number to export (default: the best trial)"),
    data: Optional[str] = typer.Option(None, help="data folder, only needed to retrain a trial without saved weights"),
    force: bool = typer.Option(False, "--force", help="overwrite an earlier export in --output"),
) -> None:
    """Export a trained network from the weights saved during the search (retrains only a trial
    that has none, deterministically from its seed and fidelity, and says so)."""
    from ..config import build_space
    from ..export import METRICS_FILE, export_trial, pick_trial
    from ..objectives import parse_objectives
    from .report import open_study_record

    store, record = open_study_record(storage, name)
    trials = store.trials(record.study_id)
    objective = parse_objectives(record.config.get("objectives") or ["valid_accuracy:max"])[0]
    chosen = pick_trial(record.name, trials, objective, trial)
    folder = store.artifacts.trial_dir(record.name, chosen.number)
    if (folder / "checkpoint.pt").is_file():
        space = build_space(record.config)
        path, retrained = export_trial(chosen, space, out, folder, force=force)
    else:
        from ..study.api import load_study

        study = load_study(record.name, store, {"data": data})
        if not hasattr(study.evaluator, "train"):
            raise ConfigError(
                f"export needs a training evaluator (trainer), got {study.evaluator.name!r}: "
                "tabular evaluators have no weights to export"
            )
        typer.echo(f"trial {chosen.number} has no saved weights in {folder}: retraining it "
                   "(deterministic, from its seed and fidelity)", err=True)  # fmt: skip
        path, retrained = export_trial(chosen, study.space, out, None, study.evaluator, study.fidelity,
                                       force=force)
    summary = json.loads((path / METRICS_FILE).read_text())
    recorded = summary.get("recorded", {})
    if retrained:
        ok = summary.get("matches_record")
        note = "retrained; " + ("matches the stored trial" if ok else
                                "WARNING: differs from the stored trial (torch version, threads or data?)")
    else:
        note = "saved weights, not retrained"
    metric = objective.name
    typer.echo(f"exported trial {chosen.number} to {path}: {metric}={recorded.get(metric)} ({note})")
