"""`nasforge export`: retrain a study's best (or a chosen) trial and write a standalone model folder."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import ConfigError


def export(
    name: Optional[str] = typer.Argument(None, help="study name (optional if the file has one)"),
    storage: str = typer.Option("nasforge.db", help="SQLite file holding the study"),
    out: Path = typer.Option(..., "--out", help="folder to write model.pt2, weights.pt and JSON files"),
    trial: Optional[int] = typer.Option(None, help="trial number to export (default: the best trial)"),
    data: Optional[str] = typer.Option(None, help="data folder, if it moved since the search"),
) -> None:
    """Export a trained network: retrains the trial deterministically from its seed and fidelity."""
    from ..store.sqlite import SQLiteStore
    from ..study.api import load_study

    if not Path(storage).is_file():
        raise ConfigError(f"storage file {storage!r} not found")
    store = SQLiteStore(storage)
    if name is None:
        names = store.study_names()
        if len(names) != 1:
            raise ConfigError(
                f"{storage} holds {len(names)} studies; name one of: {', '.join(names) or 'none'}"
            )
        name = names[0]
    study = load_study(name, store, {"data": data})
    from ..export import METRICS_FILE, export_study

    folder = export_study(study, out, trial)
    import json

    summary = json.loads((folder / METRICS_FILE).read_text())
    retrained = summary["retrained"]
    note = "matches the stored trial" if summary.get("matches_record") else (
        "WARNING: differs from the stored trial (different torch version, threads or data?)"
    )
    metric = "dice" if "valid_dice" in retrained else "accuracy"  # segmentation studies score Dice
    fmt = ".4f" if metric == "dice" else ".2f"
    typer.echo(
        f"exported to {folder}: valid_{metric}={retrained[f'valid_{metric}']:{fmt}} "
        f"test_{metric}={retrained[f'test_{metric}']:{fmt}} ({note})"
    )
