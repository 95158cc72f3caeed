"""Defaults that win at 100-300 evaluations: Q-NAS's small-budget preset, random search's dedupe rule."""

from __future__ import annotations

from nasforge.objectives import Objective
from nasforge.spaces.nb201 import NB201Space
from nasforge.strategies.qnas import PAPER, QNAS, SMALL_BUDGET
from nasforge.strategies.random import RandomSearch

SPACE = NB201Space()


def test_random_search_dedupes_by_identity_only_for_functional_objectives():
    accuracy = RandomSearch(SPACE, objectives=[Objective("valid_accuracy", "max")])
    front = RandomSearch(SPACE, objectives=[Objective("valid_accuracy", "max"), Objective("edgegpu_latency", "min")])
    assert accuracy.dedupe == "identity" and front.dedupe == "string"
    assert RandomSearch(SPACE, objectives=[Objective("valid_accuracy")], dedupe="none").dedupe == "none"


def test_random_search_with_a_hardware_objective_may_ask_isomorphic_cells_but_never_the_same_cell():
    front = RandomSearch(SPACE, seed=0, objectives=[Objective("valid_accuracy"), Objective("params", "min")])
    asked = [a for _ in range(300) for a in front.ask(1)]
    assert len({a.string for a in asked}) == 300
    assert len({SPACE.identity(a) for a in asked}) < 300  # isomorphic cells differ in params: kept


def test_qnas_defaults_to_the_small_budget_preset_and_keeps_the_paper_one_by_name():
    assert QNAS(SPACE).preset == "small_budget"
    assert QNAS(SPACE).population == SMALL_BUDGET["population"]
    assert QNAS(SPACE, preset="paper").population == PAPER["population"]
