"""A fitted predictor saved to a file, used as a benchmark (a surrogate NAS benchmark).

Like NAS-Bench-301, the surrogate answers any architecture of the space, including ones no table
holds, in milliseconds and deterministically. ``metric`` names what the predictor was fitted on
(e.g. ``valid_accuracy``); ``<metric>_std`` carries the predictor's own uncertainty (zero for
single boosters). The file is read lazily in each process, so the evaluator pickles as a path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..architecture import Architecture
from ..errors import ConfigError, DataError
from .base import Evaluator


class SurrogateEvaluator(Evaluator):
    """Metrics predicted by the predictor saved at ``path`` (see ``nasforge.predictors.save_predictor``)."""

    name = "surrogate"

    def __init__(self, space: Any, path: str | None = None, metric: str = "valid_accuracy", dataset: str | None = None,
                 data_dir: str | None = None) -> None:  # fmt: skip
        if not path:
            raise ConfigError("evaluator surrogate needs option path: a predictor file written by save_predictor / `nasforge fit-predictor`")
        if not isinstance(metric, str) or not metric:
            raise ConfigError(f"parameter metric of surrogate must be a metric name, got {metric!r}")
        self.path = str(Path(path).expanduser())
        if not Path(self.path).is_file():
            raise DataError(f"surrogate predictor file {self.path!r} not found")
        self.space = space
        self.space_name = space.name
        self.metric = metric
        self._predictor = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_predictor": None}

    def predictor(self):
        if self._predictor is None:
            from ..predictors.base import load_predictor

            self._predictor = load_predictor(self.path, self.space)
        return self._predictor

    def prepare(self) -> None:
        self.predictor()

    def metrics(self) -> Sequence[str]:
        return (self.metric, f"{self.metric}_std")

    def describe(self) -> dict[str, Any]:
        return {"evaluator": self.name, "path": self.path, "metric": self.metric}

    def evaluate(self, arch: Architecture, fidelity: int | None = None, seed: int = 0, context: Any = None) -> dict[str, Any]:
        mean, std = self.predictor().predict([arch])
        return {self.metric: float(mean[0]), f"{self.metric}_std": float(std[0])}
