"""Q-NAS through the strategy conformance suite, on NB201 (real table), the chain space, and a
two-objective setting; plus a study that is interrupted and resumed from its SQLite store."""

from __future__ import annotations

import math

import pytest
from conftest import needs_data

from nasforge.objectives import Objective
from nasforge.spaces.chain import ChainSpace
from nasforge.spaces.nb201 import NB201Space
from nasforge.strategies.qnas import QNAS
from nasforge.testing.conformance import check_strategy


def chain_score(space: ChainSpace):
    """A deterministic stand-in for training: rewards conv/res layers and a sensible lr."""

    def evaluate(arch):
        layers = space.layers(arch)
        hp = space.training_hparams(arch)
        return [
            sum(0.2 if name.startswith(("conv", "res")) else 0.05 for name in layers)
            - 0.1 * abs(math.log10(hp["lr"]) + 2)
        ]

    return evaluate


@pytest.mark.parametrize("preset", ["paper", "small_budget"])
def test_conformance_on_the_chain_space_with_penalty(preset):
    space = ChainSpace(max_nodes=5)
    check_strategy(
        lambda seed: QNAS(
            space, seed=seed, preset=preset, reduction_limit=1, population=2, repetition=3
        ),
        space,
        chain_score(space),
        steps=30,
    )


def test_chain_space_starts_group_uniform_and_numeric_genes_stay_in_range():
    space = ChainSpace(max_nodes=4)
    strategy = QNAS(space, seed=0, preset="small_budget")
    probs = strategy.quantum.probs[0][0]
    functions = space.genes()[0].choices
    assert probs[functions.index("no_op")] == pytest.approx(1 / 3)
    assert sum(p for f, p in zip(functions, probs) if f.endswith("pool")) == pytest.approx(1 / 3)
    evaluate = chain_score(space)
    for _ in range(5):
        for arch in strategy.ask(10):
            hp = space.training_hparams(arch)
            assert 1e-4 <= hp["lr"] <= 1e-1 and 0.0 <= hp["momentum"] <= 0.99
            strategy.tell(arch, evaluate(arch))
    assert strategy.generation == 5
    assert (strategy.quantum.lower <= strategy.quantum.upper).all()


@needs_data
def test_conformance_on_nb201_with_the_real_table(data_dir):
    from nasforge.evaluators.tabular import NB201Tabular

    space = NB201Space()
    evaluator = NB201Tabular(space, dataset="cifar10", data_dir=str(data_dir), hardware=False)
    check_strategy(
        lambda seed: QNAS(space, seed=seed, preset="small_budget"),
        space,
        lambda arch: [evaluator.evaluate(arch, 200, 0)["valid_accuracy"]],
    )


@needs_data
def test_multi_objective_conformance_on_nb201(data_dir):
    from nasforge.evaluators.tabular import NB201Tabular

    space = NB201Space()
    evaluator = NB201Tabular(space, dataset="cifar10", data_dir=str(data_dir), hardware=False)
    objectives = [Objective("valid_accuracy", "max"), Objective("params_m", "min")]

    def evaluate(arch):
        metrics = evaluator.evaluate(arch, 200, 0)
        return [metrics["valid_accuracy"], metrics["params_m"]]

    check_strategy(lambda seed: QNAS(space, seed=seed, objectives=objectives), space, evaluate)


@needs_data
def test_study_resumes_exactly_from_its_store(data_dir, tmp_path):
    from nasforge.study.api import create_study_from_config, load_study

    def config(name, storage):
        return {
            "name": name,
            "space": "nb201",
            "strategy": "qnas",
            "strategy_options": {"preset": "small_budget", "crossover_rate": 0.4},
            "evaluator": "nb201",
            "dataset": "cifar100",
            "data": str(data_dir),
            "seed": 4,
            "storage": str(storage),
        }

    straight = create_study_from_config(config("straight", tmp_path / "a.db"))
    straight.optimize(n_trials=40)
    interrupted = create_study_from_config(config("resumed", tmp_path / "b.db"))
    interrupted.optimize(n_trials=17)  # stops in the middle of the third generation
    del interrupted
    resumed = load_study("resumed", tmp_path / "b.db")  # what 'nasforge resume' does
    assert resumed.strategy.generation == 2 and resumed.strategy.batch is not None
    resumed.optimize(n_trials=40)
    assert [t.arch for t in resumed.trials] == [t.arch for t in straight.trials]
    assert resumed.strategy.state_dict() == straight.strategy.state_dict()
