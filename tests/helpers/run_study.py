"""Run (or resume) an evolution study on NB201 with slowed lookups; used by the kill -9 test."""

from __future__ import annotations

import sys

from nasforge.errors import StorageError
from nasforge.objectives import Objective
from nasforge.spaces.nb201 import NB201Space
from nasforge.store import SQLiteStore
from nasforge.strategies.evolution import RegularizedEvolution
from nasforge.study import create_study
from nasforge.study.study import Study
from tests.helpers.evaluators import FlakyTabular

OBJ = [Objective("valid_accuracy", "max")]


def build(path: str, data_dir: str, delay: float) -> Study:
    space = NB201Space()
    store = SQLiteStore(path)
    strategy = RegularizedEvolution(space, seed=5, objectives=OBJ)
    evaluator = FlakyTabular(space, data_dir=data_dir, delay=delay)
    try:
        record = store.get_study("crashy")
    except StorageError:
        return create_study(name="crashy", space=space, strategy=strategy, evaluator=evaluator,
                            objectives=OBJ, storage=store, seed=5)  # fmt: skip
    return Study(record, store, space, strategy, evaluator, OBJ, seed=5)


if __name__ == "__main__":
    path, data_dir, n_trials, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    study = build(path, data_dir, delay)
    print("ready", flush=True)
    study.optimize(n_trials=n_trials)
