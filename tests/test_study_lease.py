"""One owner per study: a second process is refused while the first runs; after a kill -9 of the
owner, `resume` takes the lease over and ends exactly where an uninterrupted run ends."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nasforge.errors import StorageError
from nasforge.store.sqlite import SQLiteStore
from tests.helpers.kill import stored

ROOT = Path(__file__).resolve().parents[1]
TRIALS = 12


def _search(db: Path, data_dir: Path, delay: float) -> list[str]:
    # NB201 look-ups slowed to `delay` s each (same results at any delay): the owner is still
    # running when the second process tries, however fast or loaded the machine is
    return [sys.executable, "-m", "nasforge", "search", "--space", "nb201", "--strategy", "evolution",
            "--evaluator", "tests.helpers.evaluators:SlowNB201", "-o", f"evaluator.delay={delay}",
            "--data", str(data_dir), "--trials", str(TRIALS), "--seed", "4", "--name", "owned",
            "--storage", str(db)]  # fmt: skip


def _resume(db: Path) -> list[str]:
    return [sys.executable, "-m", "nasforge", "resume", "owned", "--storage", str(db)]


def _finished(db: Path) -> int:
    return stored(db, "state!='RUNNING'")


def _trials(db: Path) -> list[tuple]:
    store = SQLiteStore(db)
    record = store.get_study("owned")
    return [(t.number, t.arch, t.state, t.values) for t in store.trials(record.study_id)]


def test_second_process_is_refused_and_resume_takes_over_after_kill(tmp_path, data_dir):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    reference = tmp_path / "ref.db"
    subprocess.run(_search(reference, data_dir, 0.0), env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=300)  # fmt: skip

    db = tmp_path / "crash.db"
    owner = subprocess.Popen(_search(db, data_dir, 1.0), env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.time() + 240
    while _finished(db) < 1 and owner.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert owner.poll() is None, "the first search ended before the second process could try"
    second = subprocess.run(_resume(db), env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and f"pid {owner.pid}" in lines[0] and "--workers" in lines[0]

    os.kill(owner.pid, signal.SIGKILL)
    owner.wait(timeout=30)
    assert _finished(db) < TRIALS, "the search finished before the kill landed"
    # the resumed study keeps the stored delay; the trials are what they would have been
    subprocess.run(_resume(db) + ["--data", str(data_dir)], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=300)  # fmt: skip
    assert _trials(db) == _trials(reference)


def test_a_live_lease_is_refused_and_a_released_one_is_free(tmp_path):
    store = SQLiteStore(tmp_path / "l.db")
    record = store.create_study("s", {})
    token = store.acquire_lease(record.study_id, "s", stale_after=30)
    other = SQLiteStore(tmp_path / "l.db")
    # this process holds it and is alive: a second acquisition would be another owner ...
    with sqlite3.connect(tmp_path / "l.db") as con:  # ... so pretend the holder is our parent
        con.execute("update leases set pid = ?", (os.getppid(),))
    with pytest.raises(StorageError, match="is being run by pid"):
        other.acquire_lease(record.study_id, "s", stale_after=30)
    with sqlite3.connect(tmp_path / "l.db") as con:  # a silent holder goes stale
        con.execute("update leases set heartbeat = heartbeat - 60")
    fresh = other.acquire_lease(record.study_id, "s", stale_after=30)
    assert store.renew_lease(record.study_id, token) is False  # the old owner learns it lost it
    other.release_lease(record.study_id, fresh)
    store.acquire_lease(record.study_id, "s", stale_after=30)
