"""Evaluators for ablation trials: the architecture string names the component left out.

They are ordinary :class:`~nasforge.evaluators.base.Evaluator` objects, so ablation trials run
through the same executors (serial, local pool, Ray) as search trials. Both keep only names and
settings; data and torch load inside ``evaluate`` (i.e. in the worker).
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import numpy as np

from ..architecture import Architecture
from ..errors import ConfigError
from ..evaluators.base import Evaluator
from ..registry import load_object
from ..validation import check_int
from .components import BASE

TABULAR_DATASETS = ("wine", "breast_cancer", "iris")
FEATURE_MODELS = ("logistic", "mlp")


def _check_training(owner: str, epochs: Any, lr: Any, batch_size: Any) -> None:
    check_int(owner, "epochs", epochs, 1)
    check_int(owner, "batch_size", batch_size, 1)
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < 10:
        raise ConfigError(f"parameter lr of {owner} must be a number in (0, 10), got {lr!r}")


def component_arch(component: str) -> Architecture:
    """The task value an executor ships for one ablation component."""
    return Architecture("ablation", component, ())


class _AblationEvaluator(Evaluator):
    """What both ablation evaluators share: the components, the training settings, the metrics."""

    def __init__(
        self, components: dict[str, Sequence[str]], epochs: int, lr: float, batch_size: int,
        data_seed: int,
    ) -> None:
        _check_training(type(self).__name__, epochs, lr, batch_size)
        self.components = {k: list(v) for k, v in components.items()}
        self.epochs = epochs
        self.lr = float(lr)
        self.batch_size = batch_size
        self.data_seed = data_seed

    def metrics(self) -> Sequence[str]:
        return ("valid_accuracy", "test_accuracy", "train_loss", "params_m")

    def _removed(self, component: str) -> list[str]:
        if component == BASE:
            return []
        if component not in self.components:
            raise ConfigError(f"unknown ablation component {component!r}")
        return self.components[component]


class ModelAblationEvaluator(_AblationEvaluator):
    """Build the user's model from ``factory``, remove a component's modules, train, score.

    ``components`` maps component names to the module names they remove (``base`` removes none).
    Weights are initialised from the trial seed; the data split is fixed by ``data_seed`` so every
    trial is scored on the same validation examples.
    """

    name = "ablation_model"

    def __init__(
        self,
        factory: str,
        components: dict[str, Sequence[str]],
        dataset: str = "digits",
        data_dir: str | None = None,
        epochs: int = 10,
        lr: float = 0.01,
        batch_size: int = 64,
        data_seed: int = 0,
        factory_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(components, epochs, lr, batch_size, data_seed)
        self.factory = factory
        self.dataset = dataset
        self.data_dir = data_dir
        self.factory_options = dict(factory_options or {})

    def load_data(self):
        from ..data.load import load_dataset

        return load_dataset(self.dataset, seed=self.data_seed, data_dir=self.data_dir)

    def build(self, seed: int | None = None):
        """The unablated model (weights from ``seed`` if given)."""
        import torch

        factory = load_object(self.factory)
        if seed is not None:
            torch.manual_seed(int(seed))
        return factory(**self.factory_options)

    def evaluate(
        self, arch: Architecture, fidelity: int | None, seed: int, context: Any = None
    ) -> dict[str, Any]:
        from .components import remove_modules
        from .training import fit_classifier

        removed = self._removed(arch.string)
        data = self.load_data()
        model = remove_modules(self.build(seed), removed)
        return fit_classifier(
            model, data.x_train, data.y_train,
            {"valid": (data.x_valid, data.y_valid), "test": (data.x_test, data.y_test)},
            epochs=fidelity or self.epochs, lr=self.lr, batch_size=self.batch_size, seed=seed,
        )

    def describe(self) -> dict[str, Any]:
        return {"evaluator": self.name, "factory": self.factory, "dataset": self.dataset,
                "epochs": self.epochs, "lr": self.lr, "batch_size": self.batch_size}


@functools.lru_cache(maxsize=4)
def load_tabular(dataset: str, data_seed: int) -> dict[str, Any]:
    """A bundled sklearn table split 60/20/20 (stratified, from ``data_seed``), standardised with
    train statistics. Cached per process: every trial of a worker reuses it."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    loader = {"wine": datasets.load_wine, "breast_cancer": datasets.load_breast_cancer,
              "iris": datasets.load_iris}[dataset]
    bunch = loader()
    x, y = bunch.data.astype(np.float32), bunch.target.astype(np.int64)
    x_train, x_rest, y_train, y_rest = train_test_split(
        x, y, test_size=0.4, stratify=y, random_state=data_seed)
    x_valid, x_test, y_valid, y_test = train_test_split(
        x_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=data_seed)
    mean, std = x_train.mean(0), x_train.std(0)
    std[std < 1e-12] = 1.0
    norm = lambda a: ((a - mean) / std).astype(np.float32)  # noqa: E731
    return {
        "features": [str(f) for f in bunch.feature_names],
        "num_classes": int(y.max()) + 1,
        "train": (norm(x_train), y_train), "valid": (norm(x_valid), y_valid),
        "test": (norm(x_test), y_test),
    }


def feature_names(dataset: str) -> list[str]:
    check_tabular_dataset(dataset)
    return load_tabular(dataset, 0)["features"]


def check_tabular_dataset(dataset: str) -> None:
    if dataset not in TABULAR_DATASETS:
        raise ConfigError(
            f"parameter dataset of a feature ablation must be one of {TABULAR_DATASETS}, "
            f"got {dataset!r}"
        )


class FeatureAblationEvaluator(_AblationEvaluator):
    """Train a logistic-regression or MLP classifier without one input feature (or group).

    The (small) table is loaded once here and shipped with the evaluator, so workers never import
    scikit-learn.
    """

    name = "ablation_features"

    def __init__(
        self,
        components: dict[str, Sequence[str]],
        dataset: str = "wine",
        model: str = "logistic",
        hidden: int = 32,
        epochs: int = 100,
        lr: float = 0.01,
        batch_size: int = 32,
        data_seed: int = 0,
    ) -> None:
        owner = type(self).__name__
        check_tabular_dataset(dataset)
        if model not in FEATURE_MODELS:
            raise ConfigError(
                f"parameter model of {owner} must be one of {FEATURE_MODELS}, got {model!r}"
            )
        check_int(owner, "hidden", hidden, 1)
        super().__init__(components, epochs, lr, batch_size, data_seed)
        self.dataset = dataset
        self.model = model
        self.hidden = hidden
        self.table = load_tabular(dataset, data_seed)

    def evaluate(
        self, arch: Architecture, fidelity: int | None, seed: int, context: Any = None
    ) -> dict[str, Any]:
        import torch
        from torch import nn

        from .training import fit_classifier

        table = self.table
        dropped = self._removed(arch.string)
        keep = [i for i, f in enumerate(table["features"]) if f not in dropped]
        torch.manual_seed(int(seed))
        width, classes = len(keep), table["num_classes"]
        if self.model == "logistic":
            model = nn.Linear(width, classes)
        else:
            model = nn.Sequential(
                nn.Linear(width, self.hidden), nn.ReLU(), nn.Linear(self.hidden, classes)
            )
        x_train, y_train = table["train"]
        splits = {s: (table[s][0][:, keep], table[s][1]) for s in ("valid", "test")}
        return fit_classifier(
            model, x_train[:, keep], y_train, splits, epochs=fidelity or self.epochs, lr=self.lr,
            batch_size=self.batch_size, seed=seed,
        )

    def describe(self) -> dict[str, Any]:
        return {"evaluator": self.name, "dataset": self.dataset, "model": self.model,
                "epochs": self.epochs, "lr": self.lr}
