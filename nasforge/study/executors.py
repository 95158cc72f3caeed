"""The Executor extension point, and the serial executor.

Executors only run evaluations; the study loop is the single writer of the store. A task is a plain
picklable tuple so process pools and Ray can ship it; an outcome says either metrics or why not.
"""

from __future__ import annotations

import time
import traceback
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from ..architecture import Architecture
from ..errors import ConfigError, TrialPruned
from ..evaluators.base import Evaluator
from ..options import Component, Int, validated
from .context import PruneRule, TrialContext


@dataclass(frozen=True)
class Task:
    """One evaluation to run: trial ``number`` of ``arch`` at ``fidelity`` with ``seed``.

    ``checkpoint_dir`` (the trial's artifact folder, None for in-memory studies) and ``rule`` (the
    scheduler's pruning snapshot) become the evaluator's :class:`TrialContext` where it runs.
    """

    number: int
    arch: Architecture
    fidelity: int | None
    seed: int
    checkpoint_dir: str | None = None
    rule: PruneRule | None = None

    def context(self) -> TrialContext:
        return TrialContext(self.number, self.seed, self.checkpoint_dir, rule=self.rule)


@dataclass
class Outcome:
    """The result of a task: ``metrics`` on success, else ``error`` (one line, the reason)."""

    number: int
    metrics: dict[str, Any] | None
    error: str | None = None
    started: float = 0.0
    finished: float = 0.0
    pruned: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    #: intermediate (step, metrics) reports made through the trial's context
    reports: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def run_task(evaluator: Evaluator, task: Task) -> Outcome:
    """Evaluate one task, turning any exception into a FAILED outcome with its reason."""
    started = time.time()
    context = task.context()
    try:
        metrics = evaluator.evaluate(task.arch, task.fidelity, task.seed, context)
    except TrialPruned as exc:
        return Outcome(task.number, exc.metrics, None, started, time.time(), pruned=True,
                       reports=context.reports)
    except Exception as exc:  # noqa: BLE001 - a crashing trial must not stop the study
        reason = f"{type(exc).__name__}: {exc}".strip()
        tb = traceback.format_exc(limit=3)
        return Outcome(task.number, None, reason, started, time.time(), extra={"traceback": tb},
                       reports=context.reports)
    if not isinstance(metrics, dict):
        reason = f"evaluate returned {type(metrics).__name__}, expected a dict of metrics"
        return Outcome(task.number, None, reason, started, time.time(), reports=context.reports)
    return Outcome(task.number, dict(metrics), None, started, time.time(), reports=context.reports)


class Executor(Component, ABC):
    """Runs tasks; ``capacity`` is how many may be in flight at once."""

    kind = "executor"
    name: str = "executor"

    @property
    @abstractmethod
    def capacity(self) -> int:
        """Maximum number of tasks in flight."""

    @property
    def synchronous(self) -> bool:
        """True when results come back in whole batches (the study then asks only between them)."""
        return False

    def check(self) -> None:
        """Fail fast (ConfigError) on settings that cannot work here, before a study is created."""

    @abstractmethod
    def start(self, evaluator: Evaluator) -> None:
        """Prepare workers for ``evaluator`` (called once before the first submit); the
        evaluator's ``prepare()`` runs where its trials will run."""

    @abstractmethod
    def submit(self, task: Task) -> None:
        """Queue a task; must not block for long."""

    @abstractmethod
    def wait(self, timeout: float | None = None) -> list[Outcome]:
        """Block until at least one outcome is ready (or timeout) and return all ready ones."""

    def cancel(self, numbers: list[int], reason: str) -> list[Outcome]:
        """Stop the running trials ``numbers`` and return them as FAILED outcomes with ``reason``.

        Executors that cannot interrupt a trial (the serial one runs it in the study's own thread)
        return nothing, and the study waits for those trials to end.
        """
        return []

    def shutdown(self) -> None:
        """Release workers; safe to call twice."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


class SerialExecutor(Executor):
    """Runs tasks in the calling process when the study waits for them (deterministic order).

    It cannot interrupt a trial: a study timeout takes effect when the running trial ends (use
    the trainer's ``time_limit``, or the local pool's ``trial_timeout``, to bound one trial).

    ``batch`` > 1 lets the study keep that many trials asked before any is told, then runs and
    returns them together: the exact counterpart of a batch-synchronous pool or Ray executor with
    ``workers=batch``, so a parallel study can be reproduced (or debugged) in one process.
    """

    name = "serial"

    options = {"workers": Int(low=1), "batch": Int(low=1)}

    @validated
    def __init__(self, workers: int = 1, batch: int = 1) -> None:
        if workers != 1:
            raise ConfigError(
                f"the serial executor runs 1 worker, got workers={workers}; use executor 'local' or 'ray'"
            )
        self.batch = batch
        self._evaluator: Evaluator | None = None
        self._queue: list[Task] = []

    @property
    def capacity(self) -> int:
        return self.batch

    @property
    def synchronous(self) -> bool:
        return self.batch > 1

    def start(self, evaluator: Evaluator) -> None:
        evaluator.prepare()
        self._evaluator = evaluator

    def submit(self, task: Task) -> None:
        self._queue.append(task)

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        if self._evaluator is None:
            raise RuntimeError("start() must be called before wait()")
        if self.batch == 1:
            return [run_task(self._evaluator, self._queue.pop(0))] if self._queue else []
        tasks, self._queue = sorted(self._queue, key=lambda t: t.number), []
        return [run_task(self._evaluator, task) for task in tasks]
