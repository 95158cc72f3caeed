"""The continual evaluator on a real digits stream: PST vs fine-tuning, AL, the CLI and report."""

from __future__ import annotations

import pytest

from nasforge.cli.app import main
from nasforge.errors import ConfigError
from nasforge.evaluators.continual import ContinualEvaluator
from nasforge.spaces.chain import ChainSpace
from nasforge.study.context import TrialContext

ARCH = "conv_3_16>max_pool>conv_3_32>max_pool|lr=0.05,mom=0.9,wd=0.0005,opt=sgd"
FAST = dict(epochs=5, edge_epochs=10, edge_lr=0.02, division="5,1,1,1,1,1")


@pytest.fixture(scope="module")
def space():
    return ChainSpace()


def test_pst_forgets_far_less_than_finetuning(space):
    arch = space.from_string(ARCH)
    results = {}
    for method in ("finetune", "pst"):
        context = TrialContext()
        results[method] = ContinualEvaluator(space, method=method, **FAST).evaluate(arch, None, 0, context)
        # per-epoch curves across the stream plus one summary row per task
        summaries = [m for _, m in context.reports if "valid_seen_accuracy" in m]
        assert [m["task"] for m in summaries] == list(range(6))
        steps = [s for s, _ in context.reports]
        assert steps == sorted(set(steps))
    ft, pst = results["finetune"], results["pst"]
    assert ft["forgetting"] > 60  # fine-tuning on one new class at a time wipes the old ones
    assert pst["forgetting"] * 5 < ft["forgetting"]
    assert pst["avg_incremental_accuracy"] > ft["avg_incremental_accuracy"] + 20
    for m in (ft, pst):
        assert m["valid_accuracy"] == m["valid_final_accuracy"] == m["valid_incremental_accuracy_5"]
        assert m["incremental_accuracy_0"] > 90
        assert 0 < m["edge_train_flops_m"] < m["train_flops_m"]
        assert 0 < m["noisy_accuracy"] <= 100 and m["stability_fitness"] > 0


def test_task0_mode_al_and_penalties(space):
    arch = space.from_string(ARCH)
    search = ContinualEvaluator(space, tasks=1, epochs=3, noise_draws=2).evaluate(arch, None, 1)
    assert search["forgetting"] == 0 and search["valid_accuracy"] == search["task0_accuracy"]
    assert search["stability_fitness"] == pytest.approx(
        (search["task0_accuracy"] / 100) ** 2 / abs(search["noise_drop"] / 100 + 1e-5))
    tiny_budget = ContinualEvaluator(space, tasks=1, epochs=3, max_params_m=1e-4).evaluate(arch, None, 1)
    assert tiny_budget["stability_fitness"] == 1e-4  # over the parameter budget
    al = ContinualEvaluator(space, method="al", candidates=2, tasks=2, epochs=3, edge_epochs=2, al_criterion="roughness",
                            noise_draws=2, roughness_points=3).evaluate(arch, None, 1)
    assert al["al_candidate"] in (0, 1) and al["roughness"] >= 0
    assert al["train_flops_m"] > al["edge_train_flops_m"] * 2  # two candidates learnt task 0


@pytest.mark.parametrize("option, value, message", [
    ("method", "ewc", "method of ContinualEvaluator must be one of finetune, replay, pst, joint, al"),
    ("division", "5,x", "task division"),
    ("tasks", 7, "tasks of ContinualEvaluator must be <= 6"),
    ("score", "taylor", "score of ContinualEvaluator must be one of abs_w"),
    ("noise_alpha", -1, "noise_alpha of ContinualEvaluator must be a finite number > 0"),
])
def test_bad_options_name_the_value(space, option, value, message):
    with pytest.raises(ConfigError, match=message):
        ContinualEvaluator(space, **{option: value})


def test_cli_runs_a_stream_and_report_shows_the_task_table(tmp_path, capsys):
    db = tmp_path / "c.db"
    code = main(["search", "--config", "examples/continual_digits.yaml", "--storage", str(db),
                 "-o", "evaluator.epochs=3", "-o", "evaluator.edge_epochs=2"])
    assert code == 0
    capsys.readouterr()
    assert main(["report", "--storage", str(db)]) == 0
    out = capsys.readouterr().out
    assert "per task" in out and "test_seen_accuracy" in out
    assert main(["search", "--config", "examples/continual_digits.yaml", "--storage", str(tmp_path / "d.db"),
                 "-o", "evaluator.method=ewc"]) == 2
    assert "must be one of finetune" in capsys.readouterr().err
