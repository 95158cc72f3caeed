"""Random search, regularized evolution and local search: behaviour that defines each of them."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pytest

from nasforge.architecture import Categorical
from nasforge.errors import ConfigError
from nasforge.evaluators.tabular import NB201Tabular
from nasforge.spaces.base import SearchSpace
from nasforge.spaces.nb201 import NB201Space
from nasforge.strategies.evolution import RegularizedEvolution
from nasforge.strategies.local_search import LocalSearch
from nasforge.strategies.random import RandomSearch
from nasforge.testing import run_strategy


class TinySpace(SearchSpace):
    """Three members: lets tests exhaust a space."""

    name = "tiny"

    def genes(self) -> Sequence[Categorical]:
        return (Categorical("g", ("a", "b", "c")),)

    def from_genes(self, values):
        return self._make("abc"[int(values[0])], [int(values[0])])

    def from_string(self, text):
        return self.from_genes(["abc".index(text)])


@pytest.fixture(scope="module")
def space():
    return NB201Space()


@pytest.fixture(scope="module")
def evaluator(space, data_dir):
    return NB201Tabular(space, "cifar10", data_dir=data_dir)


@pytest.fixture(scope="module")
def valid(evaluator):
    return evaluator.column("valid_accuracy")


def test_random_search_never_repeats_an_identity_until_exhausted(space):
    strategy = RandomSearch(space, seed=1)
    asked = strategy.ask(600)
    assert len({space.identity(a) for a in asked}) == 600
    tiny = RandomSearch(TinySpace(), seed=0)
    first = tiny.ask(3)
    assert sorted(a.string for a in first) == ["a", "b", "c"]
    assert len(tiny.ask(4)) == 4  # exhausted: repeats rather than stalling


def test_evolution_starts_random_then_mutates_tournament_winners(space, valid):
    strategy = RegularizedEvolution(space, seed=0, population=10, sample_size=3)
    initial = strategy.ask(10)
    assert len(strategy.ask(1)) == 1  # population empty: still random, never stalls
    for arch in initial:
        strategy.tell(arch, [valid[space.index(arch)]])
    members = {a.string for a in initial}
    for child in strategy.ask(20):
        parents = [a for a in initial if sum(x != y for x, y in zip(a.genes, child.genes)) == 1]
        assert parents, "each child is one mutation away from a population member"
    assert {a.string for a, _ in strategy._population} <= members


def test_evolution_ages_out_the_oldest_and_drops_failures(space):
    strategy = RegularizedEvolution(space, seed=0, population=3, sample_size=2)
    archs = [space.from_index(i) for i in range(5)]
    strategy.tell(archs[0], [99.0])
    strategy.tell(archs[1], None)
    for arch in archs[2:]:
        strategy.tell(arch, [1.0])
    assert [a for a, _ in strategy._population] == archs[2:]  # the 99% one aged out, failure never joined


def test_evolution_beats_random_search_on_nb201(space, valid):
    def best_after(cls, seed, budget=150):
        strategy = cls(space, seed=seed)
        asked = run_strategy(strategy, lambda a: [valid[space.index(a)]], budget)
        return max(valid[space.index(space.from_string(s))] for s in asked)

    seeds = range(12)
    evolution = np.mean([best_after(RegularizedEvolution, s) for s in seeds])
    random = np.mean([best_after(RandomSearch, s) for s in seeds])
    assert evolution > random


def test_local_search_climbs_to_true_local_optima(space, evaluator):
    # a score that is a function of the identity class, so "known by identity" is exact
    column = evaluator.column("valid_accuracy")
    by_class: dict[str, float] = {}
    for index in range(len(column)):
        key = space.identity(space.from_index(index))
        by_class[key] = max(by_class.get(key, -1.0), float(column[index]))

    def score(arch):
        return by_class[space.identity(arch)]

    strategy = LocalSearch(space, seed=4, initial=5)
    asked = run_strategy(strategy, lambda a: [score(a)], 400)
    assert strategy.local_optima, "400 queries reach at least one local optimum"
    for string in strategy.local_optima:
        optimum = space.from_string(string)
        assert all(score(n) <= score(optimum) for n in space.neighbours(optimum))
    identities = [space.identity(space.from_string(s)) for s in asked]
    assert len(set(identities)) == len(identities), "no identity is asked twice"


def test_local_search_waits_for_its_neighbourhood(space, valid):
    strategy = LocalSearch(space, seed=0, initial=2)
    starts = strategy.ask(5)
    assert len(starts) == 2  # the start round waits for its two results
    for arch in starts:
        strategy.tell(arch, [valid[space.index(arch)]])
    neighbourhood = strategy.ask(50)
    assert 0 < len(neighbourhood) <= 24 and strategy.ask(1) == []
    best = max(starts, key=lambda a: valid[space.index(a)])
    assert all(sum(x != y for x, y in zip(best.genes, n.genes)) == 1 for n in neighbourhood)


@pytest.mark.parametrize(
    "cls, options, fragment",
    [
        (RegularizedEvolution, {"population": 0}, "population"),
        (RegularizedEvolution, {"population": 4, "sample_size": 5}, "sample_size"),
        (RegularizedEvolution, {"mutations": 1.5}, "mutations"),
        (LocalSearch, {"initial": 0}, "initial"),
        (LocalSearch, {"restarts": "yes"}, "restarts"),
        (RandomSearch, {"dedupe": 1}, "dedupe"),
    ],
)
def test_bad_options_are_config_errors(space, cls, options, fragment):
    with pytest.raises(ConfigError, match=fragment):
        cls(space, seed=0, **options)
