"""LocalPoolExecutor with real worker processes: async order, dying workers, sync mode, errors."""

from __future__ import annotations

import os
import signal
import time

import pytest
from conftest import needs_data

from nasforge.architecture import Architecture
from nasforge.errors import ConfigError, NasforgeError
from nasforge.evaluators.base import Evaluator
from nasforge.study.executors import Task
from nasforge.study.pool import LocalPoolExecutor


class ScriptedEvaluator(Evaluator):
    """Behaves according to the architecture string: 'kill', 'exit', 'segv', 'raise', 'sleep:S'."""

    name = "scripted"

    def evaluate(self, arch, fidelity, seed, context=None):
        text = arch.string
        if text == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if text == "exit":
            os._exit(3)
        if text == "segv":
            import ctypes

            ctypes.string_at(0)
        if text == "raise":
            raise ValueError("bad architecture")
        if text.startswith("sleep:"):
            time.sleep(float(text.split(":")[1]))
        return {
            "valid_accuracy": float(len(text) + seed),
            "pid": os.getpid(),
            "omp": os.environ.get("OMP_NUM_THREADS"),
        }


def _explode():
    raise RuntimeError("evaluator state is corrupt")


class UnloadableEvaluator(ScriptedEvaluator):
    def __reduce__(self):
        return (_explode, ())


def _task(number: int, text: str, seed: int = 0) -> Task:
    return Task(number, Architecture("toy", text, ()), None, seed)


def _drain(executor, expected: int, timeout: float = 60.0):
    outcomes = []
    deadline = time.monotonic() + timeout
    while len(outcomes) < expected and time.monotonic() < deadline:
        outcomes.extend(executor.wait(timeout=deadline - time.monotonic()))
    assert len(outcomes) == expected, f"only {len(outcomes)} of {expected} outcomes arrived"
    return outcomes


def test_two_async_workers_in_separate_processes_never_wait_for_a_slow_trial():
    with LocalPoolExecutor(workers=2, threads_per_worker=1) as pool:
        pool.start(ScriptedEvaluator())
        assert pool.capacity == 2
        pool.submit(_task(0, "sleep:1.2"))
        for i in range(1, 5):
            pool.submit(_task(i, "sleep:0.05", seed=i))
        outcomes = _drain(pool, 5)
    order = [o.number for o in outcomes]
    assert order[-1] == 0 and sorted(order[:-1]) == [1, 2, 3, 4], order
    assert all(o.error is None for o in outcomes)
    assert outcomes[0].metrics["valid_accuracy"] == 10 + outcomes[0].number  # len + seed
    pids = {o.metrics["pid"] for o in outcomes}
    assert len(pids) == 2 and os.getpid() not in pids
    assert {o.metrics["omp"] for o in outcomes} == {"1"}


def test_dying_and_overrunning_workers_fail_only_their_task_and_are_replaced():
    with LocalPoolExecutor(workers=2, trial_timeout=3.0) as pool:
        pool.start(ScriptedEvaluator())
        texts = ["a", "kill", "exit", "segv", "raise", "sleep:60", "bb", "ccc"]
        for i, text in enumerate(texts):
            pool.submit(_task(i, text))
        outcomes = {o.number: o for o in _drain(pool, len(texts))}
        assert pool.replaced == 4
        # the pool keeps working after the replacements
        pool.submit(_task(99, "after"))
        (late,) = _drain(pool, 1)
    assert "exit code -9" in outcomes[1].error and "SIGKILL" in outcomes[1].error
    assert "exit code 3" in outcomes[2].error
    assert "exit code -11" in outcomes[3].error
    assert outcomes[4].error == "ValueError: bad architecture"
    assert outcomes[5].error == "trial exceeded trial_timeout=3 s; worker killed"
    for number in (0, 6, 7):
        assert outcomes[number].error is None
        assert outcomes[number].metrics["valid_accuracy"] == len(texts[number])
    assert late.number == 99 and late.error is None


def test_an_evaluator_that_cannot_load_in_a_worker_fails_at_start_with_the_reason():
    pool = LocalPoolExecutor(workers=2)
    expected = "worker could not load the evaluator: RuntimeError: evaluator state is corrupt"
    with pytest.raises(NasforgeError, match=expected):
        pool.start(UnloadableEvaluator())
    assert not pool._pool  # workers were stopped


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"workers": 0}, "parameter workers of LocalPoolExecutor must be an integer >= 1, got"),
        ({"threads_per_worker": "2"}, "parameter threads_per_worker"),
        ({"start_method": "fork"}, "parameter start_method of LocalPoolExecutor must be one of"),
        ({"sync": "yes"}, "parameter sync"),
        ({"trial_timeout": 0}, "parameter trial_timeout of LocalPoolExecutor must be a number > 0"),
    ],
)
def test_bad_arguments_are_rejected_in_one_line(kwargs, message):
    with pytest.raises(ConfigError, match=message) as info:
        LocalPoolExecutor(**kwargs)
    assert "\n" not in str(info.value)


class KillingNB201(Evaluator):
    """NB201 look-ups whose worker dies (SIGKILL) on every architecture with index % 5 == 0."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def evaluate(self, arch, fidelity, seed, context=None):
        if self.inner.space.index(arch) % 5 == 0:
            os.kill(os.getpid(), signal.SIGKILL)
        return self.inner.evaluate(arch, fidelity, seed)


def _nb201_study(data_dir, executor, evaluator_wrapper=None, seed=11):
    from nasforge.evaluators.tabular import NB201Tabular
    from nasforge.spaces.nb201 import NB201Space
    from nasforge.strategies.random import RandomSearch
    from nasforge.study import create_study

    space = NB201Space()
    evaluator = NB201Tabular(space, dataset="cifar10", data_dir=str(data_dir), hardware=False)
    if evaluator_wrapper is not None:
        evaluator = evaluator_wrapper(evaluator)
    return create_study(
        name="pool", space=space, strategy=RandomSearch(space, seed=seed), evaluator=evaluator,
        objectives=["valid_accuracy:max"], seed=seed, executor=executor,
    )


@needs_data
def test_a_two_worker_study_survives_killed_workers(data_dir):
    study = _nb201_study(data_dir, LocalPoolExecutor(workers=2), KillingNB201)
    study.optimize(n_trials=12)
    trials = study.trials
    from nasforge.spaces.nb201 import NB201Space

    space = NB201Space()
    doomed = [t for t in trials if space.index(space.from_string(t.arch)) % 5 == 0]
    assert len(trials) == 12 and doomed, "seed 11 should draw some index % 5 == 0 architectures"
    for trial in trials:
        if trial in doomed:
            assert trial.state.value == "FAILED"
            assert "worker process died (exit code -9)" in trial.error
        else:
            assert trial.state.value == "COMPLETE" and trial.values[0] > 0


@needs_data
def test_sync_pool_study_matches_the_serial_study(data_dir):
    def rows(study):
        study.optimize(n_trials=6)
        return [(t.number, t.arch, t.seed, t.state.value, t.values) for t in study.trials]

    serial = rows(_nb201_study(data_dir, None))
    pool = LocalPoolExecutor(workers=2, sync=True)
    pooled = rows(_nb201_study(data_dir, pool))
    assert pooled == serial

    # sync mode on its own: a slow and a fast task come back together, sorted by number
    with pool:
        pool.start(ScriptedEvaluator())
        pool.submit(_task(1, "sleep:1.0"))
        pool.submit(_task(0, "x"))
        assert pool.wait(timeout=0.2) == []  # the batch is not complete yet
        assert [o.number for o in pool.wait()] == [0, 1]


def test_an_unpicklable_evaluator_is_refused_at_start():
    evaluator = ScriptedEvaluator()
    evaluator.hook = lambda x: x
    pool = LocalPoolExecutor(workers=1)
    with pytest.raises(ConfigError, match="cannot be sent to worker processes"):
        pool.start(evaluator)
    pool.shutdown()


def test_an_idle_worker_killed_from_outside_is_replaced_and_its_next_task_still_runs():
    with LocalPoolExecutor(workers=1) as pool:
        pool.start(ScriptedEvaluator())
        victim = pool._pool[0].process
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(5)
        pool.submit(_task(0, "abc"))
        (outcome,) = _drain(pool, 1)
    assert outcome.error is None and outcome.metrics["valid_accuracy"] == 3.0
    assert pool.replaced == 1


class SlowStartEvaluator(ScriptedEvaluator):
    """Takes ``startup`` seconds to prepare, as a real evaluator loading data does."""

    def __init__(self, startup: float) -> None:
        self.startup = startup

    def prepare(self) -> None:
        time.sleep(self.startup)


def test_trial_timeout_never_counts_a_replacement_workers_start_up():
    executor = LocalPoolExecutor(workers=1, trial_timeout=1.5)
    executor.start(SlowStartEvaluator(startup=2.5))
    try:
        executor.submit(_task(0, "exit"))  # kills the only worker: a replacement must start
        executor.submit(_task(1, "quick"))
        outcomes = {o.number: o for o in _drain(executor, 2, timeout=60)}
    finally:
        executor.shutdown()
    assert "exit code 3" in outcomes[0].error
    # the replacement took 2.5 s to start, longer than trial_timeout: the trial still completes
    assert outcomes[1].error is None and outcomes[1].metrics["valid_accuracy"] == 5.0
    assert executor.replaced == 1
