"""Pareto local search: conformance, options, fronts, failures, asynchrony, exhaustion, resume."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from nasforge.architecture import Architecture
from nasforge.errors import ConfigError
from nasforge.objectives import Objective
from nasforge.pareto import nondominated_mask
from nasforge.registry import STRATEGIES
from nasforge.spaces.nb201 import NB201Space
from nasforge.strategies.pareto_local import ParetoLocalSearch
from nasforge.strategies.random import RandomSearch
from nasforge.testing import check_strategy
from tests.helpers.spaces import BoundedSumSpace

TWO = [Objective("score", "max"), Objective("cost", "min")]


def grid_values(arch: Architecture) -> list[float]:
    g = arch.genes
    return [float(3 * g[0] + 2 * g[1] - g[2]), float(g[0] + g[1] + g[2] + 0.1 * g[0] * g[1])]


def nb201_values(arch: Architecture) -> list[float]:
    """A deterministic NB201 stand-in with interactions: convs raise 'accuracy' and 'latency'."""
    g = np.asarray(arch.genes)
    weights = np.array([1.0, 0.9, 0.8, 1.2, 1.1, 0.7])
    accuracy = ((g == 3) * weights).sum() + 0.5 * (g == 2).sum() + 0.3 * (g[0] == g[5])
    latency = (g >= 2).sum() + 0.1 * (g == 4).sum() + 0.05 * g[1] * (g[3] == 1)
    return [float(accuracy), float(latency)]


def run(strategy, evaluate, budget: int) -> list[str]:
    asked = []
    while len(asked) < budget:
        batch = strategy.ask(1)
        if not batch:
            break
        asked.append(batch[0].string)
        strategy.tell(batch[0], evaluate(batch[0]))
    return asked


@pytest.mark.parametrize("options", [{}, {"select": "hv", "guide": "none", "initial_size": 3}])
def test_conformance_on_nb201_two_objectives(options):
    space = NB201Space()
    check_strategy(
        lambda seed: ParetoLocalSearch(space, seed=seed, objectives=TWO, **options),
        space,
        nb201_values,
    )


def test_conformance_on_a_constrained_integer_space_and_one_objective():
    space = BoundedSumSpace("grid", n_genes=3, high=4, max_sum=9)
    check_strategy(
        lambda seed: ParetoLocalSearch(space, seed=seed, objectives=TWO, initial_size=4),
        space,
        grid_values,
    )
    one = [Objective("score", "max")]
    check_strategy(
        lambda seed: ParetoLocalSearch(space, seed=seed, objectives=one, select="random"),
        space,
        lambda a: grid_values(a)[:1],
    )


def test_registered_under_its_name():
    assert STRATEGIES["pareto_local"].endswith(":ParetoLocalSearch")


@pytest.mark.parametrize(
    "options, word",
    [
        ({"initial_size": 0}, "initial_size"),
        ({"initial_size": True}, "initial_size"),
        ({"select": "best"}, "select"),
        ({"guide": "gp"}, "guide"),
        ({"ridge_alpha": 0}, "ridge_alpha"),
        ({"crowding": "x"}, "crowding"),
        ({"dedupe": "none"}, "dedupe"),
    ],
)
def test_bad_options_name_the_parameter(options, word):
    with pytest.raises(ConfigError, match=f"parameter {word} of ParetoLocalSearch"):
        ParetoLocalSearch(NB201Space(), objectives=TWO, **options)


def test_wrong_number_of_values_is_a_config_error():
    strategy = ParetoLocalSearch(NB201Space(), objectives=TWO)
    arch = strategy.ask(1)[0]
    with pytest.raises(ConfigError, match=r"ParetoLocalSearch.tell needs 2 objective value\(s\) \(score:max, cost:min\), got 1"):
        strategy.tell(arch, [1.0])


def test_expansions_are_neighbours_of_the_front_and_front_matches_the_archive():
    space = NB201Space()
    strategy = ParetoLocalSearch(space, seed=2, objectives=TWO, initial_size=6)
    told: dict[str, list[float]] = {}
    for step in range(60):
        arch = strategy.ask(1)[0]
        if step >= 6:  # after the initial design every ask neighbours a front member
            front = {a.string for a, _ in strategy.front()}
            assert any(arch in space.neighbours(space.from_string(s)) for s in front)
        told[arch.string] = nb201_values(arch)
        strategy.tell(arch, told[arch.string])
    strings = list(told)
    mask = nondominated_mask(np.array([told[s] for s in strings]), TWO)
    assert {a.string for a, _ in strategy.front()} == {s for s, m in zip(strings, mask) if m}


def test_failed_trials_are_never_on_the_front_nor_asked_again():
    space = BoundedSumSpace("grid", n_genes=3, high=4, max_sum=9)
    strategy = ParetoLocalSearch(space, seed=0, objectives=TWO, initial_size=3)
    failed, asked = set(), []
    for step in range(40):
        arch = strategy.ask(1)[0]
        asked.append(arch.string)
        if step % 3 == 0:
            failed.add(arch.string)
            strategy.tell(arch, None)
        else:
            strategy.tell(arch, grid_values(arch) if step % 7 else [float("nan"), 1.0])
    assert len(asked) == len(set(asked))
    assert not failed & {a.string for a, _ in strategy.front()}


def test_asks_in_flight_are_distinct_and_the_space_is_exhausted_without_repeats():
    space = BoundedSumSpace("grid", n_genes=3, high=4, max_sum=9)
    valid = sum(1 for v in itertools.product(range(5), repeat=3) if sum(v) <= 9)
    strategy = ParetoLocalSearch(space, seed=5, objectives=TWO, initial_size=2)
    asked: list[str] = []
    while True:
        batch = strategy.ask(4)
        if not batch:
            break
        asked += [a.string for a in batch]
        for arch in reversed(batch):  # completion order differs from ask order
            strategy.tell(arch, grid_values(arch))
    assert len(asked) == len(set(asked)) == valid


def test_identity_dedupe_never_asks_two_isomorphic_cells():
    space = NB201Space()
    strategy = ParetoLocalSearch(space, seed=1, objectives=TWO, dedupe="identity")
    asked = run(strategy, nb201_values, 80)
    identities = [space.identity(space.from_string(s)) for s in asked]
    assert len(identities) == len(set(identities))


def test_json_resume_mid_run_continues_identically():
    space = NB201Space()
    original = ParetoLocalSearch(space, seed=4, objectives=TWO)
    run(original, nb201_values, 25)
    in_flight = original.ask(3)
    restored = ParetoLocalSearch(space, seed=4, objectives=TWO)
    restored.load_state_dict(json.loads(json.dumps(original.state_dict(), allow_nan=False)))
    for arch in in_flight[::-1]:
        original.tell(arch, nb201_values(arch))
        restored.tell(arch, nb201_values(arch))
    assert run(original, nb201_values, 30) == run(restored, nb201_values, 30)


def test_finds_more_of_the_true_front_than_random_search():
    """On the whole NB201 stand-in the front is known exactly; 150 queries of PLS cover more of
    it than 150 of random search, for each of three seeds."""
    space = NB201Space()
    archs = [space.from_index(i) for i in range(space.size())]
    values = np.array([nb201_values(a) for a in archs])
    true_front = {a.string for a, m in zip(archs, nondominated_mask(values, TWO)) if m}

    def covered(strategy) -> int:
        return len(true_front & set(run(strategy, nb201_values, 150)))

    for seed in range(3):
        pls = covered(ParetoLocalSearch(space, seed=seed, objectives=TWO))
        rnd = covered(RandomSearch(space, seed=seed, objectives=TWO, dedupe="string"))
        assert pls > rnd
