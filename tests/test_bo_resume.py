"""kill -9 a real `nasforge search` running BO in NB101 pool mode, resume it, get the same study."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from nasforge.study.api import load_study

ROOT = Path(__file__).resolve().parents[1]
TRIALS = 24


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "nasforge", *args]


def _search(db: Path, data_dir: Path) -> list[str]:
    return _cli("search", "--space", "nb101-pool", "--evaluator", "nb101", "--strategy", "bo", "--trials",
                str(TRIALS), "--seed", "3", "--name", "bo101", "--storage", str(db), "--data", str(data_dir),
                "-o", "strategy.n_init=4", "-o", "space.data_dir=" + str(data_dir))  # fmt: skip


def _completed(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=1) as con:
            return con.execute("select count(*) from trials where state='COMPLETE'").fetchone()[0]
    except sqlite3.Error:
        return 0


def _trials(db: Path) -> list[tuple]:
    study = load_study("bo101", str(db))
    return [(t.number, t.arch, t.values, t.state) for t in study.trials]


def test_killed_bo_study_resumes_to_the_uninterrupted_result(tmp_path, data_dir):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    reference = tmp_path / "ref.db"
    subprocess.run(_search(reference, data_dir), env=env, check=True, capture_output=True, timeout=240)

    # BO trials on the table take milliseconds, so a kill can land after the last one on a loaded
    # machine: kill as soon as the first trial is stored, and start over in the rare case it missed
    for attempt in range(5):
        crashed = tmp_path / f"crash{attempt}.db"
        proc = subprocess.Popen(_search(crashed, data_dir), env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)  # fmt: skip
        deadline = time.time() + 180
        while _completed(crashed) < 1 and proc.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        if _completed(crashed) < TRIALS:
            break
    assert 0 < _completed(crashed) < TRIALS, "the search always finished before the kill landed"
    subprocess.run(_cli("resume", "bo101", "--storage", str(crashed), "--data", str(data_dir)),
                   env=env, check=True, capture_output=True, timeout=240)  # fmt: skip
    assert _trials(crashed) == _trials(reference)
