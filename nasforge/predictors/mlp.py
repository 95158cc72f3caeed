"""An ensemble of small MLPs on architecture encodings; the members' spread is the uncertainty.

This is the predictor of BANANAS (White et al., AAAI 2021): a few independently initialised
fully connected nets on the path encoding, whose mean is the prediction and whose standard
deviation across members drives Thompson sampling / UCB. It is written in NumPy, all members
trained at once as batched matrix products with full-batch Adam: a strategy refits it at every
ask on a few hundred points, where a torch model would spend most of its time in per-op overhead
(and strategies stay torch-free).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..architecture import Architecture
from ..errors import ConfigError
from ..spaces.base import SearchSpace
from ..validation import check_int
from .base import Predictor
from .features import Featurizer


class MLPEnsemble(Predictor):
    """``members`` ReLU MLPs (``layers`` x ``width``), MSE on standardised targets, Adam."""

    name = "mlp_ensemble"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        members: int = 5,
        layers: int = 3,
        width: int = 32,
        steps: int = 400,
        lr: float = 0.01,
        weight_decay: float = 1e-4,
        encoding: str | None = None,
        zero_cost: bool | list[str] = False,
        dataset: str = "cifar10",
        data: str | None = None,
        embeddings: str | None = None,
    ) -> None:
        super().__init__(space, seed)
        for label, value, low in (("members", members, 1), ("layers", layers, 1), ("width", width, 1), ("steps", steps, 1)):
            check_int("mlp_ensemble", label, value, low)
        for label, value in (("lr", lr), ("weight_decay", weight_decay)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (label == "lr" and value == 0):
                raise ConfigError(f"parameter {label} of mlp_ensemble must be a {'positive' if label == 'lr' else 'non-negative'} number, got {value!r}")
        if encoding is None:
            encoding = "path" if _has_graph(space) else "onehot"
        self.features = Featurizer(space, encoding, zero_cost, dataset, data, embeddings)
        self.members, self.layers, self.width, self.steps = int(members), int(layers), int(width), int(steps)
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.options = {"members": members, "layers": layers, "width": width, "steps": steps, "lr": lr,
                        "weight_decay": weight_decay, "encoding": encoding, "zero_cost": zero_cost,
                        "dataset": dataset, "data": data, "embeddings": embeddings}  # fmt: skip
        self._params: list[np.ndarray] = []

    def _fit(self, archs: list[Architecture], y: np.ndarray) -> None:
        self.features.fit(archs)
        x = self.features.transform(archs)
        self._x_mean = np.nan_to_num(np.nanmean(x, axis=0))
        self._x_std = np.nan_to_num(np.nanstd(x, axis=0))
        self._x_std[self._x_std < 1e-8] = 1.0
        x = self._scale(x)
        self._y_mean, self._y_std = float(y.mean()), float(y.std()) or 1.0
        z = (y - self._y_mean) / self._y_std
        rng = np.random.default_rng(self.seed)
        sizes = [x.shape[1]] + [self.width] * self.layers + [1]
        params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            params.append(rng.normal(0.0, np.sqrt(2.0 / max(fan_in, 1)), size=(self.members, fan_in, fan_out)))
            params.append(np.zeros((self.members, 1, fan_out)))
        self._params = _adam(params, x, z, self.steps, self.lr, self.weight_decay)

    def _scale(self, x: np.ndarray) -> np.ndarray:
        return np.nan_to_num((x - self._x_mean) / self._x_std)

    def _predict(self, archs: list[Architecture]) -> tuple[np.ndarray, np.ndarray]:
        out = _forward(self._params, self._scale(self.features.transform(archs)))[-1][..., 0]  # (members, n)
        out = out * self._y_std + self._y_mean
        return out.mean(axis=0), out.std(axis=0)

    def member_predictions(self, archs: list[Architecture]) -> np.ndarray:
        """(members, n) predictions: independent Thompson sampling picks one member per candidate."""
        out = _forward(self._params, self._scale(self.features.transform(list(archs))))[-1][..., 0]
        return out * self._y_std + self._y_mean

    def state_dict(self) -> dict[str, Any]:
        return {"features": self.features.state_dict(), "params": [p.tolist() for p in self._params],
                "x_mean": self._x_mean.tolist(), "x_std": self._x_std.tolist(),
                "y_mean": self._y_mean, "y_std": self._y_std}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.features.load_state_dict(state["features"])
        self._params = [np.asarray(p, dtype=float) for p in state["params"]]
        self._x_mean, self._x_std = np.asarray(state["x_mean"]), np.asarray(state["x_std"])
        self._y_mean, self._y_std = float(state["y_mean"]), float(state["y_std"])


def _has_graph(space: SearchSpace) -> bool:
    try:
        space.to_graph(space.sample(np.random.default_rng(0)))
        return True
    except Exception:  # noqa: BLE001 - any space without a graph form
        return False


def _forward(params: list[np.ndarray], x: np.ndarray) -> list[np.ndarray]:
    """Activations per layer, members batched: input (n, d) -> list of (members, n, width)."""
    acts = [np.broadcast_to(x, (params[0].shape[0],) + x.shape)]
    n_layers = len(params) // 2
    for i in range(n_layers):
        h = acts[-1] @ params[2 * i] + params[2 * i + 1]
        acts.append(np.maximum(h, 0.0) if i < n_layers - 1 else h)
    return acts


def _adam(params: list[np.ndarray], x: np.ndarray, z: np.ndarray, steps: int, lr: float, wd: float,
          beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> list[np.ndarray]:  # fmt: skip
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    n = len(z)
    n_layers = len(params) // 2
    for t in range(1, steps + 1):
        acts = _forward(params, x)
        delta = 2.0 * (acts[-1] - z[None, :, None]) / n  # d mean-squared-error / d output
        grads: list[np.ndarray] = [None] * len(params)  # type: ignore[list-item]
        for i in reversed(range(n_layers)):
            grads[2 * i] = acts[i].transpose(0, 2, 1) @ delta + wd * params[2 * i]
            grads[2 * i + 1] = delta.sum(axis=1, keepdims=True)
            if i > 0:
                delta = (delta @ params[2 * i].transpose(0, 2, 1)) * (acts[i] > 0)
        correction1, correction2 = 1 - beta1**t, 1 - beta2**t
        for j, g in enumerate(grads):
            m[j] = beta1 * m[j] + (1 - beta1) * g
            v[j] = beta2 * v[j] + (1 - beta2) * g * g
            params[j] = params[j] - lr * (m[j] / correction1) / (np.sqrt(v[j] / correction2) + eps)
    return params
