"""`nasforge trials`: every trial of a study (metrics, genes, timing, state) as CSV or JSON lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from ..errors import ConfigError


def trials(
    name: Optional[str] = typer.Argument(None, help="study name (optional if the file has one)"),
    storage: str = typer.Option("nasforge.db", help="SQLite file holding the study"),
    as_csv: bool = typer.Option(False, "--csv", help="CSV with a header row (the default)"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per trial per line"),
    output: Optional[Path] = typer.Option(None, "--output", help="write to this file, not stdout"),
) -> None:
    """Export every trial of a study: state, timing, objective values, metrics and genes."""
    from ..store.sqlite import SQLiteStore
    from ..study.table import to_csv, trial_rows

    if as_csv and as_json:
        raise ConfigError("choose one of --csv and --json")
    if not Path(storage).is_file():
        raise ConfigError(f"storage file {storage!r} not found")
    store = SQLiteStore(storage)
    if name is None:
        names = store.study_names()
        if len(names) != 1:
            raise ConfigError(f"{storage} holds {len(names)} studies; name one of: {', '.join(names) or 'none'}")
        name = names[0]
    record = store.get_study(name)
    rows = trial_rows(store.trials(record.study_id), _objectives(record.config), _space(record.config))
    if as_json:
        text = "".join(json.dumps(row, allow_nan=False, default=str) + "\n" for row in rows)
    else:
        text = to_csv(rows)
    if output is not None:
        output.write_text(text)
        typer.echo(f"{len(rows)} trials written to {output}", err=True)
    else:
        typer.echo(text, nl=False)


def _objectives(config: dict[str, Any]) -> list:
    from ..objectives import parse_objectives

    return parse_objectives(config.get("objectives") or ["valid_accuracy:max"])


def _space(config: dict[str, Any]) -> Any:
    """The study's space, rebuilt from its stored name and options (cheap: no data); None if the
    space cannot be rebuilt here, in which case the gene columns are left out."""
    from .. import registry

    try:
        return registry.resolve("space", config["space"])(**(config.get("space_options") or {}))
    except Exception:  # noqa: BLE001 - a space from an uninstalled package: rows without genes
        return None
