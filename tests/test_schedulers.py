"""Median stopping and ASHA: their rules on hand-made scores, and inside a real NB201 study."""

from __future__ import annotations

import json

import pytest
from conftest import needs_data

from nasforge.errors import ConfigError
from nasforge.study.schedulers import (
    ASHA,
    COMPLETE,
    CONTINUE,
    STOP,
    Decision,
    MedianStopping,
    geometric_rungs,
    make_scheduler,
)
from nasforge.trial import TrialState


def test_asha_keeps_the_top_third_of_each_rung_asynchronously():
    asha = ASHA(fidelities=[1, 3, 9], eta=3)
    # the first result at a rung always runs on (nothing to compare with yet)
    assert asha.report(0, 1, 0.5) == Decision(CONTINUE, 3)
    scores = [(1, 0.9), (2, 0.1), (3, 0.2), (4, 0.95)]
    decisions = {n: asha.report(n, 1, s).action for n, s in scores}
    # trial 1 beats the only other score -> top 1/3 of 2; trial 2 and 3 are below the best
    assert decisions == {1: CONTINUE, 2: STOP, 3: STOP, 4: CONTINUE}
    assert asha.report(1, 3, 0.7).action == CONTINUE
    assert asha.report(4, 3, 0.6).action == STOP
    top = asha.report(1, 9, 0.1)
    assert top.action == COMPLETE and top.fidelity == 9


def test_median_rule_waits_for_min_trials_then_stops_below_the_median():
    median = MedianStopping(fidelities=[12, 200], min_trials=3)
    assert [median.report(n, 12, s).action for n, s in enumerate([1.0, 2.0, 3.0])] == [CONTINUE] * 3
    assert median.report(3, 12, 1.5) == Decision(STOP, 12)
    assert median.report(4, 12, 2.5).action == CONTINUE  # median of 1, 2, 3, 1.5 is 1.75
    assert median.report(4, 200, 0.0).action == COMPLETE


def test_state_round_trips_through_json_and_restores_decisions():
    asha = ASHA(min_fidelity=1, max_fidelity=27, eta=3)
    assert asha.fidelities == [1, 3, 9, 27]
    for n, s in enumerate([0.3, 0.8, 0.5]):
        asha.report(n, 1, s)
    clone = ASHA(min_fidelity=1, max_fidelity=27, eta=3)
    clone.load_state_dict(json.loads(json.dumps(asha.state_dict())))
    assert clone.recorded == asha.recorded
    assert clone.report(9, 1, 0.4) == asha.report(9, 1, 0.4)


@needs_data
def test_a_resumed_study_restores_the_rungs_from_its_trials(data_dir, tmp_path):
    from nasforge.evaluators.tabular import NB201Tabular
    from nasforge.spaces.nb201 import NB201Space
    from nasforge.strategies.random import RandomSearch
    from nasforge.study import create_study
    from nasforge.study.study import Study

    space = NB201Space()
    evaluator = NB201Tabular(space, dataset="cifar10", data_dir=str(data_dir), hardware=False)
    first = create_study(
        name="resume", space=space, strategy=RandomSearch(space, seed=2), evaluator=evaluator,
        objectives=["valid_accuracy:max"], storage=tmp_path / "s.db",
        scheduler=ASHA(fidelities=[12, 200]),
    )
    first.optimize(n_trials=9)
    restored = ASHA(fidelities=[12, 200])
    Study(first.record, first.store, space, RandomSearch(space, seed=2), evaluator,
          first.objectives, scheduler=restored)
    pruned = {t.number: t.values[0] for t in first.trials if t.state == TrialState.PRUNED}
    assert pruned and {n: restored.recorded[12][n] for n in pruned} == pruned
    assert restored.recorded[200] == first.scheduler.recorded[200]


def test_geometric_rungs_end_at_the_maximum():
    assert geometric_rungs(12, 200, 3) == [12, 36, 108, 200]
    assert geometric_rungs(1, 9, 3) == [1, 3, 9]


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: ASHA(fidelities=[12, 12]), "parameter fidelities of ASHA must be"),
        (lambda: ASHA(fidelities=[12, 200], eta=1), "parameter eta of ASHA must be an integer"),
        (lambda: ASHA(), "parameter min_fidelity of ASHA must be a positive integer, got None"),
        (lambda: MedianStopping([1, 2], min_trials=0), "parameter min_trials of MedianStopping"),
        (lambda: make_scheduler("hyperband"), "unknown scheduler 'hyperband'; choose one of"),
        (lambda: ASHA([1, 2]).report(0, 5, 1.0), "fidelity 5 is not a rung of ASHA"),
    ],
)
def test_bad_settings_raise_one_line_config_errors(build, message):
    with pytest.raises(ConfigError, match=message):
        build()


@needs_data
def test_make_scheduler_takes_rungs_from_the_evaluator(data_dir):
    from nasforge.evaluators.tabular import NB201Tabular

    evaluator = NB201Tabular(dataset="cifar10", data_dir=str(data_dir), hardware=False)
    assert make_scheduler("asha", evaluator, eta=4).fidelities == [12, 200]
    assert make_scheduler("median", min_trials=5, fidelities=[1, 2]).min_trials == 5
    with pytest.raises(ConfigError, match="scheduler 'median' needs rungs"):
        make_scheduler("median")


def _asha_nb201_study(data_dir, name, seed, executor=None):
    """An NB201 random-search study with ASHA over the 12 and 200 epoch tables."""
    from nasforge.evaluators.tabular import NB201Tabular
    from nasforge.spaces.nb201 import NB201Space
    from nasforge.strategies.random import RandomSearch
    from nasforge.study import create_study

    space = NB201Space()
    evaluator = NB201Tabular(space, dataset="cifar10", data_dir=str(data_dir), hardware=False)
    study = create_study(
        name=name, space=space, strategy=RandomSearch(space, seed=seed), evaluator=evaluator,
        objectives=["valid_accuracy:max"], scheduler=ASHA(fidelities=[12, 200], eta=3),
        executor=executor,
    )
    return space, evaluator, study


def _assert_values_from_fidelity_reached(space, evaluator, trials):
    for t in trials:
        expected = evaluator.evaluate(space.from_string(t.arch), t.fidelity)["valid_accuracy"]
        assert t.values == [expected]


@needs_data
def test_asha_in_an_nb201_study_prunes_at_12_and_completes_at_200(data_dir):
    space, evaluator, study = _asha_nb201_study(data_dir, "asha", seed=3)
    study.optimize(n_trials=30)
    trials = study.trials
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(trials) == 30 and len(pruned) + len(complete) == 30
    assert pruned and complete
    assert {t.fidelity for t in pruned} == {12} and {t.fidelity for t in complete} == {200}
    # each pruned trial carries its 12-epoch result, each complete one its 200-epoch result
    _assert_values_from_fidelity_reached(space, evaluator, pruned[:3] + complete[:3])
    assert len(complete) <= 30 // 3 + 3  # roughly the top third runs on


@needs_data
def test_asha_on_a_two_worker_pool_resubmits_survivors_asynchronously(data_dir):
    from nasforge.study.pool import LocalPoolExecutor

    space, evaluator, study = _asha_nb201_study(
        data_dir, "asha-pool", seed=5, executor=LocalPoolExecutor(workers=2)
    )
    study.optimize(n_trials=12)
    trials = study.trials
    assert len(trials) == 12
    assert {(t.state, t.fidelity) for t in trials} == {
        (TrialState.PRUNED, 12), (TrialState.COMPLETE, 200)
    }
    # the recorded metrics are those of the fidelity reached
    _assert_values_from_fidelity_reached(space, evaluator, trials)


def test_median_rule_over_trainer_epochs_prunes_real_training_runs():
    from nasforge.evaluators.trainer import TrainerEvaluator
    from nasforge.spaces.chain import ChainSpace
    from nasforge.strategies.random import RandomSearch
    from nasforge.study import create_study

    space = ChainSpace(max_nodes=3, filters=(8,), kernels=(3,))
    evaluator = TrainerEvaluator(space, dataset="digits", max_train=150, batch_size=50,
                                 latency_repeats=1)
    study = create_study(
        name="median-trainer", space=space, strategy=RandomSearch(space, seed=1),
        evaluator=evaluator,
        objectives=["valid_accuracy:max"], scheduler=MedianStopping([1, 2], min_trials=1),
    )
    study.optimize(n_trials=5)
    states = {(t.state, t.fidelity) for t in study.trials}
    assert states <= {(TrialState.PRUNED, 1), (TrialState.COMPLETE, 2)}
    assert (TrialState.COMPLETE, 2) in states and len(study.trials) == 5
