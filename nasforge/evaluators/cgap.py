"""The ``cgap`` evaluator: train a conv chain by continuous growth and pruning, or a baseline.

``method``: ``cgap`` (narrow seed, growth in the first part of training, physical pruning of the
least salient filters, fine-tuning), ``full`` (the architecture at full width for the same
``epochs + ft_epochs``) or ``l1`` (full width for ``epochs``, then L1-norm structured pruning of the
same share of filters and the same fine-tuning). Metrics: ``valid_accuracy`` / ``test_accuracy``
(%), ``params_m`` (M), ``flops_m`` (M multiply-adds), ``grown_params_m`` (M, at the end of growth),
``train_time`` (s). The trained model is a plain chain network (see
:func:`nasforge.training.continual.cgap.chain_string`).
"""

from __future__ import annotations

import math
import numbers
import time
from typing import Any, Sequence

from ..architecture import Architecture
from ..errors import ConfigError, TrialFailed, TrialPruned
from ..validation import check_int
from .base import Evaluator

METHODS = ("cgap", "full", "l1")
SALIENCY = ("grad_w", "abs_w", "abs_grad")


class CGaPEvaluator(Evaluator):
    name = "cgap"

    def __init__(
        self, space: Any, dataset: str | None = "digits", data_dir: str | None = None,
        method: str = "cgap", epochs: int = 12, ft_epochs: int = 4, batch_size: int = 64,
        lr: float = 0.05, ft_lr: float = 0.01, momentum: float = 0.9, weight_decay: float = 5e-4,
        seed_frac: float = 0.25, grow_every: int = 1, grow_frac: float = 0.5, growth_horizon: float = 0.5,
        prune_frac: float = 0.5, saliency: str = "grad_w", split_noise: float = 0.01,
        split_seed: int = 0, max_train: int | None = None, threads: int | None = 1,
    ) -> None:
        owner = "CGaPEvaluator"
        if getattr(space, "name", None) != "chain":
            raise ConfigError(f"evaluator cgap works on the chain space, got {getattr(space, 'name', space)!r}")
        self.space, self.space_name = space, space.name
        self.dataset = "digits" if dataset is None else str(dataset)
        self.data_dir = None if data_dir is None else str(data_dir)
        if method not in METHODS:
            raise ConfigError(f"parameter method of {owner} must be one of {', '.join(METHODS)}, got {method!r}")
        if saliency not in SALIENCY:
            raise ConfigError(f"parameter saliency of {owner} must be one of {', '.join(SALIENCY)}, got {saliency!r}")
        self.method, self.saliency = method, saliency
        self.epochs = check_int(owner, "epochs", epochs, 1)
        self.ft_epochs = check_int(owner, "ft_epochs", ft_epochs, 0)
        self.batch_size = check_int(owner, "batch_size", batch_size, 2)
        self.grow_every = check_int(owner, "grow_every", grow_every, 1)
        self.lr, self.ft_lr = _real(owner, "lr", lr, 0, None), _real(owner, "ft_lr", ft_lr, 0, None)
        self.momentum = _real(owner, "momentum", momentum, 0, 1, low_ok=True)
        self.weight_decay = _real(owner, "weight_decay", weight_decay, 0, None, low_ok=True)
        self.seed_frac = _real(owner, "seed_frac", seed_frac, 0, 1, high_ok=True)
        self.grow_frac = _real(owner, "grow_frac", grow_frac, 0, None)
        self.growth_horizon = _real(owner, "growth_horizon", growth_horizon, 0, 1, high_ok=True)
        self.prune_frac = _real(owner, "prune_frac", prune_frac, 0, 1, low_ok=True)
        self.split_noise = _real(owner, "split_noise", split_noise, 0, None, low_ok=True)
        self.split_seed = check_int(owner, "split_seed", split_seed, 0)
        self.max_train = None if max_train is None else check_int(owner, "max_train", max_train, 2)
        self.threads = None if threads is None else check_int(owner, "threads", threads, 1)
        from ..data.load import resolve_source

        resolve_source(self.dataset, self.data_dir)

    def metrics(self) -> Sequence[str]:
        return ("valid_accuracy", "test_accuracy", "params_m", "flops_m", "grown_params_m", "train_time")

    def default_fidelity(self) -> int:
        return self.epochs

    def describe(self) -> dict[str, Any]:
        return {"evaluator": self.name, "space": self.space_name, "dataset": self.dataset, "method": self.method}

    def evaluate(self, arch: Architecture, fidelity: int | None = None, seed: int = 0,
                 context: Any = None) -> dict[str, Any]:
        if fidelity is not None and (isinstance(fidelity, bool) or not isinstance(fidelity, numbers.Integral) or fidelity < 1):
            raise ConfigError(f"fidelity of evaluator cgap is an epoch budget >= 1, got {fidelity!r}")
        self.space.validate(arch)
        from ..data.load import load_dataset
        from ..training.seeding import seeded_torch, torch_threads

        data = load_dataset(self.dataset, seed=self.split_seed, data_dir=self.data_dir, max_train=self.max_train)
        epochs = self.epochs if fidelity is None else int(fidelity)
        try:
            with torch_threads(self.threads), seeded_torch(int(seed) % 2**63) as order:
                return self.train(arch, data, epochs, order, context)[1]
        except (TrialFailed, TrialPruned, ConfigError):
            raise
        except RuntimeError as exc:
            raise TrialFailed(f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}") from exc

    def train(self, arch: Architecture, data: Any, epochs: int, order: Any, context: Any = None):
        """(model, metrics) for ``arch`` trained by ``method``; the model is a plain chain network."""
        import torch

        from ..models.chain import ChainNetwork
        from ..spaces.chain import parse_chain
        from ..training.continual import cgap
        from ..training.loop import Split, fit, score
        from ..training.measure import count_flops, count_params
        from ..training.optim import make_optimizer, make_schedule
        from ..training.tasks import CLASSIFICATION

        started = time.perf_counter()
        split = {name: Split(torch.from_numpy(getattr(data, f"x_{name}")), torch.from_numpy(getattr(data, f"y_{name}")))
                 for name in ("train", "valid", "test")}
        full_functions, _ = parse_chain(arch.string)
        full = ChainNetwork(full_functions, data.input_shape, data.num_classes)
        step = [0]

        def run(model, n, lr, schedule):
            if n <= 0:
                return
            opt = make_optimizer(model.parameters(), "sgd", lr, self.momentum, self.weight_decay)
            fit(model, split["train"], split["valid"], opt, make_schedule(opt, schedule, n), n, self.batch_size,
                order, context=None if context is None else _Shift(context, step[0]))
            step[0] += n

        grown = None
        if self.method == "cgap":
            seed_functions, _ = parse_chain(cgap.seed_string(arch.string, self.seed_frac))
            model = ChainNetwork(seed_functions, data.input_shape, data.num_classes)
            targets = cgap.widths(full)
            del full
            generator = torch.Generator().manual_seed(int(order.initial_seed()))
            done = 0
            for event in cgap.GrowthPlan(epochs, self.grow_every, self.growth_horizon).events():
                run(model, event - done, self.lr, "constant")
                done = event
                scores = cgap.saliency(model, split["train"], CLASSIFICATION, self.saliency)
                cgap.grow(model, scores, self.grow_frac, targets, self.split_noise, generator)
            run(model, epochs - done, self.lr, "cosine")
            grown = count_params(model)
            cgap.prune(model, cgap.saliency(model, split["train"], CLASSIFICATION, self.saliency), self.prune_frac)
            run(model, self.ft_epochs, self.ft_lr, "cosine")
        elif self.method == "full":
            model = full
            run(model, epochs + self.ft_epochs, self.lr, "cosine")
        else:  # l1: train full, prune filters by L1 norm, fine-tune
            model = full
            run(model, epochs, self.lr, "cosine")
            grown = count_params(model)
            cgap.prune(model, cgap.saliency(model, split["train"], CLASSIFICATION, "abs_w"), self.prune_frac)
            run(model, self.ft_epochs, self.ft_lr, "cosine")
        metrics: dict[str, Any] = {
            "valid_accuracy": score(model, split["valid"])[1], "test_accuracy": score(model, split["test"])[1],
            "params_m": count_params(model), "flops_m": count_flops(model, data.input_shape),
            "grown_params_m": count_params(model) if grown is None else grown,
            "train_time": time.perf_counter() - started,
        }
        if not all(math.isfinite(v) for v in metrics.values()):
            raise TrialFailed(f"non-finite metrics {metrics}")
        model.eval()
        return model, metrics

    def __repr__(self) -> str:
        return f"CGaPEvaluator(dataset={self.dataset!r}, method={self.method!r})"


class _Shift:
    def __init__(self, context: Any, offset: int) -> None:
        self.context, self.offset = context, offset

    def report(self, step: int, metrics: dict[str, Any]) -> None:
        self.context.report(self.offset + step, metrics)

    def should_prune(self) -> bool:
        return self.context.should_prune()


def _real(owner: str, name: str, value: Any, low: float, high: float | None,
          low_ok: bool = False, high_ok: bool = False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value >= low if low_ok else value > low)
    ok = ok and (high is None or (value <= high if high_ok else value < high))
    if not ok:
        lo = f"{'>=' if low_ok else '>'} {low}"
        hi = "" if high is None else f" and {'<=' if high_ok else '<'} {high}"
        raise ConfigError(f"parameter {name} of {owner} must be a number {lo}{hi}, got {value!r}")
    return float(value)
