"""TrialContext end to end: intermediate reports in the store, pruning inside a trial, checkpoints
that make ASHA promotion a continuation, and scheduler state saved with the trials."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import needs_data

from nasforge.architecture import Architecture
from nasforge.study import create_study
from nasforge.study.context import PruneRule, TrialContext
from nasforge.study.schedulers import ASHA, MedianStopping
from nasforge.trial import TrialState


def _chain_trainer(**options):
    from nasforge.evaluators.trainer import TrainerEvaluator
    from nasforge.spaces.chain import ChainSpace

    space = ChainSpace(max_nodes=3, filters=(8,), kernels=(3,))
    evaluator = TrainerEvaluator(space, dataset="digits", max_train=200, batch_size=50,
                                 latency_repeats=1, **options)
    return space, evaluator


@pytest.mark.parametrize("scheduler", [ASHA([1, 3], eta=2), MedianStopping([2, 4], min_trials=1)])
def test_bars_agree_with_the_stopping_rule(scheduler):
    rng = np.random.default_rng(0)
    for trial in range(40):
        rung = scheduler.fidelities[0]
        others = sorted(scheduler.recorded[rung].values(), reverse=True)
        bar = scheduler._bar(others, 0)
        score = float(rng.normal())
        stops = scheduler._stop(score, others, 0)
        assert stops == (bar is not None and score < bar)
        scheduler.recorded[rung][trial] = score


def test_rule_prunes_only_at_its_steps_and_on_non_finite_scores():
    rule = PruneRule("valid_accuracy", 1.0, {3: 50.0})
    assert rule.prunes(3, {"valid_accuracy": 49.0})
    assert not rule.prunes(3, {"valid_accuracy": 50.0})
    assert not rule.prunes(2, {"valid_accuracy": 1.0})
    assert rule.prunes(3, {"valid_accuracy": float("nan")})
    context = TrialContext(rule=rule)
    context.report(3, {"valid_accuracy": 10.0})
    assert context.should_prune()
    assert TrialContext().should_prune() is False


def test_checkpoint_continuation_equals_one_uninterrupted_run(tmp_path):
    space, evaluator = _chain_trainer(epochs=4)
    arch = space.sample(np.random.default_rng(2))
    straight = evaluator.evaluate(arch, 4, seed=7)
    context = TrialContext(seed=7, checkpoint_dir=tmp_path / "t0")
    evaluator.evaluate(arch, 2, 7, context)
    continued = evaluator.evaluate(arch, 4, 7, context)
    assert continued["resumed_from_epoch"] == 2 and straight["resumed_from_epoch"] == 0
    for key in ("valid_accuracy", "test_accuracy", "train_loss", "best_epoch", "epochs"):
        assert continued[key] == pytest.approx(straight[key], rel=1e-6), key
    assert [step for step, _ in context.reports] == [1, 2, 3, 4]


def test_asha_on_real_training_promotes_from_checkpoints_and_saves_everything(tmp_path):
    from nasforge.store.sqlite import SQLiteStore
    from nasforge.strategies.random import RandomSearch

    space, evaluator = _chain_trainer(epochs=3)
    storage = tmp_path / "asha.db"
    study = create_study(name="asha-ckpt", space=space, strategy=RandomSearch(space, seed=4),
                         evaluator=evaluator, storage=storage, scheduler=ASHA([1, 3], eta=2))
    study.optimize(n_trials=6)
    trials = study.trials
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert complete and all(t.fidelity == 3 for t in complete)
    # every promoted trial continued from its 1-epoch checkpoint instead of retraining
    assert all(t.metrics["resumed_from_epoch"] == 1 for t in complete)
    assert (tmp_path / "asha.db.artifacts" / "asha-ckpt" / str(complete[0].number) / "checkpoint.pt").is_file()
    store = SQLiteStore(storage)
    record = store.get_study("asha-ckpt")
    curves = store.intermediate(record.study_id)
    assert [step for step, _ in curves[complete[0].number]] == [1, 2, 3]
    assert record.scheduler_state == study.scheduler.state_dict()
    assert len(record.scheduler_state["recorded"]["1"]) == 6


@needs_data
def test_prune_mode_stops_nb201_trials_inside_the_trial_at_the_12_epoch_report(data_dir, tmp_path):
    from nasforge.evaluators.tabular import NB201Tabular
    from nasforge.spaces.nb201 import NB201Space
    from nasforge.strategies.random import RandomSearch

    space = NB201Space()
    evaluator = NB201Tabular(space, "cifar10", data_dir=str(data_dir))
    scheduler = MedianStopping([12, 200], min_trials=2, mode="prune")
    study = create_study(name="median-prune", space=space, strategy=RandomSearch(space, seed=1),
                         evaluator=evaluator, storage=tmp_path / "p.db", scheduler=scheduler)
    study.optimize(n_trials=20)
    trials = study.trials
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert pruned and complete and len(trials) == 20
    assert {t.fidelity for t in pruned} == {12} and {t.fidelity for t in complete} == {200}
    curves = study.store.intermediate(study.record.study_id)
    assert all([s for s, _ in curves[t.number]] == [12] for t in pruned)
    assert all([s for s, _ in curves[t.number]] == [12, 200] for t in complete)
    # a pruned trial was below the median of the 12-epoch results recorded before it
    for t in pruned:
        earlier = [curves[o.number][0][1]["valid_accuracy"] for o in trials if o.number < t.number]
        assert curves[t.number][0][1]["valid_accuracy"] < np.median(earlier)


def test_a_resumed_study_restores_the_saved_scheduler_state(tmp_path):
    from nasforge.store.sqlite import SQLiteStore
    from nasforge.strategies.random import RandomSearch
    from nasforge.study.study import Study

    space, evaluator = _chain_trainer(epochs=2)
    storage = tmp_path / "s.db"
    study = create_study(name="s", space=space, strategy=RandomSearch(space, seed=0),
                         evaluator=evaluator, storage=storage, scheduler=ASHA([1, 2], eta=2))
    study.optimize(n_trials=3)
    store = SQLiteStore(storage)
    record = store.get_study("s")
    fresh = ASHA([1, 2], eta=2)
    Study(record, store, space, RandomSearch(space, seed=0), evaluator,
          study.objectives, scheduler=fresh)
    assert fresh.state_dict() == study.scheduler.state_dict()


def test_context_reports_are_plain_numbers():
    import torch

    context = TrialContext()
    context.report(1, {"valid_accuracy": torch.tensor(3.5), "n": np.int64(2)})
    assert context.reports == [(1, {"valid_accuracy": 3.5, "n": 2})]
    assert isinstance(Architecture, type)


def test_deleting_a_study_removes_its_rows_and_artifacts(tmp_path):
    from nasforge.cli.app import main
    from nasforge.store.sqlite import SQLiteStore
    from nasforge.strategies.random import RandomSearch

    space, evaluator = _chain_trainer(epochs=1)
    storage = tmp_path / "d.db"
    for name in ("keep", "drop"):
        create_study(name=name, space=space, strategy=RandomSearch(space, seed=0),
                     evaluator=evaluator, storage=storage).optimize(n_trials=1)
    artifacts = tmp_path / "d.db.artifacts"
    assert (artifacts / "drop" / "0" / "checkpoint.pt").is_file()
    assert main(["delete", "drop", "--storage", str(storage)]) == 0
    assert not (artifacts / "drop").exists() and (artifacts / "keep" / "0").is_dir()
    assert SQLiteStore(storage).study_names() == ["keep"]
    assert main(["delete", "drop", "--storage", str(storage)]) == 2
