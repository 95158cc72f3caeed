"""Run (or resume) an evolution study on NB201 in batches of 2; ``--die-after N`` SIGKILLs this
process right after trial N is recorded, i.e. between the two results of one batch."""

from __future__ import annotations

import os
import signal
import sys

from nasforge.errors import StorageError
from nasforge.evaluators.tabular import NB201Tabular
from nasforge.spaces.nb201 import NB201Space
from nasforge.store import SQLiteStore
from nasforge.strategies.evolution import RegularizedEvolution
from nasforge.study import SerialExecutor, create_study
from nasforge.study.study import Study


def build(path: str, data_dir: str) -> Study:
    space = NB201Space()
    store = SQLiteStore(path)
    strategy = RegularizedEvolution(space, seed=7, population=4, sample_size=2)
    evaluator = NB201Tabular(space, data_dir=data_dir)
    executor = SerialExecutor(batch=2)
    try:
        record = store.get_study("batchy")
    except StorageError:
        return create_study(name="batchy", space=space, strategy=strategy, evaluator=evaluator,
                            storage=store, seed=7, executor=executor)  # fmt: skip
    return Study(record, store, space, strategy, evaluator, strategy.objectives, seed=7,
                 executor=executor)


if __name__ == "__main__":
    path, data_dir, n_trials = sys.argv[1], sys.argv[2], int(sys.argv[3])
    die_after = int(sys.argv[4]) if len(sys.argv) > 4 else -1

    def die(study, trial):
        if trial.number == die_after:
            os.kill(os.getpid(), signal.SIGKILL)

    build(path, data_dir).optimize(n_trials=n_trials, callbacks=[die])
