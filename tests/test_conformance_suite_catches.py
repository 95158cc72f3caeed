"""The conformance suites must fail for broken strategies and spaces, naming the broken contract."""

from __future__ import annotations

import numpy as np
import pytest

from nasforge.spaces.nb201 import NB201Space
from nasforge.strategies.evolution import RegularizedEvolution
from nasforge.strategies.random import RandomSearch
from nasforge.testing import check_space, check_strategy


class ForgetsPopulation(RegularizedEvolution):
    def state_dict(self):
        state = super().state_dict()
        state["population"] = []
        return state


class UnseededRandom(RandomSearch):
    def _ask_one(self):
        return self.space.sample(np.random.default_rng())


class MutateReturnsParent(NB201Space):
    def mutate(self, arch, rng):
        return arch


def _evaluate(arch):
    return [float(sum(arch.genes))]


def test_state_that_loses_the_population_is_caught():
    space = NB201Space()
    with pytest.raises(AssertionError, match="restored from state_dict"):
        check_strategy(lambda seed: ForgetsPopulation(space, seed=seed, population=5, sample_size=2), space, _evaluate)


def test_unseeded_strategy_is_caught():
    space = NB201Space()
    with pytest.raises(AssertionError, match="same seed gave different asks"):
        check_strategy(lambda seed: UnseededRandom(space, seed=seed), space, _evaluate)


def test_mutation_returning_the_parent_is_caught():
    with pytest.raises(AssertionError, match="mutate\\(\\) returned its parent"):
        check_space(MutateReturnsParent())
