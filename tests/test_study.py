"""The study loop on the real NB201 table: budgets, failures, determinism, resume."""

from __future__ import annotations

import pytest

from nasforge.errors import ConfigError
from nasforge.evaluators.tabular import NB201Tabular
from nasforge.objectives import Objective
from nasforge.spaces.nb201 import NB201Space
from nasforge.store import SQLiteStore
from nasforge.strategies.evolution import RegularizedEvolution
from nasforge.strategies.random import RandomSearch
from nasforge.study import create_study, create_study_from_config, load_study
from nasforge.study.study import Study
from nasforge.trial import Trial, TrialState
from tests.helpers.evaluators import FlakyTabular

OBJ = [Objective("valid_accuracy", "max")]


def _study(data_dir, storage=None, name="s", seed=0, evaluator=None, strategy_cls=RegularizedEvolution):
    space = NB201Space()
    evaluator = evaluator or NB201Tabular(space, dataset="cifar10", data_dir=data_dir)
    strategy = strategy_cls(space, seed=seed, objectives=OBJ)
    return create_study(name=name, space=space, strategy=strategy, evaluator=evaluator,
                        objectives=OBJ, storage=storage, seed=seed)  # fmt: skip


def test_budget_counts_trials_and_best_uses_validation(data_dir):
    study = _study(data_dir)
    study.optimize(n_trials=40)
    trials = study.trials
    assert len(trials) == 40 and all(t.state == TrialState.COMPLETE for t in trials)
    best = study.best_trial
    assert best.values[0] == max(t.metrics["valid_accuracy"] for t in trials)
    assert "test_accuracy" in best.metrics  # reported, not used for selection
    study.optimize(n_trials=40)  # budget is the study's total: nothing more to do
    assert len(study.trials) == 40


def test_crashing_and_nan_trials_are_failed_and_the_study_goes_on(data_dir):
    space = NB201Space()
    study = _study(data_dir, evaluator=FlakyTabular(space, data_dir=data_dir),
                   strategy_cls=RandomSearch)  # fmt: skip
    study.optimize(n_trials=120)
    trials = study.trials
    failed = [t for t in trials if t.state == TrialState.FAILED]
    assert len(trials) == 120
    reasons = {t.error for t in failed}
    assert any("deliberate failure" in r for r in reasons)
    assert any("valid_accuracy" in r and "nan" in r for r in reasons)
    assert all(t.arch.startswith(("|none~0|", "|avg_pool_3x3~0|+|none~0|")) for t in failed)
    assert study.counts()["COMPLETE"] == 120 - len(failed)


def test_same_seed_same_trajectory_different_seed_differs(data_dir):
    runs = []
    for seed in (3, 3, 4):
        study = _study(data_dir, seed=seed)
        study.optimize(n_trials=60)
        runs.append([(t.arch, t.values) for t in study.trials])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_resume_reruns_running_trials_and_matches_uninterrupted(data_dir, tmp_path):
    reference = _study(data_dir, name="ref")
    reference.optimize(n_trials=50)

    path = tmp_path / "s.db"
    first = _study(data_dir, storage=path, name="crash")
    first.optimize(n_trials=20)
    # stop right after an ask, as a crash would: the trial is RUNNING with the post-ask checkpoint
    new = first._ask(1, first.store.next_number(first.record.study_id))
    assert len(new) == 1 and first.counts()["RUNNING"] == 1
    first.store.close()

    store = SQLiteStore(path)
    space = NB201Space()
    strategy = RegularizedEvolution(space, seed=0, objectives=OBJ)
    resumed = Study(store.get_study("crash"), store, space, strategy,
                    NB201Tabular(space, dataset="cifar10", data_dir=data_dir), OBJ, seed=0)  # fmt: skip
    resumed.optimize(n_trials=50)
    got = [(t.number, t.arch, t.values, t.state) for t in resumed.trials]
    want = [(t.number, t.arch, t.values, t.state) for t in reference.trials]
    assert got == want


def test_timeout_budget_stops(data_dir):
    space = NB201Space()
    study = _study(data_dir, evaluator=FlakyTabular(space, data_dir=data_dir, delay=0.05),
                   strategy_cls=RandomSearch)  # fmt: skip
    study.optimize(timeout=0.5)
    assert 3 <= len(study.trials) <= 15


def test_config_studies_reload_by_name(data_dir, tmp_path):
    path = tmp_path / "c.db"
    cfg = {"space": "nb201", "strategy": "random", "dataset": "cifar100", "trials": 10,
           "seed": 1, "storage": str(path), "data": str(data_dir), "name": "c100"}  # fmt: skip
    study = create_study_from_config(cfg)
    study.optimize(n_trials=10)
    again = load_study("c100", path)
    assert [t.arch for t in again.trials] == [t.arch for t in study.trials]
    assert again.best_trial.number == study.best_trial.number
    with pytest.raises(ConfigError, match="cannot override"):
        load_study("c100", path, {"space": "nb101"})


def test_bad_component_options_fail_before_the_store_is_touched(data_dir, tmp_path):
    path = tmp_path / "bad.db"
    base = {"space": "nb201", "storage": str(path), "data": str(data_dir)}
    bad = [
        ({"strategy": "evolution", "strategy_options": {"popul": 3}}, "no option 'popul'"),
        ({"dataset": "cifar11"}, "cifar11"),
        ({"objectives": ["test_acc:max"]}, "test_acc"),
        ({"fidelity": 50}, "fidelity 50"),
        ({"objectives": ["foo"]}, "needs a direction"),
    ]
    for extra, message in bad:
        with pytest.raises(ConfigError, match=message):
            create_study_from_config({**base, **extra})
    assert not path.exists()


def test_trial_record_roundtrip():
    trial = Trial(3, "a", 1, 12, TrialState.PRUNED, [1.0], {"m": 1}, None, 0.0, 1.0)
    assert trial.to_dict()["state"] == "PRUNED"


def test_best_trial_ties_go_to_the_smaller_network_then_the_earliest(data_dir):
    study = _study(data_dir, strategy_cls=RandomSearch)
    study.optimize(n_trials=3)
    trials = study.trials
    for t, (value, params) in zip(trials, [(90.0, 2.0), (90.0, 1.0), (89.0, 0.1)]):
        t.values, t.metrics = [value], {"valid_accuracy": value, "params_m": params}
        study.store.finish_trial(study.record.study_id, t, None)
    assert study.best_trial.number == trials[1].number
    t = trials[0]
    t.metrics["params_m"] = 1.0
    study.store.finish_trial(study.record.study_id, t, None)
    assert study.best_trial.number == trials[0].number
