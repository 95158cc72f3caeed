"""Device spellings are checked where the config is read and resolved where trials run."""

from __future__ import annotations

import os
import pickle

import pytest

from nasforge.errors import ConfigError
from nasforge.training.devices import check_device, pinned_gpus, resolve_device, visible_gpus


@pytest.mark.parametrize("spec", ["auto", "cpu", "cuda", "cuda:0", "cuda:12", "mps"])
def test_every_spelling_is_accepted(spec):
    assert check_device(spec) == spec


@pytest.mark.parametrize("spec", ["gpu", "CUDA", "cuda:", "cuda:-1", "cuda:x", "", None, 0, "cpu "])
def test_bad_spellings_name_what_is_allowed(spec):
    with pytest.raises(ConfigError, match=r"auto, cpu, cuda, cuda:N .* or mps, got"):
        check_device(spec)


def test_resolution_on_this_machine():
    import torch

    has_cuda = torch.cuda.is_available()
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda:0" if has_cuda else resolve_device("auto"))
    if not has_cuda:
        assert resolve_device("auto") in ("cpu", "mps")
        with pytest.raises(ConfigError, match="no CUDA device visible"):
            resolve_device("cuda")
        with pytest.raises(ConfigError, match="'cuda:3' was asked for"):
            resolve_device("cuda:3")


def test_pool_workers_are_pinned_one_gpu_each_round_robin():
    assert pinned_gpus(3, []) == [None, None, None]
    assert pinned_gpus(2, ["0"]) == [None, None]  # one GPU: every worker shares it, no pinning
    assert pinned_gpus(3, ["2", "5"]) == ["2", "5", "2"]


def test_visible_gpus_follow_cuda_visible_devices(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1, 3")
    assert visible_gpus() == ["1", "3"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert visible_gpus() == []


def test_local_pool_gives_each_worker_its_gpu_through_the_environment(monkeypatch):
    from nasforge.study.pool import LocalPoolExecutor
    from tests.helpers.evaluators import EnvEvaluator

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,7")
    executor = LocalPoolExecutor(workers=2)
    executor.start(EnvEvaluator())
    try:
        assert executor.gpu_of_worker == ["4", "7"]
        from nasforge.architecture import Architecture
        from nasforge.study.executors import Task

        for n in range(2):
            executor.submit(Task(n, Architecture("toy", "x", ()), None, 0))
        outcomes = []
        while len(outcomes) < 2:
            outcomes += executor.wait(timeout=60)
        seen = sorted(o.metrics["cuda_visible"] for o in outcomes)
    finally:
        executor.shutdown()
    assert seen == ["4", "7"] and os.environ["CUDA_VISIBLE_DEVICES"] == "4,7"


def test_trainer_checks_the_spelling_up_front_and_resolves_in_workers():
    from nasforge.evaluators.trainer import TrainerEvaluator
    from nasforge.spaces.chain import ChainSpace

    space = ChainSpace(max_nodes=2, filters=(8,), kernels=(3,))
    with pytest.raises(ConfigError, match="parameter device"):
        TrainerEvaluator(space, device="gpu0")
    evaluator = TrainerEvaluator(space, device="auto")
    assert evaluator.resolved_device() in ("cpu", "mps", "cuda:0")
    assert pickle.loads(pickle.dumps(evaluator))._resolved is None  # a worker resolves for itself
