"""The Predictor extension point: architectures -> (mean, std) of a metric, fitted on examples.

One interface serves search (BO and predictor-guided strategies call ``fit`` then ``predict``),
benchmarks (Kendall tau on held-out cells) and the surrogate evaluator (a saved predictor stands in
for a benchmark table). ``std`` is the model's own uncertainty (GP posterior, ensemble spread);
models without one return zeros, which makes every acquisition greedy on the mean.

State is plain JSON (``state_dict``), so a fitted predictor saves to a file that needs no pickle
and loads in another process; :func:`save_predictor` / :func:`load_predictor` add the header that
names the predictor class, its options and its space.
"""

from __future__ import annotations

import gzip
import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..architecture import Architecture
from ..errors import ConfigError, DataError
from ..spaces.base import SearchSpace
from ..validation import check_int

FORMAT = "nasforge-predictor/1"


class Predictor(ABC):
    """Base class: subclasses implement ``_fit``, ``_predict`` and their state."""

    name: str = "predictor"

    def __init__(self, space: SearchSpace, seed: int = 0) -> None:
        check_int(type(self).__name__, "seed", seed, 0)
        self.space = space
        self.seed = int(seed)
        self.options: dict[str, Any] = {}  # constructor options, saved with the state
        self.fitted = False

    def fit(self, archs: Sequence[Architecture], y: Sequence[float]) -> "Predictor":
        """Fit on ``archs`` with targets ``y`` (finite, as many as archs, at least 2)."""
        y = np.asarray(y, dtype=float)
        if len(archs) != len(y) or len(y) < 2:
            raise ConfigError(f"{self.name}.fit needs as many targets as architectures (>= 2), got {len(archs)} and {len(y)}")
        if not np.isfinite(y).all():
            raise ConfigError(f"{self.name}.fit targets must be finite")
        self._fit(list(archs), y)
        self.fitted = True
        return self

    def predict(self, archs: Sequence[Architecture]) -> tuple[np.ndarray, np.ndarray]:
        """Predicted mean and standard deviation for each architecture, in the units of ``y``."""
        if not self.fitted:
            raise ConfigError(f"{self.name}.predict called before fit")
        if not archs:
            return np.zeros(0), np.zeros(0)
        mean, std = self._predict(list(archs))
        return np.asarray(mean, dtype=float), np.asarray(std, dtype=float)

    @abstractmethod
    def _fit(self, archs: list[Architecture], y: np.ndarray) -> None: ...

    @abstractmethod
    def _predict(self, archs: list[Architecture]) -> tuple[np.ndarray, np.ndarray]: ...

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable fitted state (everything ``predict`` needs)."""
        raise NotImplementedError(f"{self.name} cannot be saved")

    def load_state_dict(self, state: dict[str, Any]) -> None:
        raise NotImplementedError(f"{self.name} cannot be loaded")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(space={self.space.name!r}, seed={self.seed})"


PREDICTORS = {
    "gp_wl": "nasforge.predictors.gp_predictor:WLGP",
    "gp_gcn": "nasforge.predictors.gp_predictor:GCNGP",
    "mlp_ensemble": "nasforge.predictors.mlp:MLPEnsemble",
    "xgboost": "nasforge.predictors.boosting:XGBoostPredictor",
    "lightgbm": "nasforge.predictors.boosting:LightGBMPredictor",
}


def make_predictor(name: str, space: SearchSpace, seed: int = 0, **options: Any) -> Predictor:
    """The predictor registered as ``name``; ConfigError naming the bad name or option."""
    from ..registry import load_object

    if name not in PREDICTORS:
        raise ConfigError(f"unknown predictor {name!r}; choose one of: {', '.join(sorted(PREDICTORS))}")
    cls = load_object(PREDICTORS[name])
    try:
        return cls(space, seed=seed, **options)
    except TypeError as exc:
        raise ConfigError(f"predictor {name!r} rejects options {sorted(options)}: {exc}") from None


def save_predictor(predictor: Predictor, path: str | Path) -> Path:
    """Write a fitted predictor as gzip JSON (header: name, space, seed, options; then its state)."""
    if not predictor.fitted:
        raise ConfigError(f"cannot save predictor {predictor.name!r} before fit")
    payload = {"format": FORMAT, "predictor": predictor.name, "space": predictor.space.name,
               "seed": predictor.seed, "options": predictor.options, "state": predictor.state_dict()}  # fmt: skip
    path = Path(path)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump(payload, handle, allow_nan=False)
    return path


def load_predictor(path: str | Path, space: SearchSpace | None = None) -> Predictor:
    """Read a file written by :func:`save_predictor`; ``space`` defaults to the registered one."""
    path = Path(path)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            payload = json.load(handle)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read predictor file {str(path)!r}: {exc}") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise DataError(f"{str(path)!r} is not a nasforge predictor file (format {FORMAT})")
    if space is None:
        from ..registry import resolve

        space = resolve("space", payload["space"])()
    elif space.name != payload["space"]:
        raise ConfigError(f"predictor file {str(path)!r} is for space {payload['space']!r}, not {space.name!r}")
    predictor = make_predictor(payload["predictor"], space, seed=payload["seed"], **payload["options"])
    predictor.load_state_dict(payload["state"])
    predictor.fitted = True
    return predictor
