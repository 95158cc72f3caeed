"""The study loop: strategy.ask -> executor -> store.record -> strategy.tell, resumable.

The loop is the only writer of the store. Budgets count trials over the study's whole life, so
``optimize(n_trials=150)`` after a crash at trial 80 runs the remaining 70, not 150 more.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..architecture import Architecture
from ..errors import ConfigError
from ..evaluators.base import Evaluator
from ..objectives import Objective, values_of
from ..spaces.base import SearchSpace
from ..store.sqlite import SQLiteStore, StudyRecord
from ..strategies.base import Strategy
from ..trial import Trial, TrialState
from .executors import Executor, Outcome, SerialExecutor, Task

if TYPE_CHECKING:
    from .schedulers import Scheduler

Callback = Callable[["Study", Trial], None]


def trial_seed(study_seed: int, number: int) -> int:
    """Per-trial seed derived from the study seed, independent of execution order."""
    return int(np.random.SeedSequence([study_seed, number]).generate_state(1)[0])


class Study:
    """A named search whose trials and strategy checkpoint live in a store."""

    def __init__(
        self,
        record: StudyRecord,
        store: SQLiteStore,
        space: SearchSpace,
        strategy: Strategy,
        evaluator: Evaluator,
        objectives: Sequence[Objective],
        seed: int = 0,
        fidelity: int | None = None,
        executor: Executor | None = None,
        scheduler: "Scheduler | None" = None,
    ) -> None:
        self.record = record
        self.store = store
        self.space = space
        self.strategy = strategy
        self.evaluator = evaluator
        self.objectives = list(objectives)
        self.seed = seed
        self.fidelity = fidelity
        self.executor = executor or SerialExecutor()
        self.scheduler = scheduler  # early stopping over fidelities (schedulers.py), optional
        if record.strategy_state is not None:
            strategy.load_state_dict(record.strategy_state)
        if scheduler is not None:
            if record.scheduler_state is not None:
                scheduler.load_state_dict(record.scheduler_state)
            else:  # a study stored before scheduler states were saved
                scheduler.restore(self.trials, self.objectives[0].sign)

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def trials(self) -> list[Trial]:
        return self.store.trials(self.record.study_id)

    def trials_dataframe(self) -> Any:
        """Every trial with state, timing, objective values, metrics and genes: a pandas DataFrame
        (extra ``nasforge[pandas]``), or a list of dicts without pandas."""
        from .table import to_dataframe, trial_rows

        return to_dataframe(trial_rows(self.trials, self.objectives, self.space))

    def check_free(self) -> None:
        """Fail now (one line naming the holder) if another live process runs this study."""
        self.store.check_lease(self.record.study_id, self.name, Lease.stale_after_s)

    def counts(self) -> dict[str, int]:
        return self.store.counts(self.record.study_id)

    @property
    def best_trial(self) -> Trial | None:
        """Best COMPLETE trial by the first objective (see :func:`best_of`)."""
        return best_of(self.trials, self.objectives[0])

    # --- the loop --------------------------------------------------------------------------------

    def optimize(
        self,
        n_trials: int | None = None,
        timeout: float | None = None,
        callbacks: Sequence[Callback] = (),
    ) -> None:
        """Run until the study has ``n_trials`` finished trials, ``timeout`` seconds pass, or the
        strategy says it is finished. Trials left RUNNING by a crash are re-run first."""
        if n_trials is None and timeout is None:
            raise ConfigError("optimize needs a budget: n_trials and/or timeout")
        if n_trials is not None and n_trials < 0:
            raise ConfigError(f"n_trials must be >= 0, got {n_trials}")
        with Lease(self.store, self.record.study_id, self.name):
            self._loop(n_trials, timeout, callbacks)

    def _loop(self, n_trials: int | None, timeout: float | None, callbacks: Sequence[Callback]) -> None:
        study_id = self.record.study_id
        inflight: dict[int, Trial] = {}
        archs: dict[int, Architecture] = {}
        done = sum(n for state, n in self.counts().items() if state != TrialState.RUNNING.value)
        next_number = self.store.next_number(study_id)
        self.executor.start(self.evaluator)  # executors prepare it where trials run
        # the clock starts once workers are ready: loading data is not search time
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            for trial in self.store.trials(study_id, [TrialState.RUNNING]):
                trial.started = time.time()
                self._submit(trial, self.space.from_string(trial.arch), inflight, archs)

            while True:
                budget_left = (n_trials - done - len(inflight)) if n_trials is not None else 1 << 30
                stopping = (deadline is not None and time.monotonic() >= deadline) or getattr(
                    self.strategy, "finished", False
                )
                want = min(self.executor.capacity - len(inflight), budget_left)
                # a batch-synchronous executor asks only between whole batches: after a resume,
                # the re-run part of a batch is told before anything new is asked, as it was
                waiting = self.executor.synchronous and bool(inflight)
                if want > 0 and not stopping and not waiting:
                    new = self._ask(want, next_number)
                    next_number += len(new)
                    for trial, arch in new:
                        self._submit(trial, arch, inflight, archs)
                if not inflight:
                    break
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                outcomes = self.executor.wait(timeout=left)
                if not outcomes and deadline is not None and time.monotonic() >= deadline:
                    # the study's time is up: stop what still runs and record why
                    reason = f"stopped: the study's timeout of {timeout:g} s was reached"
                    outcomes = self.executor.cancel(sorted(inflight), reason)
                for outcome in outcomes:
                    if self._runs_on(outcome, inflight, archs):
                        continue
                    trial = self._finish(outcome, inflight.pop(outcome.number), archs.pop(outcome.number))
                    done += 1
                    for callback in callbacks:
                        callback(self, trial)
        finally:
            self.executor.shutdown()

    def _ask(self, n: int, first_number: int) -> list[tuple[Trial, Architecture]]:
        asked = self.strategy.ask(n)
        now = time.time()
        new = []
        for i, arch in enumerate(asked):
            number = first_number + i
            fidelity = self.scheduler.first_fidelity() if self.scheduler else self.fidelity
            trial = Trial(number, arch.string, trial_seed(self.seed, number), fidelity, started=now)
            new.append((trial, arch))
        if new:
            self.store.start_trials(self.record.study_id, [t for t, _ in new], self.strategy.state_dict())
        return new

    def _submit(self, trial: Trial, arch: Architecture, inflight: dict, archs: dict) -> None:
        inflight[trial.number] = trial
        archs[trial.number] = arch
        self.executor.submit(self._task(trial, arch))

    def _task(self, trial: Trial, arch: Architecture) -> Task:
        folder = self.store.artifacts.trial_dir(self.name, trial.number)
        rule = None
        if self.scheduler is not None:
            rule = self.scheduler.prune_rule(self.objectives[0].name, self.objectives[0].sign)
        return Task(trial.number, arch, trial.fidelity, trial.seed, str(folder), rule)

    def _runs_on(self, outcome: Outcome, inflight: dict, archs: dict) -> bool:
        """Ask the scheduler whether a successful trial runs on at a higher fidelity (resubmitted
        at once, staying RUNNING); otherwise mark a stopped one pruned at the fidelity reached."""
        if self.scheduler is None or outcome.metrics is None or self.scheduler.mode != "promote":
            return False
        trial = inflight[outcome.number]
        try:
            value = values_of(outcome.metrics, self.objectives[:1])[0]
        except (KeyError, ValueError):
            return False  # _finish records the failure
        decision = self.scheduler.report(trial.number, trial.fidelity, self.objectives[0].sign * value)
        if decision.action == "continue":
            trial.fidelity = decision.fidelity
            self.store.promote_trial(
                self.record.study_id, trial.number, trial.fidelity, self.scheduler.state_dict(),
                outcome.reports,
            )
            self.executor.submit(self._task(trial, archs[trial.number]))
            return True
        outcome.pruned = decision.action == "stop"
        outcome.extra["fidelity"] = trial.fidelity
        return False

    def _finish(self, outcome: Outcome, trial: Trial, arch: Architecture) -> Trial:
        trial.started, trial.finished = outcome.started, outcome.finished
        unstorable = None if outcome.metrics is None else _unstorable(outcome.metrics)
        if unstorable is not None:
            trial.state, trial.error = TrialState.FAILED, unstorable
        elif outcome.metrics is not None:
            trial.metrics = _jsonable(outcome.metrics)
            try:
                trial.values = values_of(outcome.metrics, self.objectives)
                trial.state = TrialState.PRUNED if outcome.pruned else TrialState.COMPLETE
            except (KeyError, ValueError, TypeError) as exc:
                if outcome.pruned:  # stopped before every objective was measured
                    trial.state = TrialState.PRUNED
                else:
                    trial.state, trial.error = TrialState.FAILED, str(exc).strip("'\"")
        else:
            trial.state, trial.error = TrialState.FAILED, outcome.error or "unknown error"
        if "fidelity" in outcome.extra:
            trial.fidelity = outcome.extra["fidelity"]
        elif outcome.pruned and outcome.reports:
            trial.fidelity = outcome.reports[-1][0]  # pruned in the trial: the step reached
        scheduler_state = None
        if self.scheduler is not None:
            if self.scheduler.mode == "prune":
                objective = self.objectives[0]
                self.scheduler.observe(trial.number, outcome.reports, objective.name, objective.sign)
            scheduler_state = self.scheduler.state_dict()
        told = trial.values if trial.state == TrialState.COMPLETE else None
        self.strategy.tell(arch, told)
        self.store.finish_trial(
            self.record.study_id, trial, self.strategy.state_dict(), scheduler_state, outcome.reports
        )
        return trial


class Lease:
    """Hold the study's lease while it runs, renewing it from a heartbeat thread.

    SQLite connections are per thread, so the heartbeat opens its own. A lost lease (taken over
    by a ``resume`` after this process looked dead) is reported when the loop next writes.
    """

    heartbeat_s = 5.0
    stale_after_s = 30.0

    def __init__(self, store: SQLiteStore, study_id: int, name: str) -> None:
        self.store, self.study_id, self.name = store, study_id, name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._token: str | None = None

    def __enter__(self) -> "Lease":
        if self.store.path == ":memory:":
            return self  # only this process can see an in-memory study
        self._token = self.store.acquire_lease(self.study_id, self.name, self.stale_after_s)
        self._thread = threading.Thread(target=self._beat, name="nasforge-lease", daemon=True)
        self._thread.start()
        return self

    def _beat(self) -> None:
        store = SQLiteStore(self.store.path)
        try:
            while not self._stop.wait(self.heartbeat_s):
                if not store.renew_lease(self.study_id, self._token or ""):
                    return
        finally:
            store.close()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._token is not None:
            self.store.release_lease(self.study_id, self._token)


def best_of(trials: Sequence[Trial], objective: Objective) -> Trial | None:
    """Best COMPLETE trial by ``objective``.

    Ties (common with small validation sets) go to the smaller network when trials report
    ``params``, then to the earliest trial, so the choice is deterministic and favours economy.
    """
    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
    if not complete:
        return None
    return min(complete, key=lambda t: best_key(t, objective))


def best_key(trial: Trial, objective: Objective) -> tuple[float, float, int]:
    """Sort key of "best" (smaller is better), shared by best_of, the report and export."""
    params = trial.metrics.get("params_m", trial.metrics.get("params"))
    return (-objective.sign * trial.values[0], _as_float(params), trial.number)


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("inf")


def _unstorable(metrics: Any) -> str | None:
    """Why ``metrics`` cannot be stored (None when they can): the trial fails, the study goes on."""
    if not isinstance(metrics, dict):
        return f"evaluate returned {type(metrics).__name__}, expected a dict of metrics"
    plain = _jsonable(metrics)
    try:
        json.dumps(plain)  # one pass in the common case; find the culprit only on failure
        return None
    except (TypeError, ValueError):
        pass
    for key, value in plain.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            return f"metric {key!r} is a {type(value).__name__}, which cannot be stored (use numbers, text or lists)"
    return "metrics cannot be stored as JSON"


def _jsonable(metrics: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in metrics.items():
        if hasattr(value, "tolist"):  # numpy / torch scalars and arrays
            value = value.tolist()
        out[str(key)] = value
    return out
