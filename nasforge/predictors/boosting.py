"""Gradient-boosted trees on encodings and zero-cost features (XGBoost or LightGBM, optional extra).

Boosting on zero-cost proxies is the strongest cheap predictor in NASLib's zero-cost study
(NAS-Bench-Suite-Zero: XGBoost on the proxies, Kendall tau 0.794 with 400 NB201 training cells);
adding the one-hot encoding lets the trees also split on the operations themselves. Trees have no
posterior: with ``members > 1`` several boosters on row/column subsamples (different seeds) give a
spread; with one member the std is zero (greedy acquisitions).
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from ..architecture import Architecture
from ..errors import ConfigError, require
from ..spaces.base import SearchSpace
from ..validation import check_int
from .base import Predictor
from .features import Featurizer


class _Boosting(Predictor):
    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        encoding: str = "onehot",
        zero_cost: bool | list[str] = False,
        dataset: str = "cifar10",
        data: str | None = None,
        embeddings: str | None = None,
        members: int = 1,
        n_estimators: int = 500,
        learning_rate: float = 0.03,
        max_depth: int = 6,
        subsample: float = 0.8,
        colsample: float = 0.8,
    ) -> None:
        super().__init__(space, seed)
        for label, value, low in (("members", members, 1), ("n_estimators", n_estimators, 1), ("max_depth", max_depth, 1)):
            check_int(self.name, label, value, low)
        for label, value in (("learning_rate", learning_rate), ("subsample", subsample), ("colsample", colsample)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
                raise ConfigError(f"parameter {label} of {self.name} must be a number in (0, 1], got {value!r}")
        self.features = Featurizer(space, encoding, zero_cost, dataset, data, embeddings)
        self.options = {"encoding": encoding, "zero_cost": zero_cost, "dataset": dataset, "data": data, "embeddings": embeddings,
                        "members": members, "n_estimators": n_estimators, "learning_rate": learning_rate,
                        "max_depth": max_depth, "subsample": subsample, "colsample": colsample}  # fmt: skip
        self._models: list[Any] = []

    def _fit(self, archs: list[Architecture], y: np.ndarray) -> None:
        self.features.fit(archs)
        x = self.features.transform(archs)
        self._models = [self._train(x, y, self.seed * 1000 + m) for m in range(self.options["members"])]

    def _predict(self, archs: list[Architecture]) -> tuple[np.ndarray, np.ndarray]:
        x = self.features.transform(archs)
        out = np.stack([self._apply(model, x) for model in self._models])
        return out.mean(axis=0), out.std(axis=0)


class XGBoostPredictor(_Boosting):
    """XGBoost regressor (``pip install 'nasforge[predict]'``: xgboost-cpu)."""

    name = "xgboost"

    def _train(self, x: np.ndarray, y: np.ndarray, seed: int):
        xgb = require("xgboost", "predict")
        o = self.options
        params = {"objective": "reg:squarederror", "eta": o["learning_rate"], "max_depth": o["max_depth"],
                  "subsample": o["subsample"], "colsample_bytree": o["colsample"], "seed": seed, "nthread": 1,
                  "verbosity": 0}  # fmt: skip
        return xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=o["n_estimators"])

    def _apply(self, model, x: np.ndarray) -> np.ndarray:
        xgb = require("xgboost", "predict")
        return model.predict(xgb.DMatrix(x))

    def state_dict(self) -> dict[str, Any]:
        return {"features": self.features.state_dict(),
                "models": [base64.b64encode(bytes(m.save_raw("json"))).decode("ascii") for m in self._models]}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        xgb = require("xgboost", "predict")
        self.features.load_state_dict(state["features"])
        self._models = []
        for text in state["models"]:
            booster = xgb.Booster(params={"nthread": 1})
            booster.load_model(bytearray(base64.b64decode(text)))
            self._models.append(booster)


class LightGBMPredictor(_Boosting):
    """LightGBM regressor (``pip install 'nasforge[predict]'``)."""

    name = "lightgbm"

    def _train(self, x: np.ndarray, y: np.ndarray, seed: int):
        lgb = require("lightgbm", "predict")
        o = self.options
        params = {"objective": "regression", "learning_rate": o["learning_rate"], "max_depth": o["max_depth"],
                  "num_leaves": min(2 ** o["max_depth"], 63), "bagging_fraction": o["subsample"], "bagging_freq": 1,
                  "feature_fraction": o["colsample"], "min_data_in_leaf": 5, "seed": seed, "num_threads": 1,
                  "deterministic": True, "verbosity": -1}  # fmt: skip
        return lgb.train(params, lgb.Dataset(x, label=y), num_boost_round=o["n_estimators"])

    def _apply(self, model, x: np.ndarray) -> np.ndarray:
        return model.predict(x)

    def state_dict(self) -> dict[str, Any]:
        return {"features": self.features.state_dict(), "models": [m.model_to_string() for m in self._models]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        lgb = require("lightgbm", "predict")
        self.features.load_state_dict(state["features"])
        self._models = [lgb.Booster(model_str=text) for text in state["models"]]
