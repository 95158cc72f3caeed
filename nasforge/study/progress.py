"""Progress of a running study as a Study callback: a rich bar on a terminal, sparse plain lines
otherwise (CI logs, pipes), so the CLI only attaches it (``study.optimize(callbacks=[bar])``).

Shown: trials finished / budget, running, failed, best value so far, elapsed and ETA (from the
rate of this session's trials, not the study's whole life: a resumed study would otherwise look
instant).
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from ..trial import Trial, TrialState


class ProgressBar:
    """Callable ``(study, trial)``; use as a context manager around ``optimize``."""

    def __init__(self, total: int | None, already: int, metric: str, sign: float,
                 stream: IO[str] | None = None, interactive: bool | None = None,
                 every_seconds: float = 30.0, best: float | None = None) -> None:  # fmt: skip
        self.total = total
        self.already = already
        self.count = already
        self.failed = 0
        self.running = 0
        self.metric = metric
        self.sign = sign
        self.best = best  # a resumed study starts from the best of its earlier trials
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.every_seconds = every_seconds
        self.started = time.monotonic()
        self.last_line = self.started
        self.last_decile = -1
        self._bar: Any = None
        self._printed = already  # count at the last plain line

    # --- figures ---------------------------------------------------------------------------------

    def eta(self) -> float | None:
        """Seconds left at this session's rate; None without a budget or a finished trial."""
        done_here = self.count - self.already
        if not self.total or done_here <= 0:
            return None
        rate = done_here / max(time.monotonic() - self.started, 1e-9)
        return max(self.total - self.count, 0) / rate

    def status(self) -> str:
        best = "-" if self.best is None else f"{self.best:.4g}"
        return f"running {self.running}  failed {self.failed}  best {self.metric}={best}"

    def line(self, trial: Trial | None = None) -> str:
        total = f"/{self.total}" if self.total else ""
        eta = self.eta()
        eta_text = "" if eta is None else f" eta {_clock(eta)}"
        extra = ""
        if trial is not None and trial.state == TrialState.FAILED:
            extra = f" (trial #{trial.number} FAILED: {trial.error})"
        return (f"trials {self.count}{total}  {self.status()}  elapsed "
                f"{_clock(time.monotonic() - self.started)}{eta_text}{extra}")  # fmt: skip

    # --- callback --------------------------------------------------------------------------------

    def __enter__(self) -> "ProgressBar":
        if self.interactive:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]search"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TextColumn("eta"),
                TimeRemainingColumn(), console=Console(file=self.stream, width=None if self.stream.isatty() else 160),
                transient=False,
            )  # fmt: skip
            self._task = self._bar.add_task("search", total=self.total, completed=self.already,
                                            status=self.status())  # fmt: skip
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif self.count != self._printed:
            print(self.line(), file=self.stream, flush=True)  # the final state, always

    def __call__(self, study: Any, trial: Trial) -> None:
        self.count += 1
        if trial.state == TrialState.FAILED:
            self.failed += 1
        if trial.state == TrialState.COMPLETE and trial.values:
            value = float(trial.values[0])
            if self.best is None or self.sign * value > self.sign * self.best:
                self.best = value
        if study is not None:
            self.running = study.counts().get("RUNNING", 0)
        if self._bar is not None:
            self._bar.update(self._task, completed=self.count, status=self.status())
            return
        now = time.monotonic()
        decile = int(10 * self.count / self.total) if self.total else -1
        if (trial.state == TrialState.FAILED or now - self.last_line >= self.every_seconds
                or decile > self.last_decile):  # fmt: skip
            self.last_line, self.last_decile, self._printed = now, decile, self.count
            print(self.line(trial), file=self.stream, flush=True)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
