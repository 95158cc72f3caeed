"""Evaluators for ablation trials: the trainer with a component removed from the network.

Both are :class:`~nasforge.evaluators.trainer.TrainerEvaluator` subclasses, so an ablation trial is
trained by ``training/loop.fit`` on data from ``data/load.py``, in a forked seeded RNG scope, with
the same metrics, checkpoints and failure rules (a NaN loss fails the trial) as any trained trial.
They differ only in the network they build for a member of the :class:`AblationSpace`:

- :class:`ModelAblationEvaluator` builds the user's model and replaces the component's modules by
  ``nn.Identity``;
- :class:`FeatureAblationEvaluator` puts a fixed input mask in front of the model that sets the
  component's features to 0, i.e. to their training mean, as the loaders normalise with train
  statistics. Retrained on a constant, the network cannot use that feature: the same as dropping
  it (a constant input is absorbed by the next layer's bias) while the input shape, and so any
  model, stays usable for every component.

A trial's seed is the member's replicate seed, not the study's per-trial seed: the base and every
component then start from the same seeds, so their differences are paired.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Mapping, Sequence

from ..architecture import Architecture
from ..errors import ConfigError
from ..evaluators.trainer import TrainerEvaluator
from ..registry import load_object
from ..validation import check_int

FEATURE_MODELS = ("logistic", "mlp")
#: defaults of an ablation trial: Adam at a constant rate suits the small models ablated here
TRAINING_DEFAULTS = {"epochs": 10, "lr": 0.01, "optimizer": "adam", "schedule": "constant",
                     "weight_decay": 0.0, "batch_size": 64}


def load_factory(factory: str, search_path: str | None = None) -> Any:
    """Import a user's ``package.module:function``; ``search_path`` (a folder, e.g. the config's)
    is appended to ``sys.path``, never put first, so a file there cannot shadow an installed
    package (a ``torch.py`` beside a config is not imported in place of torch)."""
    if not isinstance(factory, str):
        raise ConfigError(f"model factory must be 'package.module:function', got {factory!r}")
    if search_path is not None and search_path not in sys.path:
        sys.path.append(search_path)
    return load_object(factory)


class _AblationTrainer(TrainerEvaluator):
    """What both share: trial seed from the member, trainer defaults for ablation."""

    def __init__(self, space: Any, **trainer_options: Any) -> None:
        if getattr(space, "name", None) != "ablation":
            raise ConfigError(
                f"evaluator {self.name!r} needs the 'ablation' space, got {getattr(space, 'name', space)!r}"
            )
        super().__init__(space, **{**TRAINING_DEFAULTS, **trainer_options})

    def evaluate(
        self, arch: Architecture, fidelity: int | None = None, seed: int = 0, context: Any = None
    ) -> dict[str, Any]:
        metrics = self.train(arch, fidelity, self.space.seed_of(arch), context).metrics
        metrics["removed"] = len(self.space.removed(arch))
        return metrics

    def metrics(self) -> Sequence[str]:
        return tuple(super().metrics()) + ("removed",)


class ModelAblationEvaluator(_AblationTrainer):
    """Build ``factory(**factory_options)`` (an ``nn.Module``), remove the member's modules, train.

    ``factory`` is 'package.module:function'; ``search_path`` is a folder appended to sys.path to
    find it (the CLI passes the config's folder).
    """

    name = "ablation_model"

    def __init__(
        self,
        space: Any,
        factory: str = "nasforge.ablation.zoo:digits_cnn",
        factory_options: Mapping[str, Any] | None = None,
        search_path: str | None = None,
        **trainer_options: Any,
    ) -> None:
        super().__init__(space, **trainer_options)
        if factory_options is not None and not isinstance(factory_options, Mapping):
            raise ConfigError(f"parameter factory_options must be a mapping, got {factory_options!r}")
        self.factory = factory
        self.factory_options = dict(factory_options or {})
        self.search_path = None if search_path is None else str(search_path)
        load_factory(self.factory, self.search_path)  # a typo fails now, not in every trial

    def unablated(self):
        """The user's model before any removal (weights from the global RNG of the caller)."""
        import torch

        model = load_factory(self.factory, self.search_path)(**self.factory_options)
        if not isinstance(model, torch.nn.Module):
            raise ConfigError(
                f"model factory {self.factory!r} must return a torch.nn.Module, got {type(model).__name__}"
            )
        return model

    def build(self, arch: Architecture, input_shape: tuple[int, ...], num_classes: int):
        from .components import remove_modules

        return remove_modules(self.unablated(), self.space.removed(arch))

    def config(self) -> dict[str, Any]:
        return {**super().config(), "factory": self.factory, "factory_options": self.factory_options,
                "search_path": self.search_path}


class FeatureAblationEvaluator(_AblationTrainer):
    """Train ``model`` (logistic | mlp on the flattened input, or a factory 'package.module:function')
    with the member's features along ``axis`` masked to their training mean."""

    name = "ablation_features"

    def __init__(
        self,
        space: Any,
        axis: str = "channel",
        model: str = "logistic",
        hidden: int = 32,
        factory_options: Mapping[str, Any] | None = None,
        search_path: str | None = None,
        **trainer_options: Any,
    ) -> None:
        from .features import AXES

        super().__init__(space, **trainer_options)
        if axis not in AXES:
            raise ConfigError(f"parameter axis must be one of {', '.join(AXES)}, got {axis!r}")
        if not isinstance(model, str) or (model not in FEATURE_MODELS and ":" not in model):
            raise ConfigError(
                f"parameter model must be one of {FEATURE_MODELS} or 'package.module:function', got {model!r}"
            )
        check_int(type(self).__name__, "hidden", hidden, 1)
        self.axis = axis
        self.model = model
        self.hidden = int(hidden)
        self.factory_options = dict(factory_options or {})
        self.search_path = None if search_path is None else str(search_path)
        if ":" in model:
            load_factory(model, self.search_path)

    def build(self, arch: Architecture, input_shape: tuple[int, ...], num_classes: int):
        import torch
        from torch import nn

        from .features import axis_dim
        from .mask import InputMask

        if self.model == "logistic":
            inner = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), num_classes))
        elif self.model == "mlp":
            inner = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), self.hidden), nn.ReLU(),
                                  nn.Linear(self.hidden, num_classes))
        else:
            inner = load_factory(self.model, self.search_path)(**self.factory_options)
        keep = torch.ones(input_shape)
        removed = self.space.removed(arch)
        if removed:
            keep.index_fill_(axis_dim(self.axis, input_shape), torch.tensor(removed), 0.0)
        return nn.Sequential(InputMask(keep), inner)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "axis": self.axis, "model": self.model, "hidden": self.hidden,
                "factory_options": self.factory_options, "search_path": self.search_path}

