"""CLI plumbing shared by commands: one-line errors, progress output, option parsing."""

from __future__ import annotations

import sys
import time
from typing import Any

import typer

from ..errors import ConfigError
from ..trial import Trial, TrialState


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


class Progress:
    """Progress bar on a terminal, plain periodic lines otherwise (CI logs, pipes)."""

    def __init__(self, total: int | None, already: int, first_objective: str, sign: float) -> None:
        self.total = total
        self.count = already
        self.metric = first_objective
        self.sign = sign
        self.best: float | None = None
        self.started = time.monotonic()
        self.last_line = 0.0
        self._bar = None
        if sys.stderr.isatty() and total:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress
            from rich.progress import TextColumn, TimeElapsedColumn

            self._bar = RichProgress(
                TextColumn("[bold]search"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[status]}"),
                transient=False,
            )
            self._task = self._bar.add_task("search", total=total, completed=already, status="")

    def __enter__(self) -> "Progress":
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, study: Any, trial: Trial) -> None:
        self.count += 1
        if trial.state == TrialState.COMPLETE and trial.values:
            v = trial.values[0]
            if self.best is None or self.sign * v > self.sign * self.best:
                self.best = v
        best = "-" if self.best is None else f"{self.best:.4g}"
        status = f"best {self.metric}={best}"
        if self._bar is not None:
            self._bar.update(self._task, completed=self.count, status=status)
            return
        now = time.monotonic()
        every = max(1, (self.total or 10) // 10)
        if trial.state != TrialState.COMPLETE or now - self.last_line > 2.0 or self.count % every == 0:
            self.last_line = now
            total = f"/{self.total}" if self.total else ""
            extra = f" ({trial.error})" if trial.error else ""
            typer.echo(  # trial numbers count from 0 everywhere (store, report, export --trial)
                f"trial #{trial.number} ({self.count}{total} done) {trial.state.value}{extra} {status} "
                f"[{now - self.started:.1f}s]",
                err=True,
            )
