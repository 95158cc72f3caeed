"""The NB201 space and the three baseline strategies through the shared conformance suites."""

from __future__ import annotations

import pytest

from nasforge.evaluators.tabular import NB201Tabular
from nasforge.objectives import Objective
from nasforge.registry import resolve
from nasforge.spaces.nb201 import NB201Space
from nasforge.testing import check_space, check_strategy


@pytest.fixture(scope="module")
def space():
    return NB201Space()


@pytest.fixture(scope="module")
def evaluate_fn(space, data_dir):
    evaluator = NB201Tabular(space, "cifar10", data_dir=data_dir)
    return lambda arch: [evaluator.evaluate(arch, 200, 0)["valid_accuracy"]]


@pytest.mark.parametrize("seed", [0, 7])
def test_nb201_space_conforms(space, seed):
    check_space(space, rng_seed=seed)


@pytest.mark.parametrize(
    "name, options",
    [
        ("random", {}),
        ("evolution", {"population": 8, "sample_size": 3}),
        ("evolution", {"population": 5, "sample_size": 5, "mutations": 2}),
        ("local_search", {"initial": 3}),
        ("local_search", {"initial": 2, "first_improvement": True, "restarts": False}),
    ],
)
def test_strategies_conform(space, evaluate_fn, name, options):
    cls = resolve("strategy", name)
    check_strategy(lambda seed: cls(space, seed=seed, **options), space, evaluate_fn, steps=60)


def test_multi_objective_random_conforms(space, data_dir):
    evaluator = NB201Tabular(space, "cifar100", data_dir=data_dir)
    objectives = [Objective("valid_accuracy", "max"), Objective("params_m", "min")]

    def evaluate_fn(arch):
        metrics = evaluator.evaluate(arch, 200, 0)
        return [metrics["valid_accuracy"], metrics["params_m"]]

    for name in ("random", "evolution", "local_search"):
        cls = resolve("strategy", name)
        check_strategy(lambda seed: cls(space, seed=seed, objectives=objectives), space, evaluate_fn, steps=30)
