"""kill -9 a real search process at random moments, resume, and get the uninterrupted result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from nasforge.trial import TrialState
from tests.helpers.run_study import build

ROOT = Path(__file__).resolve().parents[1]
N_TRIALS = 120


def _start(db: Path, data_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.run_study", str(db), str(data_dir), str(N_TRIALS), "0.01"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_kill_9_then_resume_gives_the_uninterrupted_trials(tmp_path, data_dir):
    reference = build(str(tmp_path / "ref.db"), str(data_dir), 0.0)
    reference.optimize(n_trials=N_TRIALS)
    want = [(t.number, t.arch, t.values, t.state, t.error) for t in reference.trials]

    db = tmp_path / "crash.db"
    rng = np.random.default_rng(0)
    kills = 0
    for _ in range(6):
        proc = _start(db, data_dir)
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(float(rng.uniform(0.1, 0.5)))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        study = build(str(db), str(data_dir), 0.0)
        finished = [t for t in study.trials if t.state != TrialState.RUNNING]
        # nothing completed is lost or duplicated: numbers are exactly 0..k-1 plus re-runnable ones
        assert [t.number for t in finished] == list(range(len(finished)))
        study.store.close()
        if len(finished) == N_TRIALS:
            break
    assert kills >= 2, "the search finished before it could be killed twice; slow it down"

    final = _start(db, data_dir)
    final.wait(timeout=120)
    assert final.returncode == 0, final.stderr.read()
    study = build(str(db), str(data_dir), 0.0)
    got = [(t.number, t.arch, t.values, t.state, t.error) for t in study.trials]
    assert got == want
    assert study.best_trial.arch == reference.best_trial.arch
