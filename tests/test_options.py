"""Declared option constraints: one validator, one message, for every kind of component."""

from __future__ import annotations

import numpy as np
import pytest

from nasforge.errors import ConfigError
from nasforge.objectives import Objective
from nasforge.options import (
    AnyOf,
    Bool,
    Choice,
    Float,
    Int,
    Map,
    Seq,
    Str,
    describe_options,
    init_options,
    validated,
)
from nasforge.spaces.nb201 import NB201Space
from nasforge.strategies.base import Strategy
from nasforge.strategies.evolution import RegularizedEvolution
from nasforge.strategies.nsga2 import NSGA2
from nasforge.strategies.random import RandomSearch

TWO = [Objective("valid_accuracy", "max"), Objective("params_m", "min")]


@pytest.mark.parametrize(
    "constraint, value, wording",
    [
        (Int(low=1), 0, "an integer >= 1"),
        (Int(low=1), 2.0, "an integer >= 1"),
        (Int(low=1), True, "an integer >= 1"),
        (Int(low=1, high=3), 4, "an integer in [1, 3]"),
        (Float(low=0, high=1), 1.5, "a number in [0, 1]"),
        (Float(low=0, low_open=True), 0, "a number > 0"),
        (Float(low=0), float("nan"), "a number >= 0"),
        (Float(), "1", "a number"),
        (Bool(), "yes", "true or false"),
        (Choice("a", "b"), "c", "one of a, b"),
        (Choice("a", "b"), ["a"], "one of a, b"),
        (Str(), "", "a non-empty string"),
        (Map(), [1], "a mapping"),
        (Seq(Int(low=0), min_len=1), [], "a non-empty list whose items are each an integer >= 0"),
        (Seq(Int(low=0)), [1, -1], "a list whose items are each an integer >= 0"),
        (Seq(Str(), min_len=2), ["a"], "a list of 2+ items whose items are each a non-empty string"),
        (Seq(), "abc", "a list"),
        (AnyOf(Bool(), Choice("x")), "y", "true or false or one of x"),
        (Int(low=1, none=True), 0, "an integer >= 1 or None"),
    ],
)
def test_every_constraint_gives_the_same_one_line_message(constraint, value, wording):
    with pytest.raises(ConfigError) as info:
        constraint.check("Owner", "p", value)
    assert str(info.value) == f"parameter p of Owner must be {wording}, got {value!r}"


def test_accepted_values_are_normalised():
    assert type(Int(low=0).check("O", "n", np.int64(3))) is int
    assert type(Float().check("O", "x", 2)) is float and Float().check("O", "x", np.float32(0.5)) == 0.5
    assert Seq(Int()).check("O", "s", (1, np.int32(2))) == [1, 2]
    assert Map().check("O", "m", {"a": 1}) == {"a": 1}
    assert Int(none=True).check("O", "n", None) is None
    assert AnyOf(Bool(), Choice("x")).check("O", "v", True) is True


class _Base:
    options = {"size": Int(low=1)}

    @validated
    def __init__(self, size=2, mode="a"):
        self.size, self.mode = size, mode


class _Child(_Base):
    options = {"mode": Choice("a", "b")}

    @validated
    def __init__(self, size=2, mode="a", extra=None):
        super().__init__(size, mode)


def test_validated_checks_declared_options_of_the_class_and_its_bases():
    child = _Child(size=np.int64(5), mode="b")
    assert child.size == 5 and type(child.size) is int
    with pytest.raises(ConfigError, match="parameter size of _Child must be an integer >= 1, got 0"):
        _Child(size=0)
    with pytest.raises(ConfigError, match="parameter mode of _Child must be one of a, b, got 'c'"):
        _Child(mode="c")
    with pytest.raises(ConfigError, match="_Child: got an unexpected keyword argument 'colour'"):
        _Child(colour=1)
    rows = describe_options(_Child, skip=("self",))
    assert rows == [("size", "2", "an integer >= 1"), ("mode", "'a'", "one of a, b"), ("extra", "None", "")]


def test_components_record_their_constructor_options_for_the_store():
    space = NB201Space()
    strategy = NSGA2(space, seed=3, objectives=TWO, population_size=np.int64(6), dedupe="identity")
    options = init_options(strategy)
    assert options["population_size"] == 6 and options["dedupe"] == "identity"
    assert "seed" not in options and "space" not in options and "objectives" not in options
    assert init_options(space) == {}
    # a non-JSON option (a callable) cannot be stored: None, the study is then Python-only
    from nasforge.evaluators.trainer import TrainerEvaluator
    from nasforge.spaces.chain import ChainSpace

    trainer = TrainerEvaluator(ChainSpace(), epochs=1, model_factory=_factory)
    assert init_options(trainer) is None


def _factory(space, arch, input_shape, num_classes):  # pragma: no cover - never called
    raise AssertionError


def test_strategy_ask_and_tell_are_validated_once_for_every_strategy():
    space = NB201Space()
    strategy = RandomSearch(space, seed=0, objectives=TWO)
    for bad in (0, -2, 1.5, "3", True):
        with pytest.raises(ConfigError, match=r"parameter n of RandomSearch.ask must be an integer >= 1"):
            strategy.ask(bad)
    (arch,) = strategy.ask(np.int64(1))
    with pytest.raises(ConfigError, match=r"RandomSearch.tell needs 2 objective value\(s\) "
                                          r"\(valid_accuracy:max, params_m:min\), got 1: \[90.0\]"):
        strategy.tell(arch, [90.0])
    with pytest.raises(ConfigError, match="needs a list of 2 objective value"):
        strategy.tell(arch, 90.0)
    strategy.tell(arch, None)  # a failed trial
    strategy.tell(arch, (np.float32(90.0), 1))

    evolution = RegularizedEvolution(space, seed=0, population=3, sample_size=2)
    with pytest.raises(ConfigError, match="tell needs 1 objective value"):
        evolution.tell(evolution.ask(1)[0], [1.0, 2.0])
    with pytest.raises(ConfigError, match="parameter seed of RegularizedEvolution must be an integer >= 0"):
        RegularizedEvolution(space, seed=-1)


def test_a_strategy_overriding_ask_or_tell_is_refused_at_class_definition():
    with pytest.raises(TypeError, match="overrides Strategy.ask; implement _ask instead"):
        class Eager(RandomSearch):  # noqa: F841 - defining it is the test
            def ask(self, n=1):
                return []
    with pytest.raises(TypeError, match="overrides Strategy.tell; implement _tell instead"):
        class Loud(Strategy):  # noqa: F841
            def tell(self, arch, values):
                pass
