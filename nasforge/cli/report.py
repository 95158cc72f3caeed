"""`nasforge report` and `nasforge list`: read-only views of a study file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from ..errors import ConfigError


def _open(storage: str):
    from ..store.sqlite import SQLiteStore

    if not Path(storage).is_file():
        raise ConfigError(f"storage file {storage!r} not found")
    return SQLiteStore(storage)


def open_study_record(storage: str, name: str | None):
    """(store, record) of study ``name``, or of the only study in the file when no name is given."""
    store = _open(storage)
    if name is None:
        names = store.study_names()
        if len(names) != 1:
            raise ConfigError(
                f"{storage} holds {len(names)} studies; name one of: {', '.join(names) or 'none'}"
            )
        name = names[0]
    return store, store.get_study(name)


def report(
    names: Optional[list[str]] = typer.Argument(
        None, help="study name (optional if the file has one); several with --html compare them"
    ),
    storage: str = typer.Option("nasforge.db", help="SQLite file holding the study"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    top: int = typer.Option(10, help="rows in the text table of top trials"),
    html: Optional[Path] = typer.Option(None, "--html", help="write a self-contained HTML report"),
    compare: Optional[list[str]] = typer.Option(
        None, "--compare", help="more studies in the HTML report: --compare a b c (or a,b,c)"
    ),
) -> None:
    """Summarise a study from its file alone: counts by state, best trial, Pareto front."""
    from ..report.summary import study_summary

    names = list(names or [])
    if (compare or len(names) > 1) and html is None:
        raise ConfigError("comparing studies (--compare, several names) needs --html OUT.html")
    if html is not None:
        from .report_html import write_html

        write_html(storage, names + list(compare or []), html)
        return
    name = names[0] if names else None
    if top < 0:
        raise ConfigError(f"--top must be >= 0, got {top}")
    store, record = open_study_record(storage, name)
    from ..ablation.report import show_stored

    if show_stored(store, record.name, as_json):  # an ablation study: its table, from the store
        return
    trials = store.trials(record.study_id)
    summary = study_summary(record, trials)
    if as_json:
        typer.echo(json.dumps(summary, allow_nan=False))
        return
    _print_text(trials, summary, top)


def _print_text(trials: list, summary: dict[str, Any], top: int) -> None:
    import sys

    from rich.console import Console
    from rich.table import Table

    from ..objectives import parse_objectives
    from ..report.summary import ranked
    from .search import print_result

    # full architecture strings matter more than fitting 80 columns when output is piped
    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(
        f"[bold]{summary['study']}[/bold]  space={summary['space']} strategy={summary['strategy']} "
        f"dataset={summary['dataset']} objectives={', '.join(summary['objectives'])}"
    )
    print_result(summary)
    front = summary.get("pareto_front")
    if front:
        hv = summary.get("hypervolume")
        ref = summary.get("reference_point")
        table = Table(title=f"Pareto front ({len(front)} points), hypervolume={hv:.4g} "
                            f"(normalised, reference point {ref})")  # fmt: skip
        keys = [o.split(":")[0] for o in summary["objectives"]]
        table.add_column("arch")
        for key in keys:
            table.add_column(key, justify="right")
        for point in front:
            table.add_row(point["arch"], *[f"{point['metrics'].get(k, float('nan')):.4g}" for k in keys])
        console.print(table)
        return
    objective = parse_objectives(summary["objectives"])[0]
    best = ranked(trials, objective)
    table = Table(title=f"top {min(top, len(best))} trials by {objective}")
    test_key = "test_dice" if any("test_dice" in t.metrics for t in best) else "test_accuracy"
    for col in ("#", "arch", objective.name, test_key, "seconds"):
        table.add_column(col)
    for t in best[:top]:
        test = t.metrics.get(test_key)
        table.add_row(str(t.number), t.arch, f"{t.values[0]:.4g}",
                      "-" if test is None else f"{test:.4g}", f"{t.duration or 0:.2f}")  # fmt: skip
    console.print(table)
    if best:
        from ..report.continual import print_task_table

        print_task_table(console, best[0].metrics, f"trial {best[0].number}")


def list_studies(
    storage: str = typer.Option("nasforge.db", help="SQLite file holding the studies"),
) -> None:
    """List the studies in a file with their trial counts."""
    store = _open(storage)
    for study_name in store.study_names():
        record = store.get_study(study_name)
        counts = store.counts(record.study_id)
        parts = " ".join(f"{s}={n}" for s, n in counts.items() if n)
        cfg = record.config
        what = (f"{cfg['space']}/{cfg.get('strategy')}" if cfg.get("space")
                else f"ablation/{cfg.get('kind', 'unknown')}")  # ablation studies before spine v2
        typer.echo(f"{study_name}\t{what}\t{parts or 'empty'}")


def delete(
    name: str = typer.Argument(..., help="study name"),
    storage: str = typer.Option("nasforge.db", help="SQLite file holding the study"),
) -> None:
    """Delete a study: its trials, reports and artifact folder (checkpoints, weights)."""
    from ..study.api import delete_study

    delete_study(name, storage)
    typer.echo(f"deleted study {name!r} from {storage}")
