"""TrainerEvaluator: real PyTorch training on a digits subset with real chain / NB201 networks."""

from __future__ import annotations

import math
import pickle

import pytest
import torch

from nasforge.errors import ConfigError, TrialFailed
from nasforge.evaluators.trainer import METRICS, TrainerEvaluator
from nasforge.spaces.chain import ChainSpace

ARCH = "conv_3_8>max_pool>conv_3_16|lr=0.05,mom=0.9,wd=0.0005,opt=sgd"


@pytest.fixture(scope="module")
def space() -> ChainSpace:
    return ChainSpace(max_nodes=3, filters=(8, 16), kernels=(3,), lr=(1e-4, 1e9))


def _evaluator(space, **options) -> TrainerEvaluator:
    options = {"epochs": 2, "max_train": 300, "batch_size": 32, "latency_repeats": 3, **options}
    return TrainerEvaluator(space, **options)


def test_metrics_are_complete_in_percent_and_learning_happens(space) -> None:
    evaluator = _evaluator(space, epochs=4, max_train=400, batch_size=16)
    metrics = evaluator.evaluate(space.from_string(ARCH), None, seed=0)
    assert set(METRICS) <= set(metrics)
    for split in ("train", "valid", "test"):
        assert 0.0 <= metrics[f"{split}_accuracy"] <= 100.0
        assert math.isfinite(metrics[f"{split}_loss"])
    assert metrics["valid_accuracy"] > 50.0  # chance is 10 %: the network really trained
    assert metrics["valid_loss"] < math.log(10)
    assert metrics["epochs"] == 4 and 1 <= metrics["best_epoch"] <= 4
    expected_params = sum(p.numel() for p in evaluator.build(space.from_string(ARCH), (1, 8, 8), 10).parameters())
    assert metrics["params_m"] == pytest.approx(expected_params / 1e6)
    assert metrics["flops_m"] > 0 and metrics["latency_ms"] > 0 and metrics["train_time"] > 0
    assert 0 < metrics["boo_per_param"] < 8 and metrics["boo"] > metrics["params_m"] * 1e6 * 0.5


def test_same_seed_same_result_other_seed_differs_and_global_state_untouched(space) -> None:
    evaluator = _evaluator(space)
    arch = space.from_string(ARCH)
    torch.manual_seed(99)
    before = torch.get_rng_state()
    threads = torch.get_num_threads()
    a = evaluator.evaluate(arch, 1, seed=5)
    assert torch.equal(torch.get_rng_state(), before) and torch.get_num_threads() == threads
    b = pickle.loads(pickle.dumps(evaluator)).evaluate(arch, 1, seed=5)
    c = evaluator.evaluate(arch, 1, seed=6)
    for key in ("train_loss", "valid_loss", "test_loss", "valid_accuracy", "params_m", "flops_m"):
        assert a[key] == b[key], key
    assert a["train_loss"] != c["train_loss"]


def test_pickles_cheaply_without_data(space) -> None:
    evaluator = _evaluator(space)
    evaluator.evaluate(space.from_string(ARCH), 1, seed=0)
    blob = pickle.dumps(evaluator)
    assert len(blob) < 5000  # settings only; the dataset and tensors stay in the process


def test_fidelity_is_the_epoch_budget(space) -> None:
    evaluator = _evaluator(space, epochs=3)
    assert evaluator.default_fidelity() == 3
    assert evaluator.evaluate(space.from_string(ARCH), 1, seed=0)["epochs"] == 1
    with pytest.raises(ConfigError, match="epoch budget"):
        evaluator.evaluate(space.from_string(ARCH), 0, seed=0)


def test_architecture_training_genes_override_defaults(space) -> None:
    evaluator = _evaluator(space, lr=0.01, optimizer="adam")
    arch = space.from_string("conv_3_8|lr=0.0123,mom=0.5,wd=0.001,opt=rmsprop")
    assert evaluator.hparams(arch) == {"lr": 0.0123, "momentum": 0.5, "weight_decay": 0.001, "optimizer": "rmsprop"}
    plain = ChainSpace(max_nodes=3, filters=(8,), kernels=(3,), numeric_genes=False)
    defaults = TrainerEvaluator(plain, lr=0.01, optimizer="adam")
    # without training genes the evaluator's settings apply, unless the space pins some
    assert defaults.hparams(plain.from_string("conv_3_8"))["lr"] == 0.01
    assert defaults.hparams(plain.from_string("conv_3_8"))["optimizer"] == "adam"
    pinned = ChainSpace(max_nodes=3, filters=(8,), kernels=(3,), numeric_genes=False,
                        default_hparams={"lr": 0.2})  # fmt: skip
    pinned_eval = TrainerEvaluator(pinned, lr=0.01, optimizer="adam")
    assert pinned_eval.hparams(pinned.from_string("conv_3_8"))["lr"] == 0.2
    assert pinned_eval.hparams(pinned.from_string("conv_3_8"))["optimizer"] == "adam"


def test_diverging_learning_rate_fails_the_trial(space) -> None:
    evaluator = _evaluator(space)
    with pytest.raises(TrialFailed, match="loss became nan"):
        evaluator.evaluate(space.from_string("conv_3_8>max_pool>conv_3_16|lr=1e9,mom=0.9,wd=0.0005,opt=sgd"), 2, 0)


def test_early_stopping_keeps_the_best_validation_epoch(space) -> None:
    evaluator = _evaluator(space, epochs=40, patience=1, max_train=200)
    metrics = evaluator.evaluate(space.from_string("conv_3_8|lr=0.1,mom=0.9,wd=0.0005,opt=sgd"), None, 0)
    assert metrics["epochs"] < 40
    assert metrics["best_epoch"] == metrics["epochs"] - 1


def test_time_limit_fails_the_trial(space) -> None:
    evaluator = _evaluator(space, epochs=50, time_limit=0.05)
    with pytest.raises(TrialFailed, match="time limit"):
        evaluator.evaluate(space.from_string(ARCH), None, 0)


def _wrong_head(space, arch, input_shape, num_classes):
    """A real network whose head is too small for the labels: training raises inside torch."""
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 3))


def _tiny_mlp(space, arch, input_shape, num_classes, hidden=16):
    return torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(math.prod(input_shape), hidden), torch.nn.ReLU(),
        torch.nn.Linear(hidden, num_classes),
    )


class _Hungry(torch.nn.Module):
    """Asks the allocator for 4 PB in its forward pass: a real, immediate out-of-memory error."""

    def __init__(self) -> None:
        super().__init__()
        self.head = torch.nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x.new_empty(1 << 50)
        return self.head(x.flatten(1))


def test_out_of_memory_fails_the_trial(space) -> None:
    evaluator = _evaluator(space, model_factory=lambda *args: _Hungry())
    with pytest.raises(TrialFailed, match="out of memory"):
        evaluator.evaluate(space.from_string(ARCH), 1, 0)


def test_errors_inside_training_become_trial_failed(space) -> None:
    evaluator = _evaluator(space, model_factory=_wrong_head)
    with pytest.raises(TrialFailed, match="IndexError|RuntimeError"):
        evaluator.evaluate(space.from_string(ARCH), 1, 0)


def test_model_factory_and_options_on_mnist1d(space) -> None:
    evaluator = _evaluator(space, dataset="mnist1d", model_factory=_tiny_mlp, model_options={"hidden": 8},
                           optimizer="adam", lr=0.01, max_train=500)
    metrics = evaluator.evaluate(space.from_string(ARCH), 2, 0)
    assert metrics["params_m"] == pytest.approx((40 * 8 + 8 + 8 * 10 + 10) / 1e6)
    assert metrics["flops_m"] == pytest.approx((40 * 8 + 8 * 10) / 1e6)  # multiply-adds at batch 1


def test_nb201_networks_train_on_digits() -> None:
    from nasforge.spaces.nb201 import NB201Space

    nb201 = NB201Space()
    evaluator = TrainerEvaluator(nb201, epochs=1, max_train=128, model_options={"C": 4, "N": 1},
                                 latency_repeats=2)
    arch = nb201.from_string("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|")
    metrics = evaluator.evaluate(arch, None, 0)
    assert metrics["epochs"] == 1 and math.isfinite(metrics["valid_loss"])


@pytest.mark.parametrize(
    "options, message",
    [
        ({"epochs": 0}, "parameter epochs of TrainerEvaluator must be an integer >= 1, got 0"),
        ({"optimizer": "lbfgs"}, "parameter optimizer of TrainerEvaluator must be one of sgd, rmsprop, adam"),
        ({"lr": -1}, "parameter lr of TrainerEvaluator must be a number > 0"),
        ({"momentum": 1.0}, "parameter momentum of TrainerEvaluator must be a number in [0, 1)"),
        ({"patience": 0}, "parameter patience"),
        ({"dataset": "imagenet"}, "dataset must be one of"),
        ({"dataset": "missing.npz"}, "not found"),
        ({"model_factory": "nasforge.nothing:here"}, "cannot import module"),
    ],
)
def test_bad_options_fail_up_front_with_one_line(space, options, message) -> None:
    with pytest.raises(Exception) as info:
        TrainerEvaluator(space, **options)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_study_records_failed_trials_and_goes_on(space, tmp_path) -> None:
    from nasforge.strategies.random import RandomSearch
    from nasforge.study import create_study
    from nasforge.trial import TrialState

    evaluator = _evaluator(space, epochs=1, max_train=100)
    strategy = RandomSearch(space, seed=0, objectives=[__import__("nasforge").Objective("valid_accuracy", "max")])
    study = create_study(name="t", space=space, strategy=strategy, evaluator=evaluator,
                         storage=tmp_path / "s.db", seed=0)
    study.optimize(n_trials=3)
    states = [t.state for t in study.trials]
    # lr is sampled log-uniformly up to 1e9 here, so some trials diverge: FAILED with the reason
    assert len(states) == 3 and {TrialState.FAILED, TrialState.COMPLETE} <= set(states)
    for trial in study.trials:
        if trial.state == TrialState.FAILED:
            assert "TrialFailed" in trial.error and "loss" in trial.error
        else:
            assert trial.state == TrialState.COMPLETE and 0 <= trial.metrics["valid_accuracy"] <= 100
