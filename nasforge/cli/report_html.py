"""`nasforge report --html`: the page is built from the store alone (read-only), so it works on a
study that is still running and on a copied file without the data the study used."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from ..errors import ConfigError


def write_html(storage: str, names: list[str], out: Path) -> None:
    """``names`` may hold comma lists; none: the file's only study."""
    from ..report import data, html

    store = data.open_read_only(storage)
    wanted = [n.strip() for item in names for n in item.split(",") if n.strip()]
    if not wanted:
        stored = store.study_names()
        if len(stored) != 1:
            raise ConfigError(
                f"{storage} holds {len(stored)} studies; name one of: {', '.join(stored) or 'none'}"
            )
        wanted = stored
    if not out.parent.is_dir():
        raise ConfigError(f"folder {str(out.parent)!r} of --html does not exist")
    started = time.perf_counter()
    # click cannot keep '--compare a b c' in typed order (b, c land with the positional names),
    # so studies are shown in the order the file holds them (creation order)
    stored = store.study_names()
    ordered = sorted(dict.fromkeys(wanted), key=lambda n: stored.index(n) if n in stored else -1)
    studies = [data.load(store, n) for n in ordered]
    html.write(studies, out)
    typer.echo(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {len(studies)} "
               f"{'study' if len(studies) == 1 else 'studies'}, {time.perf_counter() - started:.2f}s)")
