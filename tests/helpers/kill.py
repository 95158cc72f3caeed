"""Kill-and-resume tests share this: count stored trials from outside, and SIGKILL a running
command once it has stored a first result (retrying when a fast run outran the kill)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Mapping, Sequence


def nasforge(*args: str) -> list[str]:
    """The CLI as a subprocess command line."""
    return [sys.executable, "-m", "nasforge", *args]


def stored(db: Path, where: str = "state='COMPLETE'") -> int:
    """Trials matching ``where`` in ``db`` (0 while the file does not exist yet)."""
    try:
        with sqlite3.connect(db, timeout=1) as con:
            return con.execute(f"select count(*) from trials where {where}").fetchone()[0]
    except sqlite3.Error:
        return 0


def kill_after_first_trial(
    command: Sequence[str], db_for_attempt, total: int, env: Mapping[str, str], attempts: int = 5,
    timeout: float = 200.0,
) -> Path:
    """Run ``command`` (formatted with ``{db}``) and SIGKILL it once one trial is COMPLETE.

    A study of table look-ups can finish between two polls on a loaded machine: then start over
    with a fresh file. Returns the file of the killed run, which holds 0 < n < ``total`` trials.
    """
    for attempt in range(attempts):
        db = db_for_attempt(attempt)
        argv = [part.replace("{db}", str(db)) for part in command]
        proc = subprocess.Popen(argv, env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + timeout
        while stored(db) < 1 and proc.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        if 0 < stored(db) < total:
            return db
    raise AssertionError(f"the run always finished before the kill landed ({attempts} attempts)")
