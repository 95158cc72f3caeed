"""Architecture reduction: space and analytic costs, distillation fitness, strategies, pruning
baselines, the pipeline from Python and the CLI (with a user factory), and the plain-torch export."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from nasforge.cli.app import main
from nasforge.errors import ArchitectureError, ConfigError
from nasforge.evaluators.reduction import ReductionEvaluator
from nasforge.objectives import Objective
from nasforge.reduction.pipeline import format_report, run_reduction
from nasforge.reduction.pruning import BNSparsity, prune_to_params
from nasforge.spaces.reduction import ReductionSpace
from nasforge.strategies.greedy_shrink import GreedyShrink
from nasforge.strategies.reinforce import Reinforce
from nasforge.testing.conformance import check_space, check_strategy, run_strategy
from nasforge.training.measure import count_flops, count_params

DIGITS = (1, 8, 8)
TRAIN = {"max_train": 300, "batch_size": 32, "latency_repeats": 2}


# --- a user's own CNN, built from stage widths and depths (importable as tests.test_reduction:small_cnn)


class _Block(nn.Module):
    def __init__(self, c_in: int, inner: int, c_out: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c_in, inner, 3, padding=1), nn.ReLU(), nn.Conv2d(inner, c_out, 3, padding=1))
        self.skip = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


def small_cnn(stage_widths, stage_depths, inner_widths, input_shape, num_classes) -> nn.Module:
    """Stages of residual blocks separated by 2x2 max pooling, then a linear head."""
    layers, c_in = [], input_shape[0]
    for s, (width, depth, inner) in enumerate(zip(stage_widths, stage_depths, inner_widths)):
        if s:
            layers.append(nn.MaxPool2d(2))
        for _ in range(depth):
            layers.append(_Block(c_in, inner, width))
            c_in = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes))


FACTORY = {"factory": "tests.test_reduction:small_cnn", "stage_widths": [8, 16], "stage_depths": [2, 1],
           "input_shape": list(DIGITS), "multipliers": [0.5, 1.0]}


# --- space -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("base,shape", [("resnet20", (1, 40)), ("resnet32", (3, 16, 16)), ("wrn16_2", DIGITS),
                                        ("wrn28_1", (2, 24))])
def test_analytic_costs_equal_the_built_network(base, shape) -> None:
    space = ReductionSpace(base=base, input_shape=shape)
    rng = np.random.default_rng(0)
    for arch in [space.base()] + [space.sample(rng) for _ in range(3)]:
        model, cost = space.build(arch), space.cost(arch)
        assert count_params(model) == pytest.approx(cost["params_m"], abs=1e-12)
        assert count_flops(model, shape) == pytest.approx(cost["flops_m"], abs=1e-9)
    assert space.base().string == "/".join([f"d{space.base_network.depths[0]},w1,u1"] * 3)


def test_space_conformance_budget_and_bad_input() -> None:
    check_space(ReductionSpace(base="resnet20", input_shape=(1, 40)))
    budget = ReductionSpace(base="resnet20", input_shape=(1, 40), max_params_m=0.02)
    check_space(budget)
    rng = np.random.default_rng(1)
    assert all(budget.cost(budget.sample(rng))["params_m"] <= 0.02 for _ in range(30))
    budget.validate(budget.base())  # the base is the reference, never rejected
    with pytest.raises(ArchitectureError, match="over the budget"):
        budget.from_string("d3,w1,u1/d3,w1,u1/d3,w0.75,u1")
    with pytest.raises(ArchitectureError, match="not allowed"):
        budget.from_string("d3,w1,u1/d3,w1,u1/d3,w0.3,u1")
    with pytest.raises(ArchitectureError, match="stages"):
        budget.from_string("d3,w1,u1")
    with pytest.raises(ConfigError, match="unknown base network 'resnet21'"):
        ReductionSpace(base="resnet21")
    with pytest.raises(ConfigError, match="multipliers"):
        ReductionSpace(multipliers=[0.5, 0.75])
    with pytest.raises(ConfigError, match="stage_widths and stage_depths"):
        ReductionSpace(factory="tests.test_reduction:small_cnn")


def test_user_factory_space_counts_on_the_meta_device() -> None:
    space = ReductionSpace(**FACTORY)
    check_space(space, n=6)
    arch = space.from_string("d1,w0.5,u1/d1,w1,u0.5")
    model = space.build(arch)
    assert count_params(model) == pytest.approx(space.cost(arch)["params_m"])
    assert count_flops(model, DIGITS) == pytest.approx(space.cost(arch)["flops_m"])
    assert space.cost(arch)["params_m"] < space.base_params_m


# --- fitness ---------------------------------------------------------------------------------------


def test_distillation_fitness_trains_for_real_and_rewards_compression() -> None:
    space = ReductionSpace(base="resnet8", input_shape=DIGITS, multipliers=[0.25, 0.5, 1.0])
    plain = ReductionEvaluator(space, dataset="digits", epochs=2, teacher_epochs=3, **TRAIN)
    distilled = ReductionEvaluator(space, dataset="digits", epochs=2, teacher_epochs=3, distill=True, **TRAIN)
    small = space.from_string("d1,w0.5,u0.25/d1,w0.5,u0.5/d1,w0.5,u0.5")
    a = distilled.evaluate(small, 2, seed=1)
    again = distilled.evaluate(small, 2, seed=1)  # deterministic, teacher included (timings aside)
    assert [a[k] for k in ("valid_accuracy", "valid_loss", "test_accuracy")] == [
        again[k] for k in ("valid_accuracy", "valid_loss", "test_accuracy")]
    b = plain.evaluate(small, 2, seed=1)
    assert a["valid_loss"] != b["valid_loss"]  # logit MSE, not cross-entropy
    ref = distilled.reference()
    assert ref.valid_accuracy > 50
    c = 1 - a["params_m"] / ref.params_m
    assert a["params_m"] == pytest.approx(space.cost(small)["params_m"])
    assert a["n2n_reward"] == pytest.approx(a["valid_accuracy"] / ref.valid_accuracy * c * (2 - c))
    with pytest.raises(ConfigError, match="inputs"):
        ReductionEvaluator(ReductionSpace(base="resnet8", input_shape=(1, 40)), dataset="digits").prepare()


# --- strategies ------------------------------------------------------------------------------------

SPACE = ReductionSpace(base="resnet20", input_shape=(1, 40))


def _accuracy(arch) -> float:
    """A smooth stand-in: accuracy saturates with parameters (90 % + up to 10 points)."""
    return 90 + 10 * (1 - math.exp(-SPACE.cost(arch)["params_m"] / 0.01))


def test_greedy_shrink_conformance_and_stopping_rule() -> None:
    check_strategy(lambda seed: GreedyShrink(SPACE, seed=seed), SPACE, lambda a: [_accuracy(a)])
    greedy = GreedyShrink(SPACE, tolerance=0.5)
    run_strategy(greedy, lambda a: [_accuracy(a)], 1000, batch=4)
    assert greedy.finished and greedy.path[0] == SPACE.base().string
    last = SPACE.from_string(greedy.path[-1])
    assert _accuracy(last) >= _accuracy(SPACE.base()) - 0.5
    assert SPACE.cost(last)["params_m"] < 0.5 * SPACE.base_params_m
    costs = [SPACE.cost(SPACE.from_string(s))["params_m"] for s in greedy.path]
    assert costs == sorted(costs, reverse=True)


def test_reinforce_conformance_and_learning() -> None:
    objectives = [Objective("n2n_reward", "max")]
    check_strategy(lambda seed: Reinforce(SPACE, seed=seed, objectives=objectives), SPACE,
                   lambda a: [float(a.genes[1])])
    # reward: the width gene of stage 0 at its smallest choice; the policy must learn to prefer it
    policy = Reinforce(SPACE, seed=0, objectives=objectives, lr=1.0)
    before = policy.probabilities()[1][0]
    run_strategy(policy, lambda a: [1.0 if a.genes[1] == 0 else 0.0], 120)
    assert policy.probabilities()[1][0] > 3 * before


def test_generic_evolution_runs_on_the_reduction_genes() -> None:
    from nasforge.strategies.evolution import RegularizedEvolution
    from nasforge.strategies.nsga2 import NSGA2

    two = [Objective("valid_accuracy", "max"), Objective("params_m", "min")]
    budget = ReductionSpace(base="resnet20", input_shape=(1, 40), max_params_m=0.05)
    values = lambda a: [_accuracy(a), budget.cost(a)["params_m"]]  # noqa: E731
    check_strategy(lambda seed: NSGA2(budget, seed=seed, objectives=two, population_size=6), budget, values)
    check_strategy(lambda seed: RegularizedEvolution(budget, seed=seed, objectives=two, population=6), budget, values)


# --- pruning baselines ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["l1", "slimming"])
def test_pruning_removes_channels_physically(method) -> None:
    space = ReductionSpace(base="resnet8", input_shape=(1, 40))
    model = space.build(space.base())
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.weight.copy_(torch.linspace(0.1, 1.0, m.weight.numel()))
    target = 0.4 * space.base_params_m
    pruned, ratio = prune_to_params(model, (1, 40), target, method)
    assert 0 < ratio < 1 and 0.2 * space.base_params_m < count_params(pruned) <= target
    assert pruned(torch.zeros(3, 1, 40)).shape == (3, 10)
    assert count_params(model) == pytest.approx(space.base_params_m)  # the original is untouched
    task = BNSparsity(model, 1e-2)
    with torch.no_grad():
        out, y = model(torch.zeros(4, 1, 40)), torch.zeros(4, dtype=torch.long)
        assert float(task.loss(out, y)) > float(nn.functional.cross_entropy(out, y))


# --- pipeline, CLI, export -----------------------------------------------------------------------


def test_pipeline_on_a_user_factory_exports_plain_torch(tmp_path) -> None:
    config = {"storage": str(tmp_path / "r.db"), "dataset": "digits", "space_options": FACTORY,
              "evaluator_options": TRAIN, "base_epochs": 2, "seeds": [0, 1],
              "search": {"strategy": "greedy_shrink", "fidelity": 1, "trials": 5},
              "baselines": ["l1"], "export": str(tmp_path / "out"), "output": str(tmp_path / "r.json")}
    report = run_reduction(config)
    assert report["cost"]["search_trials"] == 5 and report["front"]
    assert report["reduced"]["params_m"] <= report["base"]["params_m"]
    assert len(report["reduced"]["test_accuracy"]["values"]) == 2
    assert report["baselines"]["l1"]["params_m"] <= report["reduced"]["params_m"]
    assert json.loads((tmp_path / "r.json").read_text())["name"] == report["name"]
    assert "params removed" in format_report(report)
    program = torch.export.load(str(tmp_path / "out" / "model.pt2")).module()
    description = json.loads((tmp_path / "out" / "architecture.json").read_text())
    assert description["arch"] == report["reduced"]["arch"]
    assert program(torch.zeros(5, *DIGITS)).shape == (5, 10)
    # a second run reuses the trained bases and the finished study
    again = run_reduction(config)
    assert again["base"] == report["base"] and again["reduced"]["arch"] == report["reduced"]["arch"]


def test_cli_reduce_and_bad_config(tmp_path, capsys) -> None:
    config = tmp_path / "reduce.yaml"
    config.write_text(json.dumps({
        "storage": str(tmp_path / "c.db"), "dataset": "digits", "evaluator_options": TRAIN,
        "space_options": {"base": "resnet8", "input_shape": list(DIGITS), "multipliers": [0.5, 1.0], "inner": False},
        "base_epochs": 1, "search": {"strategy": "reinforce", "fidelity": 1, "trials": 3, "distill": False},
    }))
    assert main(["reduce", "--config", str(config), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["objectives"] == ["n2n_reward:max"] and report["cost"]["search_trials"] == 3
    assert main(["reduce", "--config", str(config), "--strategy", "nope"]) == 2
    assert "unknown strategy 'nope'" in capsys.readouterr().err
    config.write_text(json.dumps({"space_options": {"base": "vgg16"}}))
    assert main(["reduce", "--config", str(config)]) == 2
    assert "unknown base network 'vgg16'" in capsys.readouterr().err
    assert not (tmp_path / "c.db.artifacts" / "x").exists()
