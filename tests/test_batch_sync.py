"""Batch-synchronous parallel execution reproduces the serial executor for any strategy."""

from __future__ import annotations

import pytest
from conftest import needs_data

from nasforge.errors import ConfigError
from nasforge.evaluators.tabular import NB201Tabular
from nasforge.objectives import Objective
from nasforge.spaces.nb201 import NB201Space
from nasforge.strategies.evolution import RegularizedEvolution
from nasforge.study import create_study
from nasforge.study.executors import SerialExecutor
from nasforge.study.pool import LocalPoolExecutor

OBJ = [Objective("valid_accuracy", "max")]


def _rows(data_dir, executor):
    space = NB201Space()
    study = create_study(
        name="b", space=space, objectives=OBJ, seed=3, executor=executor,
        strategy=RegularizedEvolution(space, seed=3, objectives=OBJ, population=6, sample_size=3),
        evaluator=NB201Tabular(space, dataset="cifar100", data_dir=str(data_dir), hardware=False),
    )  # fmt: skip
    study.optimize(n_trials=24)
    return [(t.number, t.arch, t.seed, t.state.value, t.values) for t in study.trials]


def test_sync_pool_equals_serial_batches_for_evolution(data_dir):
    serial = _rows(data_dir, SerialExecutor(batch=2))
    pooled = _rows(data_dir, LocalPoolExecutor(workers=2, sync=True))
    assert pooled == serial
    # and batching really changes what evolution asks (so the equality above is not vacuous)
    assert _rows(data_dir, SerialExecutor()) != serial


def test_bad_batch():
    with pytest.raises(ConfigError, match="batch"):
        SerialExecutor(batch=0)


@needs_data
def test_kill_between_the_two_results_of_a_batch_resumes_to_the_same_study(data_dir, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from nasforge.store import SQLiteStore

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    script = [sys.executable, "-m", "tests.helpers.run_batch_study"]

    def rows(db):
        store = SQLiteStore(db)
        return [(t.number, t.arch, t.state, t.values)
                for t in store.trials(store.get_study("batchy").study_id)]  # fmt: skip

    subprocess.run(script + [str(tmp_path / "ref.db"), str(data_dir), "16"], env=env, cwd=root,
                   check=True, timeout=120)  # fmt: skip
    killed = subprocess.run(script + [str(tmp_path / "k.db"), str(data_dir), "16", "8"], env=env,
                            cwd=root, timeout=120)  # fmt: skip
    assert killed.returncode == -9
    assert [r[2].value for r in rows(tmp_path / "k.db")][8:10] == ["COMPLETE", "RUNNING"]
    subprocess.run(script + [str(tmp_path / "k.db"), str(data_dir), "16"], env=env, cwd=root,
                   check=True, timeout=120)  # fmt: skip
    assert rows(tmp_path / "k.db") == rows(tmp_path / "ref.db")
