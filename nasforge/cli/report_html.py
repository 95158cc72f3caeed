"""`nasforge report --html`: the page is built from the store alone (read-only), so it works on a
study that is still running and on a copied file without the data the study used."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from ..errors import ConfigError


def write_html(storage: str, name: str | None, compare: list[str], out: Path) -> None:
    from ..report import data, html

    store = data.open_read_only(storage)
    names = store.study_names()
    wanted = ([name] if name else []) + [n.strip() for item in compare for n in item.split(",") if n.strip()]
    if not wanted:
        if len(names) != 1:
            raise ConfigError(
                f"{storage} holds {len(names)} studies; name one of: {', '.join(names) or 'none'}"
            )
        wanted = names
    if not out.parent.is_dir():
        raise ConfigError(f"folder {str(out.parent)!r} of --html does not exist")
    started = time.perf_counter()
    studies = [data.load(store, n) for n in dict.fromkeys(wanted)]
    html.write(studies, out)
    typer.echo(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {len(studies)} "
               f"{'study' if len(studies) == 1 else 'studies'}, {time.perf_counter() - started:.2f}s)")
