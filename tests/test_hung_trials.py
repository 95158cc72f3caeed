"""Hung trials are stopped: the study's timeout cancels what still runs, Ray has a per-trial
timeout, and pool workers of a killed study exit at once instead of finishing their trial."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from nasforge.spaces.nb201 import NB201Space
from nasforge.strategies.random import RandomSearch
from nasforge.study import create_study
from nasforge.study.pool import LocalPoolExecutor
from nasforge.trial import TrialState
from tests.helpers.evaluators import SleepyEvaluator

ROOT = Path(__file__).resolve().parents[1]


def _study(executor, storage=None):
    space = NB201Space()
    return create_study(name="hung", space=space, strategy=RandomSearch(space, seed=0),
                        evaluator=SleepyEvaluator(60.0), executor=executor, storage=storage)


def test_the_study_timeout_stops_and_records_running_pool_trials():
    study = _study(LocalPoolExecutor(workers=2))
    started = time.monotonic()
    study.optimize(n_trials=10, timeout=2.0)
    assert time.monotonic() - started < 30  # not the 60 s each trial would take
    trials = study.trials
    assert len(trials) == 2 and all(t.state == TrialState.FAILED for t in trials)
    assert all("timeout of 2 s was reached" in t.error for t in trials)


def test_ray_cancels_a_trial_past_its_trial_timeout():
    pytest.importorskip("ray")
    from nasforge.study.ray_executor import RayExecutor

    study = _study(RayExecutor(workers=1, trial_timeout=3.0))
    started = time.monotonic()
    study.optimize(n_trials=1)
    assert time.monotonic() - started < 50
    (trial,) = study.trials
    assert trial.state == TrialState.FAILED and "trial_timeout=3 s" in trial.error


SCRIPT = """
import sys
from tests.test_hung_trials import _study
from nasforge.study.pool import LocalPoolExecutor
study = _study(LocalPoolExecutor(workers=2), storage=sys.argv[1])
study.optimize(n_trials=4)
"""


def test_pool_workers_of_a_killed_study_exit_promptly(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path / "h.db")], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    parent = psutil.Process(proc.pid)
    deadline = time.time() + 120

    def workers():
        return [p for p in parent.children() if "resource_tracker" not in " ".join(p.cmdline())]

    while (len(workers()) < 2 or not (tmp_path / "h.db").exists()) and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(3.0)  # the workers are now inside their 60-second trials
    workers = workers()
    assert len(workers) == 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, f"{len(alive)} worker(s) still running after the study was killed"
    assert b"Traceback" not in proc.stderr.read()
