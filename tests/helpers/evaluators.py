"""Real evaluators with real failure modes, for study-loop tests (importable by subprocesses)."""

from __future__ import annotations

import time

from nasforge.errors import TrialFailed
from nasforge.evaluators.tabular import NB201Tabular


class FlakyTabular(NB201Tabular):
    """NB201 table lookups that fail for archs containing 'none~0' edges in the first cell slot,
    return NaN for avg-pool-only first edges, and optionally take ``delay`` seconds each."""

    def __init__(self, space, dataset="cifar10", data_dir=None, delay: float = 0.0, **kw):
        super().__init__(space, dataset=dataset, data_dir=data_dir, **kw)
        self.delay = delay

    def evaluate(self, arch, fidelity, seed, context=None):
        if self.delay:
            time.sleep(self.delay)
        if arch.string.startswith("|none~0|"):
            raise TrialFailed("edge 1<-0 is 'none' (deliberate failure)")
        metrics = super().evaluate(arch, fidelity, seed)
        if arch.string.startswith("|avg_pool_3x3~0|+|none~0|"):
            metrics["valid_accuracy"] = float("nan")
        return metrics


class SleepyEvaluator:
    """Every trial hangs for ``seconds`` (a stuck data loader, a deadlocked kernel ...)."""

    name = "sleepy"
    space_name = "nb201"

    def __init__(self, seconds: float = 60.0) -> None:
        self.seconds = seconds

    def prepare(self) -> None:
        pass

    def metrics(self):
        return ()

    def fidelities(self):
        return None

    def default_fidelity(self):
        return None

    def describe(self):
        return {"evaluator": self.name}

    def evaluate(self, arch, fidelity, seed, context=None):
        time.sleep(self.seconds)
        return {"valid_accuracy": 1.0}


class EnvEvaluator(SleepyEvaluator):
    """Reports which GPUs the worker process was given."""

    def __init__(self) -> None:
        super().__init__(0.0)

    def evaluate(self, arch, fidelity, seed, context=None):
        import os

        return {"valid_accuracy": 1.0, "cuda_visible": os.environ.get("CUDA_VISIBLE_DEVICES")}


class SlowNB201(NB201Tabular):
    """NB201 table look-ups that take ``delay`` seconds each: the same results, a slower study
    (for tests that must act while a study runs). Named by path in configs:
    ``evaluator: tests.helpers.evaluators:SlowNB201``."""

    def __init__(self, space, dataset="cifar10", data_dir=None, delay: float = 0.0, **kw):
        super().__init__(space, dataset=dataset, data_dir=data_dir, **kw)
        self.delay = float(delay)

    def evaluate(self, arch, fidelity=None, seed=0, context=None):
        time.sleep(self.delay)
        return super().evaluate(arch, fidelity, seed, context)
