"""kill -9 a real `nasforge search` running BO in NB101 pool mode, resume it, get the same study."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from nasforge.study.api import load_study
from tests.helpers.kill import kill_after_first_trial, nasforge

ROOT = Path(__file__).resolve().parents[1]
TRIALS = 24


def _search(db: Path | str, data_dir: Path) -> list[str]:
    return nasforge("search", "--space", "nb101-pool", "--evaluator", "nb101", "--strategy", "bo", "--trials",
                str(TRIALS), "--seed", "3", "--name", "bo101", "--storage", str(db), "--data", str(data_dir),
                "-o", "strategy.n_init=4", "-o", "space.data_dir=" + str(data_dir))  # fmt: skip


def _trials(db: Path) -> list[tuple]:
    study = load_study("bo101", str(db))
    return [(t.number, t.arch, t.values, t.state) for t in study.trials]


def test_killed_bo_study_resumes_to_the_uninterrupted_result(tmp_path, data_dir):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    reference = tmp_path / "ref.db"
    subprocess.run(_search(reference, data_dir), env=env, check=True, capture_output=True, timeout=240)

    # BO trials on the table take milliseconds: kill at the first stored trial, retrying if it missed
    crashed = kill_after_first_trial(_search("{db}", data_dir), lambda i: tmp_path / f"crash{i}.db",
                                     TRIALS, env)
    subprocess.run(nasforge("resume", "bo101", "--storage", str(crashed), "--data", str(data_dir)),
                   env=env, check=True, capture_output=True, timeout=240)  # fmt: skip
    assert _trials(crashed) == _trials(reference)
