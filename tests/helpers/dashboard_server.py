"""Start `nasforge dashboard` in its own process on a free loopback port and stop it after."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def dashboard(storage: Path, poll: float = 0.5) -> Iterator[str]:
    """Yield the dashboard's base URL (printed by the command) while the server runs."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nasforge", "dashboard", "--storage", str(storage), "--port", "0",
         "--poll", str(poll)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if "http://" in line or proc.poll() is not None:
                break
        if "http://" not in line:
            raise RuntimeError(f"dashboard did not start: {line!r} {proc.stderr.read()}")
        yield line[line.index("http://"):].strip()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
