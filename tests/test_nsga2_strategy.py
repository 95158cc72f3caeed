"""NSGA-II: conformance, repair, dedupe, survival, asynchrony, and a real resumable study."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from nasforge.architecture import Architecture
from nasforge.errors import ConfigError
from nasforge.objectives import Objective
from nasforge.pareto import nondominated_mask
from nasforge.spaces.base import SearchSpace
from nasforge.spaces.nb201 import NB201Space
from nasforge.strategies.nsga2 import NSGA2
from nasforge.testing import check_strategy
from nasforge.trial import TrialState
from tests.helpers.spaces import BoundedSumSpace

TWO = [Objective("score", "max"), Objective("cost", "min")]


def budget_values(arch: Architecture) -> list[float]:
    """Conflicting objectives: score wants large early genes, cost penalises every unit."""
    g = arch.genes
    return [float(3 * g[0] + 2 * g[1] + g[2] - 0.5 * g[3]), float(sum(g))]


def nb201_values(arch: Architecture) -> list[float]:
    """A deterministic NB201 stand-in: convs raise both 'accuracy' and 'latency'."""
    g = np.asarray(arch.genes)
    weights = np.array([1.0, 0.9, 0.8, 1.2, 1.1, 0.7])
    accuracy = ((g == 3) * weights).sum() + 0.5 * (g == 2).sum()
    latency = (g >= 2).sum() + 0.1 * (g == 4).sum()
    return [float(accuracy), float(latency)]


def test_conformance_on_nb201_two_objectives():
    space = NB201Space()
    make = lambda seed: NSGA2(space, seed=seed, objectives=TWO, population_size=6)  # noqa: E731
    check_strategy(make, space, nb201_values)


def test_conformance_with_repair_on_a_constrained_space():
    space = BoundedSumSpace("budget", n_genes=4, high=3, max_sum=6)
    make = lambda seed: NSGA2(space, seed=seed, objectives=TWO, population_size=4)  # noqa: E731
    check_strategy(make, space, budget_values)


def test_children_are_repaired_valid_and_never_repeat_until_the_space_is_exhausted():
    space = BoundedSumSpace("budget", n_genes=4, high=3, max_sum=6)
    valid = sum(1 for v in itertools.product(range(4), repeat=4) if sum(v) <= 6)  # 150 of 256
    strategy = NSGA2(space, seed=1, objectives=TWO, population_size=8, max_attempts=30)
    asked: list[str] = []
    while True:
        batch = strategy.ask(3)
        if not batch:
            break
        for arch in batch:
            space.validate(arch)
            strategy.tell(arch, budget_values(arch))
        asked += [a.string for a in batch]
        assert len(asked) <= valid
    assert len(asked) == len(set(asked)) == valid


def test_identity_dedupe_never_asks_two_isomorphic_nb201_cells():
    space = NB201Space()
    strategy = NSGA2(space, seed=0, objectives=TWO, population_size=10, dedupe="identity")
    identities = []
    for _ in range(20):
        for arch in strategy.ask(5):
            identities.append(space.identity(arch))
            strategy.tell(arch, nb201_values(arch))
    assert len(identities) == len(set(identities)) == 100


def test_survivors_are_the_best_fronts_and_keep_the_extremes():
    space = BoundedSumSpace("budget", n_genes=4, high=3, max_sum=6)
    strategy = NSGA2(space, seed=2, objectives=TWO, population_size=6)
    told: list[tuple[str, list[float]]] = []
    for _ in range(8):
        for arch in strategy.ask(6):
            told.append((arch.string, budget_values(arch)))
            strategy.tell(arch, told[-1][1])
    assert strategy.generation >= 5
    values = np.array([v for _, v in told])
    front = {told[i][0] for i in np.flatnonzero(nondominated_mask(values, TWO))}
    population = {arch.string for arch, _ in strategy.population()}
    # elitism: whatever was non-dominated among everything told is kept while it fits
    if len(front) <= 6:
        assert front <= population
    else:
        assert population <= front
    best_score = max(told, key=lambda t: (t[1][0], -t[1][1]))[0]
    cheapest = min(told, key=lambda t: (t[1][1], -t[1][0]))[0]
    assert {best_score, cheapest} <= population


def test_failed_trials_are_dominated_and_out_of_order_tells_are_fine():
    space = NB201Space()
    strategy = NSGA2(space, seed=4, objectives=TWO, population_size=4)
    first = strategy.ask(8)
    assert len(first) == 8
    for i, arch in enumerate(reversed(first)):
        strategy.tell(arch, None if i % 2 else nb201_values(arch))
    # 8 results, 4 of them failures: survival must keep the 4 successes
    survivors = strategy.population()
    assert len(survivors) == 4 and all(values is not None for _, values in survivors)
    # a child asked before a survival and told after it joins the next pool
    early = strategy.ask(2)
    for arch in strategy.ask(4):
        strategy.tell(arch, nb201_values(arch))
    generation = strategy.generation
    for arch in early:
        strategy.tell(arch, nb201_values(arch))
    assert strategy.generation == generation  # pool holds 2 of the next 4
    assert json.loads(json.dumps(strategy.state_dict()))["pool"][0][0] == early[0].string


def test_beats_random_search_on_a_synthetic_trade_off():
    """Hypervolume after 60 asks on the NB201 stand-in, averaged over 5 seeds."""
    from nasforge.pareto import hypervolume

    space = NB201Space()
    every = np.array([nb201_values(a) for a in (space.from_index(i) for i in range(0, 15625, 7))])
    bounds = [(every[:, 0].min(), every[:, 0].max()), (every[:, 1].min(), every[:, 1].max())]

    def run(make) -> float:
        volumes = []
        for seed in range(5):
            strategy, points = make(seed), []
            while len(points) < 60:
                for arch in strategy.ask(1):
                    points.append(nb201_values(arch))
                    strategy.tell(arch, points[-1])
            volumes.append(hypervolume(np.array(points), TWO, bounds))
        return float(np.mean(volumes))

    rng_based = run(lambda seed: _Uniform(space, seed))
    nsga = run(lambda seed: NSGA2(space, seed=seed, objectives=TWO, population_size=8))
    assert nsga > rng_based


class _Uniform:
    """Uniform sampling baseline written here so this test depends on NSGA-II alone."""

    def __init__(self, space: SearchSpace, seed: int) -> None:
        self.space, self.rng = space, np.random.default_rng(seed)

    def ask(self, n: int) -> list[Architecture]:
        return [self.space.sample(self.rng) for _ in range(n)]

    def tell(self, arch, values) -> None:
        pass


@pytest.mark.parametrize(
    "options, match",
    [
        ({"population_size": 1}, "population_size of NSGA2 must be an integer >= 2"),
        ({"crossover_prob": 1.5}, "crossover_prob of NSGA2 must be a number in \\[0, 1\\]"),
        ({"crossover_points": 6}, "crossover_points of NSGA2 must be at most 5"),
        ({"mutation_eta": 0}, "mutation_eta of NSGA2"),
        ({"dedupe": "graph"}, "dedupe of NSGA2 must be one of"),
        ({"crowding": "fancy"}, "crowding of NSGA2 must be one of"),
        ({"offspring_size": 0}, "offspring_size of NSGA2 must be an integer >= 1"),
    ],
)
def test_bad_options_are_one_line_config_errors(options, match):
    with pytest.raises(ConfigError, match=match) as info:
        NSGA2(NB201Space(), objectives=TWO, **options)
    assert "\n" not in str(info.value)


def test_study_resumes_from_the_store_with_the_same_trajectory(tmp_path, data_dir):
    from nasforge.study.api import create_study_from_config, load_study

    config = {
        "name": "mo",
        "space": "nb201",
        "strategy": "nsga2",
        "strategy_options": {"population_size": 6},
        "evaluator": "nb201",
        "dataset": "cifar10",
        "data": str(data_dir),
        "objectives": ["valid_accuracy:max", "edgegpu_latency:min"],
        "trials": 40,
        "seed": 5,
    }
    reference = create_study_from_config({**config, "storage": str(tmp_path / "ref.db")})
    reference.optimize(n_trials=40)
    want = [(t.arch, t.values) for t in reference.trials]

    first = create_study_from_config({**config, "storage": str(tmp_path / "cut.db")})
    first.optimize(n_trials=17)
    first.store.close()
    resumed = load_study("mo", str(tmp_path / "cut.db"))
    resumed.optimize(n_trials=40)
    got = [(t.arch, t.values) for t in resumed.trials]
    assert got == want
    assert all(t.state == TrialState.COMPLETE for t in resumed.trials)
    assert len({arch for arch, _ in got}) == 40


def test_initial_and_offspring_sizes_set_when_survival_happens():
    space = NB201Space()
    strategy = NSGA2(
        space, seed=0, objectives=TWO, population_size=4, offspring_size=2, initial_size=6
    )
    generations = []
    for _ in range(10):
        (arch,) = strategy.ask(1)
        strategy.tell(arch, nb201_values(arch))
        generations.append(strategy.generation)
    # first survival after 6 random results, then one after every 2 children
    assert generations == [0, 0, 0, 0, 0, 1, 1, 2, 2, 3]
    assert len(strategy.population()) == 4
    with pytest.raises(ConfigError, match="initial_size of NSGA2 must be an integer >= 4"):
        NSGA2(space, objectives=TWO, population_size=4, initial_size=3)
