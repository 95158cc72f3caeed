"""Q-NAS: quantum population rules, asynchronous ask/tell, exact resume, patience, penalty."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nasforge.architecture import Categorical, Float, Integer
from nasforge.errors import ArchitectureError, ConfigError
from nasforge.objectives import Objective
from nasforge.spaces.base import SearchSpace
from nasforge.strategies.qnas import PAPER, QNAS, SMALL_BUDGET
from nasforge.strategies.qnas_quantum import (
    QuantumPopulation,
    from_unit_value,
    initial_probabilities,
    to_unit,
)

FUNCTIONS = ("conv_3_32", "res_32", "res_proj_32", "max_pool", "avg_pool", "no_op")


class ToyChain(SearchSpace):
    """A 4-node chain with a function set, an optimizer, an integer and a log-float gene.

    All-no_op vectors are invalid (so repair is exercised); ``reductions`` counts pooling nodes.
    """

    name = "toy_chain"

    def __init__(self, nodes: int = 4) -> None:
        self._genes = tuple(Categorical(f"node_{i}", FUNCTIONS) for i in range(nodes)) + (
            Categorical("optimizer", ("sgd", "rmsprop", "adam")),
            Integer("epochs", 1, 4),
            Float("lr", 1e-4, 1e-1, log=True),
        )
        self.nodes = nodes

    def genes(self):
        return self._genes

    def from_genes(self, values):
        values = list(values)
        if len(values) != len(self._genes):
            raise ArchitectureError("wrong length")
        nodes = [FUNCTIONS[int(v)] for v in values[: self.nodes]]
        if all(n == "no_op" for n in nodes):
            raise ArchitectureError("a chain needs at least one active node")
        opt = ("sgd", "rmsprop", "adam")[int(values[self.nodes])]
        epochs = int(values[self.nodes + 1])
        lr = float(f"{float(values[self.nodes + 2]):.4g}")
        string = ">".join(nodes) + f"|{opt},{epochs},{lr!r}"
        genes = [int(v) for v in values[: self.nodes + 1]] + [epochs, lr]
        return self._make(string, genes)

    def from_string(self, text):
        chain, _, rest = text.partition("|")
        opt, epochs, lr = rest.split(",")
        genes = [FUNCTIONS.index(n) for n in chain.split(">")]
        genes += [("sgd", "rmsprop", "adam").index(opt), int(epochs), float(lr)]
        return self.from_genes(genes)

    def reductions(self, arch) -> int:
        return sum(1 for g in arch.genes[: self.nodes] if FUNCTIONS[g].endswith("pool"))


class GroupedToy(ToyChain):
    name = "grouped_toy"

    def gene_groups(self, gene_name):
        if gene_name.startswith("node_"):
            return {"identity": ["no_op"], "other": [f for f in FUNCTIONS if f != "no_op"]}
        return None


def toy_score(arch) -> float:
    """A smooth landscape: conv nodes and Adam good, lr near 1e-2 good, pools slightly bad."""
    g = arch.genes
    nodes = sum({0: 1.0, 1: 0.8, 2: 0.7, 3: 0.2, 4: 0.3, 5: 0.0}[x] for x in g[:4])
    return nodes + (0.5 if g[4] == 2 else 0.0) - abs(math.log10(g[6]) + 2) * 0.3 + 0.1 * g[5]


def run(strategy, n_evals, batch=3, order=None):
    """Drive ask/tell; ``order`` permutes each asked batch before telling (async completion)."""
    told = 0
    while told < n_evals and not strategy.finished:
        asked = strategy.ask(batch)
        assert asked, "a strategy with nothing in flight must propose something"
        for arch in (order(asked) if order else asked):
            strategy.tell(arch, [toy_score(arch)])
            told += 1
    return told


# --- quantum population ------------------------------------------------------------------------


def test_initial_probabilities_are_uniform_over_function_groups():
    space = ToyChain()
    node = initial_probabilities(space, space.genes()[0])
    expected = {"no_op": 1 / 3, "max_pool": 1 / 6, "avg_pool": 1 / 6}
    for name, p in zip(FUNCTIONS, node):
        assert p == pytest.approx(expected.get(name, 1 / 9))
    optimizer = initial_probabilities(space, space.genes()[4])
    assert optimizer == pytest.approx([1 / 3] * 3)  # names say nothing: uniform


def test_space_hook_overrides_derived_groups_and_is_checked():
    space = GroupedToy()
    node = initial_probabilities(space, space.genes()[0])
    assert node[FUNCTIONS.index("no_op")] == pytest.approx(0.5)
    assert node[0] == pytest.approx(0.1)

    class Broken(ToyChain):
        def gene_groups(self, gene_name):
            return {"a": ["conv_3_32"]}

    with pytest.raises(ConfigError, match="gene_groups"):
        QNAS(Broken())


def test_nb201_like_names_fall_back_to_uniform():
    ops = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    gene = Categorical("1<-0", ops)
    assert initial_probabilities(ToyChain(), gene) == pytest.approx([0.2] * 5)


def test_integer_genes_use_equal_bins():
    gene = Integer("epochs", 1, 4)
    rng = np.random.default_rng(0)
    counts = np.bincount([from_unit_value(gene, u) for u in rng.random(4000)], minlength=5)[1:]
    assert counts.min() > 900  # each of 4 values ~1000
    assert [from_unit_value(gene, to_unit(gene, v)) for v in range(1, 5)] == [1, 2, 3, 4]


def test_update_keeps_probabilities_normalised_and_capped():
    space = ToyChain()
    pop = QuantumPopulation(space, 3)
    rng = np.random.default_rng(1)
    best = [[0, 0, 0, 0, 2, 0.9, 0.5]] * 3
    for _ in range(200):
        pop.update(best, intensity=1.0, rate=1.0, step=0.3, cap=0.9, rng=rng)
        for probs in pop.probs:
            assert np.allclose(probs.sum(axis=1), 1.0)
            assert probs.max() <= 0.9 + 1e-12 and probs.min() >= 0.0
    assert pop.probs[0][:, 0] == pytest.approx([0.9] * 3)
    assert np.all(pop.lower <= pop.upper) and pop.lower.min() >= 0 and pop.upper.max() <= 1


def test_pulses_follow_the_best_and_shrink_to_the_spread():
    space = ToyChain()
    pop = QuantumPopulation(space, 1)
    ranked = [[0, 0, 0, 0, 0, 0.30, 0.60], [1, 0, 0, 0, 0, 0.40, 0.70]]
    pop.update(ranked, intensity=1.0, rate=1.0, step=0.05, cap=0.99, rng=np.random.default_rng(0))
    # centre = best value, width = spread (0.1) when intensity is 1
    assert pop.lower[0] == pytest.approx([0.25, 0.55])
    assert pop.upper[0] == pytest.approx([0.35, 0.65])


# --- the strategy ----------------------------------------------------------------------------


def test_generation_is_population_times_repetition_and_waits_for_all_results():
    strategy = QNAS(ToyChain(), seed=3, preset="paper")
    first = strategy.ask(100)
    assert len(first) == PAPER["population"] * PAPER["repetition"] == 20
    assert strategy.ask(5) == []  # waiting: nothing more until the generation is told
    for arch in reversed(first[1:]):  # out of order
        strategy.tell(arch, [toy_score(arch)])
    assert strategy.generation == 0 and strategy.ask(1) == []
    strategy.tell(first[0], None)  # a failure completes the generation too
    assert strategy.generation == 1
    worst = strategy.classical[-1]
    assert worst["arch"] == first[0] and worst["objectives"] is None
    assert len(strategy.ask(100)) == 20


def test_state_round_trip_mid_generation_resumes_the_same_trajectory():
    def make():
        return QNAS(ToyChain(), seed=11, preset="small_budget", crossover_rate=0.7)

    a = make()
    run(a, 37, batch=4, order=lambda xs: xs[::-1])  # ends mid-generation with results in flight
    in_flight = a.ask(3)
    assert a.batch is not None and in_flight
    saved = json.loads(json.dumps(a.state_dict()))
    b = make()
    b.load_state_dict(saved)
    assert b.state_dict() == a.state_dict()
    for s in (a, b):
        for arch in in_flight[::-1]:
            s.tell(arch, [toy_score(arch)])
        run(s, 60, batch=5, order=lambda xs: xs[1:] + xs[:1])
    assert a.state_dict() == b.state_dict()
    assert a.generation > 5


def test_search_improves_on_its_first_generation():
    strategy = QNAS(ToyChain(), seed=0, preset="small_budget", population=5, repetition=2)
    run(strategy, 10, batch=10)
    first = strategy.best["fitness"]
    run(strategy, 9 * 10, batch=10)
    assert strategy.generation == 10
    assert strategy.best["fitness"] > first
    assert strategy.best["fitness"] == pytest.approx(toy_score(strategy.classical[0]["arch"]))
    # the distributions moved toward good functions: a conv kind is now likeliest on most nodes
    node_probs = np.stack([p.mean(axis=0) for p in strategy.quantum.probs[:4]])
    assert (node_probs.argmax(axis=1) <= 2).sum() >= 3


def test_patience_finishes_the_search():
    strategy = QNAS(ToyChain(), seed=2, patience=2, population=2, repetition=2)
    told = 0
    while not strategy.finished:
        for arch in strategy.ask(10):
            strategy.tell(arch, [1.0])  # no improvement after the first generation
            told += 1
    assert strategy.generation == 3 and told == 12 and strategy.stall == 2
    assert strategy.ask(4) == []
    restored = QNAS(ToyChain(), seed=2, patience=2, population=2, repetition=2)
    restored.load_state_dict(json.loads(json.dumps(strategy.state_dict())))
    assert restored.finished and restored.ask(1) == []


def test_max_generations_finishes_the_search():
    strategy = QNAS(ToyChain(), seed=2, max_generations=2, population=2, repetition=1)
    assert run(strategy, 100) == 4 and strategy.finished


def test_penalty_per_reduction_beyond_the_limit():
    space = ToyChain()
    strategy = QNAS(space, seed=0, reduction_limit=1, penalty=0.25, population=1, repetition=1)
    arch = strategy.ask(1)[0]
    strategy.tell(arch, [2.0])
    excess = max(0, space.reductions(arch) - 1)
    assert strategy.classical[0]["objectives"] == [pytest.approx(2.0 - 0.25 * excess)]
    two_pools = space.from_genes([3, 4, 0, 0, 0, 1, 0.01])
    assert strategy._objectives_of(two_pools, [2.0]) == [pytest.approx(1.75)]
    with pytest.raises(ConfigError, match="reductions"):
        QNAS(SearchSpaceWithoutReductions(), reduction_limit=2)


class SearchSpaceWithoutReductions(ToyChain):
    name = "no_reductions"
    reductions = None


def test_invalid_observations_are_repaired():
    space = ToyChain()
    strategy = QNAS(space, seed=0, population=1, repetition=5)
    no_op = FUNCTIONS.index("no_op")
    for probs in strategy.quantum.probs[:4]:  # every node observes no_op: always invalid
        probs[:] = 0.0
        probs[:, no_op] = 1.0
    asked = strategy.ask(5)
    assert len(asked) == 5
    for arch in asked:
        space.validate(arch)


class Grid(SearchSpace):
    """Nine architectures: two categorical genes of three choices."""

    name = "grid"

    def genes(self):
        return (Categorical("a", ("x", "y", "z")), Categorical("b", ("x", "y", "z")))

    def from_genes(self, values):
        a, b = (int(v) for v in values)
        return self._make(f"{a}{b}", [a, b])

    def from_string(self, text):
        return self.from_genes([int(c) for c in text])


def test_avoid_duplicates_until_the_space_is_exhausted():
    strategy = QNAS(Grid(), seed=0, population=2, repetition=2, avoid_duplicates=True)
    asked = []
    for _ in range(3):
        batch = strategy.ask(10)
        assert len(batch) == 4
        asked += batch
        for arch in batch:
            strategy.tell(arch, [float(arch.genes[0] + arch.genes[1])])
    assert len({a.string for a in asked[:9]}) == 9  # every architecture before any repeat
    assert len({a.string for a in asked}) == 9  # then repeats are allowed

    plain = QNAS(Grid(), seed=0, population=2, repetition=2)
    repeats = 0
    for _ in range(3):
        batch = plain.ask(10)
        repeats += len(batch) - len({a.string for a in batch})
        for arch in batch:
            plain.tell(arch, [1.0])
    assert repeats > 0  # the paper setting samples with replacement


def test_multi_objective_survivors_are_ordered_by_rank_then_crowding():
    from nasforge.pareto import rank_and_crowding

    objectives = [Objective("valid_accuracy", "max"), Objective("params_m", "min")]
    strategy = QNAS(ToyChain(), seed=5, objectives=objectives, population=2, repetition=3)
    for _ in range(3):
        for arch in strategy.ask(10):
            g = arch.genes
            strategy.tell(arch, [toy_score(arch), float(sum(x <= 2 for x in g[:4]))])
    values = np.array([m["objectives"] for m in strategy.classical])
    ranks, _ = rank_and_crowding(values, ["max", "max"])
    assert list(ranks) == sorted(ranks)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"population": 0}, "population"),
        ({"repetition": 2.5}, "repetition"),
        ({"crossover_rate": 1.5}, "crossover_rate"),
        ({"update_quantum_rate": -0.1}, "update_quantum_rate"),
        ({"update_step": 0.0}, "update_step"),
        ({"max_probability": 1.2}, "max_probability"),
        ({"penalty": -1}, "penalty"),
        ({"patience": 0}, "patience"),
        ({"max_generations": True}, "max_generations"),
        ({"avoid_duplicates": "yes"}, "avoid_duplicates"),
        ({"preset": "fast"}, "preset"),
    ],
)
def test_bad_parameters_raise_one_line_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match) as info:
        QNAS(ToyChain(), **kwargs)
    assert "\n" not in str(info.value)


def test_presets_and_overrides():
    assert QNAS.paper_defaults() == PAPER and QNAS.small_budget_defaults() == SMALL_BUDGET
    strategy = QNAS(ToyChain(), preset="small_budget", repetition=3)
    assert strategy.repetition == 3 and strategy.update_step == SMALL_BUDGET["update_step"]
    other = QNAS(ToyChain(), population=7)
    with pytest.raises(ConfigError, match="population"):
        other.load_state_dict(QNAS(ToyChain()).state_dict())
