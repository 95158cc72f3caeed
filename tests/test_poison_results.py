"""Results that cannot be used or stored fail their trial with the reason; the study and every
resume go on (they used to leave trials RUNNING and crash each resume)."""

from __future__ import annotations

import numpy as np

from nasforge.evaluators.base import Evaluator
from nasforge.spaces.nb201 import NB201Space
from nasforge.store.sqlite import SQLiteStore
from nasforge.strategies.random import RandomSearch
from nasforge.study import create_study
from nasforge.study.study import Study
from nasforge.trial import TrialState


class PoisonEvaluator(Evaluator):
    """Each architecture returns one of five kinds of result (by its string); kind 3 is fine."""

    name = "poison"

    def evaluate(self, arch, fidelity, seed, context=None):
        kind = sum(map(ord, arch.string)) % 5
        if kind == 0:
            return None
        if kind == 1:
            return {"valid_accuracy": None}
        if kind == 2:
            return {"valid_accuracy": 1.0, "weights": object()}
        if kind == 3:
            return {"valid_accuracy": np.float32(2.5), "curve": np.arange(3)}
        return {"valid_accuracy": "high"}


def test_poison_results_fail_their_trials_and_resume_never_crashes(tmp_path):
    space = NB201Space()
    storage = tmp_path / "p.db"
    study = create_study(name="p", space=space, strategy=RandomSearch(space, seed=3),
                         evaluator=PoisonEvaluator(), storage=storage)
    study.optimize(n_trials=40)
    trials = study.trials
    assert len(trials) == 40 and not [t for t in trials if t.state == TrialState.RUNNING]
    errors = {sum(map(ord, t.arch)) % 5: t.error for t in trials if t.state == TrialState.FAILED}
    assert "returned NoneType" in errors[0]
    assert "'valid_accuracy' is None, not a number" in errors[1]
    assert "'weights' is a object" in errors[2]
    assert "'valid_accuracy' is 'high'" in errors[4]
    fine = [t for t in trials if t.state == TrialState.COMPLETE]
    assert fine and all(t.metrics["curve"] == [0, 1, 2] and t.values == [2.5] for t in fine)
    store = SQLiteStore(storage)
    resumed = Study(store.get_study("p"), store, space, RandomSearch(space, seed=3),
                    PoisonEvaluator(), study.objectives)  # fmt: skip
    resumed.optimize(n_trials=45)
    assert len(resumed.trials) == 45
