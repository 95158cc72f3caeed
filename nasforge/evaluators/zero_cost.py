"""Zero-cost proxies as an evaluator: score untrained networks on the user's data in a second.

Each trial builds the architecture's network with the space's builder (seeded init), draws one
training mini-batch (``batch_size`` examples chosen by the trial seed) and returns the proxies of
:mod:`nasforge.metrics.zero_cost` as metrics: ``synflow``, ``jacov``, ``nwot``, ``snip``,
``grad_norm``, ``fisher`` (larger is better for each, as in NASLib) and ``params_m`` / ``flops_m``.
Use them as search objectives, to warm-start a search, or as predictor features. The default batch
of 32 is NASLib's benchmark setting; keep it below the input size (64 pixels for digits), or the
Jacobian correlation matrix of ``jacov`` is singular and the score collapses to about -1e5.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..architecture import Architecture
from ..errors import ConfigError, TrialFailed
from ..validation import check_int
from .base import Evaluator

#: what ``evaluate`` returns (nasforge.metrics.zero_cost.PROXIES, repeated to keep torch unimported)
ZERO_COST_METRICS = ("synflow", "jacov", "nwot", "snip", "grad_norm", "fisher", "params_m", "flops_m")


class ZeroCostEvaluator(Evaluator):
    """Proxies of the untrained network on one mini-batch of ``dataset`` (fidelity is ignored)."""

    name = "zero_cost"

    def __init__(
        self,
        space: Any,
        dataset: str = "digits",
        data_dir: str | None = None,
        batch_size: int = 32,
        proxies: Sequence[str] | None = None,
        threads: int | None = 1,
        split_seed: int = 0,
        model_options: Mapping[str, Any] | None = None,
    ) -> None:
        if space is None or not hasattr(space, "name"):
            raise ConfigError(f"parameter space of ZeroCostEvaluator must be a search space, got {space!r}")
        self.space = space
        self.space_name = space.name
        self.dataset = str(dataset)
        self.data_dir = None if data_dir is None else str(data_dir)
        self.batch_size = check_int("zero_cost", "batch_size", batch_size, 2)
        self.proxies = tuple(ZERO_COST_METRICS if proxies is None else proxies)
        bad = [p for p in self.proxies if p not in ZERO_COST_METRICS]
        if bad or not self.proxies:
            raise ConfigError(f"parameter proxies of zero_cost must be a non-empty list from {', '.join(ZERO_COST_METRICS)}, got {proxies!r}")
        self.threads = None if threads is None else check_int("zero_cost", "threads", threads, 1)
        self.split_seed = check_int("zero_cost", "split_seed", split_seed, 0)
        if model_options is not None and not isinstance(model_options, Mapping):
            raise ConfigError(f"parameter model_options of zero_cost must be a mapping, got {model_options!r}")
        self.model_options = dict(model_options or {})
        from ..data.load import resolve_source

        resolve_source(self.dataset, self.data_dir)  # a bad name or path fails now

    def metrics(self) -> Sequence[str]:
        return self.proxies

    def prepare(self) -> None:
        self._data()

    def describe(self) -> dict[str, Any]:
        return {"evaluator": self.name, "space": self.space_name, "dataset": self.dataset,
                "batch_size": self.batch_size, "proxies": list(self.proxies)}  # fmt: skip

    def _data(self):
        from ..data.load import load_dataset

        return load_dataset(self.dataset, seed=self.split_seed, data_dir=self.data_dir)

    def evaluate(self, arch: Architecture, fidelity: int | None = None, seed: int = 0, context: Any = None) -> dict[str, Any]:
        import numpy as np
        import torch

        from ..metrics.zero_cost import zero_cost_proxies
        from ..models.build import build_model
        from ..training.seeding import seeded_torch, torch_threads

        data = self._data()
        rng = np.random.default_rng([seed, 0xB47C4])
        rows = rng.choice(len(data.y_train), size=min(self.batch_size, len(data.y_train)), replace=False)
        inputs = torch.as_tensor(data.x_train[rows])
        targets = torch.as_tensor(data.y_train[rows])
        with torch_threads(self.threads), seeded_torch(seed):
            try:
                model = build_model(self.space, arch, data.input_shape, data.num_classes, **self.model_options)
            except ConfigError:
                raise
            except Exception as exc:  # noqa: BLE001 - an unbuildable network fails its trial
                raise TrialFailed(f"cannot build {arch.string!r}: {exc}") from exc
            return zero_cost_proxies(model, inputs, targets, self.proxies)
