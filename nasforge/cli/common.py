"""CLI plumbing shared by commands: one-line errors, progress output, option parsing."""

from __future__ import annotations

from typing import Any

import typer

from ..errors import ConfigError


def fail(message: str) -> None:
    """Print one line on stderr and exit 2 (bad input)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def parse_assignments(items: list[str] | None) -> dict[str, Any]:
    """``-o strategy.population=20`` style overrides into nested config updates."""
    import yaml

    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"option {item!r} must look like 'strategy.population=20'")
        section, dot, field = key.partition(".")
        value = yaml.safe_load(raw) if raw else None
        if dot:
            from ..config import StudyConfig  # sections are the config's <kind>_options fields

            sections = {f.removesuffix("_options") for f in StudyConfig.model_fields if f.endswith("_options")}
            if section not in sections:
                raise ConfigError(
                    f"option {item!r}: section {section!r} unknown; use one of {sorted(sections)}"
                )
            out.setdefault(f"{section}_options", {})[field] = value
        else:
            out[key] = value
    return out


def Progress(
    total: int | None, already: int, first_objective: str, sign: float, best: float | None = None
) -> Any:
    """The study progress callback (nasforge/study/progress.py) the CLI attaches to a run."""
    from ..study.progress import ProgressBar

    return ProgressBar(total, already, first_objective, sign, best=best)
