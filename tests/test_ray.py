"""RayExecutor on a real local Ray cluster (a few seconds to start; kept to two tests)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from conftest import needs_data

from nasforge.architecture import Architecture
from nasforge.errors import ConfigError
from nasforge.evaluators.base import Evaluator
from nasforge.study.executors import Task

ray = pytest.importorskip("ray")

from nasforge.study.ray_executor import RayExecutor  # noqa: E402


class AttemptCountingEvaluator(Evaluator):
    """Logs every attempt to a file; 'kill' kills its own worker, 'raise' raises."""

    def __init__(self, log: str) -> None:
        self.log = log

    def evaluate(self, arch, fidelity, seed, context=None):
        with open(self.log, "a") as fh:
            fh.write(f"{arch.string}\n")
        if arch.string == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if arch.string == "raise":
            raise RuntimeError("diverged")
        return {"valid_accuracy": float(len(arch.string)), "pid": os.getpid()}


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One local Ray session for the module, started the way RayExecutor starts its own."""
    RayExecutor(workers=2)._init(ray)
    yield
    ray.shutdown()


def test_ray_runs_trials_retries_a_lost_worker_once_then_fails_it(tmp_path: Path):
    log = tmp_path / "attempts.txt"
    executor = RayExecutor(workers=2, cpus_per_trial=1)
    try:
        executor.start(AttemptCountingEvaluator(str(log)))
        texts = ["a", "kill", "raise", "bb", "ccc"]
        for i, text in enumerate(texts):
            executor.submit(Task(i, Architecture("toy", text, ()), None, i))
        outcomes = {}
        deadline = time.monotonic() + 90
        while len(outcomes) < len(texts) and time.monotonic() < deadline:
            outcomes.update({o.number: o for o in executor.wait(timeout=5)})
    finally:
        executor.shutdown()
    assert ray.is_initialized()  # a session the executor did not start is left running
    assert sorted(outcomes) == list(range(len(texts)))
    for number in (0, 3, 4):
        assert outcomes[number].metrics["valid_accuracy"] == len(texts[number])
    assert outcomes[2].error == "RuntimeError: diverged"  # evaluator errors are not retried
    assert outcomes[1].metrics is None and "worker died" in outcomes[1].error.lower()
    attempts = log.read_text().split()
    assert attempts.count("kill") == 2 and attempts.count("raise") == 1


@needs_data
def test_batch_synchronous_ray_study_matches_the_serial_study(data_dir):
    from nasforge.evaluators.tabular import NB201Tabular
    from nasforge.spaces.nb201 import NB201Space
    from nasforge.strategies.random import RandomSearch
    from nasforge.study import create_study

    def run(executor):
        space = NB201Space()
        study = create_study(
            name="eq", space=space, strategy=RandomSearch(space, seed=7),
            evaluator=NB201Tabular(space, dataset="cifar100", data_dir=str(data_dir),
                                   hardware=False),
            objectives=["valid_accuracy:max"], seed=7, executor=executor,
        )
        study.optimize(n_trials=8)
        return [(t.number, t.arch, t.seed, t.state.value, t.values) for t in study.trials]

    serial = run(None)
    batched = run(RayExecutor(workers=2, sync=True))
    assert batched == serial
    assert len({row[1] for row in serial}) == 8


def test_a_gpu_request_the_cluster_cannot_meet_fails_at_start(tmp_path):
    executor = RayExecutor(workers=1, gpus_per_trial=1)
    message = "each trial asks for 1 GPU\\(s\\) but the Ray cluster has 0"
    with pytest.raises(ConfigError, match=message):
        executor.start(AttemptCountingEvaluator(str(tmp_path / "log")))
    assert ray.is_initialized()  # not ours to stop


def test_bad_ray_options_are_rejected_before_ray_starts():
    message = "parameter gpus_per_trial of RayExecutor must be a number >= 0, got -1"
    with pytest.raises(ConfigError, match=message):
        RayExecutor(workers=2, gpus_per_trial=-1)
    with pytest.raises(ConfigError, match="parameter address of RayExecutor"):
        RayExecutor(address="")
