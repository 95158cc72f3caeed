"""Batch-synchronous parallel execution reproduces the serial executor for any strategy."""

from __future__ import annotations

import pytest

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
