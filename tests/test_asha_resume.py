"""kill -9 a real `nasforge search` with ASHA over real training (checkpointed promotions), resume
it, and get exactly the trials, rungs and scheduler state of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from nasforge.store.sqlite import SQLiteStore
from tests.helpers.kill import stored

ROOT = Path(__file__).resolve().parents[1]
TRIALS = 8


def _search(db: Path) -> list[str]:
    return [sys.executable, "-m", "nasforge", "search", "--space", "chain", "--strategy", "random",
            "--evaluator", "trainer", "--dataset", "digits", "--trials", str(TRIALS), "--seed", "2",
            "--name", "asha", "--storage", str(db), "--scheduler", "asha",
            "-o", "scheduler.fidelities=[1, 3]", "-o", "scheduler.eta=2",
            "-o", "space.max_nodes=3", "-o", "space.filters=[8]", "-o", "space.kernels=[3]",
            "-o", "evaluator.epochs=3", "-o", "evaluator.max_train=200",
            "-o", "evaluator.batch_size=50", "-o", "evaluator.latency_repeats=1"]  # fmt: skip


def _finished(db: Path) -> int:
    return stored(db, "state!='RUNNING'")


def _promoted(db: Path) -> int:
    return stored(db, "fidelity=3")


def _snapshot(db: Path):
    store = SQLiteStore(db)
    record = store.get_study("asha")
    trials = [(t.number, t.arch, t.state, t.fidelity, t.values,
               t.metrics.get("test_accuracy"), t.metrics.get("best_epoch"))
              for t in store.trials(record.study_id)]  # fmt: skip
    curves = {n: [(s, m["valid_accuracy"]) for s, m in r] for n, r in store.intermediate(record.study_id).items()}
    return trials, curves, record.scheduler_state


def test_killed_asha_study_on_real_training_resumes_exactly(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    reference = tmp_path / "ref.db"
    subprocess.run(_search(reference), env=env, check=True, capture_output=True, timeout=300)

    crashed = tmp_path / "crash.db"
    proc = subprocess.Popen(_search(crashed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    # kill once a promotion is stored (a trial is RUNNING at rung 3 from its checkpoint) and some
    # trials are done, so the resume has both a half-run trial and scheduler state to restore
    while (_promoted(crashed) < 1 or _finished(crashed) < 2) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert 0 < _finished(crashed) < TRIALS, "the search finished before the kill landed"
    subprocess.run([sys.executable, "-m", "nasforge", "resume", "asha", "--storage", str(crashed)],
                   env=env, check=True, capture_output=True, timeout=300)  # fmt: skip
    assert _snapshot(crashed) == _snapshot(reference)
