"""ENAS-S: the block space and its networks, the GA's operators and state, a killed search resumed."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from nasforge.cli.app import main
from nasforge.errors import ArchitectureError, ConfigError
from nasforge.models import build_model
from nasforge.objectives import Objective
from nasforge.spaces.enas_s import ENASSSpace
from nasforge.strategies.enas_s import ENASS
from nasforge.study.api import load_study
from nasforge.testing.conformance import check_space, check_strategy
from tests.helpers.kill import kill_after_first_trial, nasforge

ROOT = Path(__file__).resolve().parents[1]


def test_space_conformance_strings_and_networks():
    space = ENASSSpace()
    check_space(space)
    arch = space.from_string("mb_16,res_32,id>max>res_32,res_32,dense_16>fr_64>id,mb_64,mb_32")
    assert arch.string == "mb_16,res_32,id>max>res_32,res_32,dense_16>fr_64>id,mb_64,mb_32"
    for bad in ("mb_16,res_32>max>a,b,c>max>id,id,id", "mb_16,res_32,id>max>id,id,id>id,id,id",
                "mb_24,id,id>max>id,id,id>max>id,id,id", "id_8,id,id>max>id,id,id>max>id,id,id"):
        with pytest.raises(ArchitectureError):
            space.from_string(bad)
    with pytest.raises(ConfigError, match="widths of ENASSSpace"):
        ENASSSpace(widths=[8, 8])
    # ENAS-S initialisation repeats module 0 in every module
    sample = space.sample(np.random.default_rng(0)).string.split(">")
    assert sample[0] == sample[2] == sample[4]
    for shape in ((1, 8, 8), (1, 40)):
        net = build_model(space, arch, shape, 10, seed=0)
        assert net(torch.zeros(2, *shape)).shape == (2, 10)


def test_strategy_conformance_and_generations():
    space = ENASSSpace(blocks=1, widths=(8, 16))
    check_strategy(lambda seed: ENASS(space, seed=seed, population=5, generations=4), space,
                   lambda arch: [float(len(arch.string) % 5)])
    strategy = ENASS(space, seed=0, population=4, generations=2)
    first = strategy.ask(3)
    assert len(first) == 3 and len(strategy.ask(3)) == 1 and strategy.ask(2) == []  # waits for results
    with pytest.raises(ConfigError, match="crossover_rate of ENASS"):
        ENASS(space, crossover_rate=1.5)


def test_roulette_prefers_fit_individuals_and_skips_failures():
    space = ENASSSpace(blocks=1, widths=(8, 16))
    strategy = ENASS(space, seed=1, population=6, generations=2, crossover_rate=0.0, mutation_rate=0.0,
                     objectives=[Objective("stability_fitness", "max")])
    members = strategy.ask(6)
    fitness = [0.0, 0.0, 0.0, 100.0, 0.0, None]  # one fit individual, one failure
    for arch, value in zip(members, fitness):
        strategy.tell(arch, None if value is None else [value])
    children = strategy.ask(6)
    assert strategy.generation == 1
    assert {c.string for c in children} == {members[3].string}  # no crossover / mutation: copies


CONFIG = """
name: enas
space: enas_s
space_options: {blocks: 1, widths: [8, 16]}
strategy: enas_s
strategy_options: {population: 3, generations: 2, crossover_rate: 0.8, mutation_rate: 0.3}
evaluator: continual
dataset: digits
evaluator_options: {tasks: 1, epochs: 2, noise_draws: 1, max_train: 300}
objectives: [stability_fitness:max]
trials: 6
seed: 4
"""


def test_killed_enas_s_search_resumes_exactly(tmp_path):
    config = tmp_path / "enas.yaml"
    config.write_text(CONFIG)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}

    def trials(db):
        return [(t.number, t.arch, t.values, t.state) for t in load_study("enas", str(db)).trials]

    reference = tmp_path / "ref.db"
    assert main(["search", "--config", str(config), "--storage", str(reference)]) == 0  # in process
    assert len(trials(reference)) == 6
    assert len({t[2][0] for t in trials(reference)}) > 1  # real, differing fitness values
    crashed = kill_after_first_trial(nasforge("search", "--config", str(config), "--storage", "{db}"),
                                     lambda i: tmp_path / f"crash{i}.db", 6, env, attempts=3)
    assert main(["resume", "enas", "--storage", str(crashed)]) == 0
    assert trials(crashed) == trials(reference)


def test_fixed_list_strategy_asks_each_architecture_once():
    from nasforge.errors import ArchitectureError
    from nasforge.strategies.fixed_list import FixedList

    space = ENASSSpace(blocks=1, widths=(8, 16))
    archs = list(dict.fromkeys(space.sample(np.random.default_rng(i)).string for i in range(12)))
    check_strategy(lambda seed: FixedList(space, seed=seed, architectures=archs), space, lambda arch: [1.0])
    strategy = FixedList(space, architectures=archs[:2])
    assert [a.string for a in strategy.ask(5)] == archs[:2] and strategy.finished
    with pytest.raises((ConfigError, ArchitectureError)):
        FixedList(space, architectures=["mb_8>max"])
