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
from ..options import Choice, Int, Map, Str, validated
from ..registry import load_object
from .features import AXES

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


BUILDER = "nasforge.ablation.evaluators:build_ablated"


def build_ablated(
    space: Any, arch: Architecture, input_shape: tuple[int, ...], num_classes: int, kind: str,
    factory: str | None = None, factory_options: Mapping[str, Any] | None = None,
    search_path: str | None = None, axis: str = "channel", model: str = "logistic", hidden: int = 32,
):
    """The network of one ablation member, untrained; the trainer's ``model_factory``.

    Being the evaluator's ``model_factory``, it is recorded with each checkpoint, so ``nasforge
    export`` rebuilds an ablation trial's network (mask or removed modules included) from the
    stored options alone. ``kind`` 'model' builds ``factory`` and removes the member's modules;
    'features' builds ``model`` behind a fixed mask of the member's features along ``axis``.
    """
    from torch import nn

    removed = space.removed(arch)
    if kind == "model":
        from .components import remove_modules

        net = load_factory(factory, search_path)(**dict(factory_options or {}))
        if not isinstance(net, nn.Module):
            raise ConfigError(f"model factory {factory!r} must return a torch.nn.Module, got {type(net).__name__}")
        return remove_modules(net, removed)
    import torch

    from .features import axis_dim
    from .mask import InputMask

    if model == "logistic":
        inner = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), num_classes))
    elif model == "mlp":
        inner = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), hidden), nn.ReLU(),
                              nn.Linear(hidden, num_classes))
    else:
        inner = load_factory(model, search_path)(**dict(factory_options or {}))
    keep = torch.ones(tuple(input_shape))
    if removed:
        keep.index_fill_(axis_dim(axis, input_shape), torch.tensor(removed), 0.0)
    return nn.Sequential(InputMask(keep), inner)


class _AblationTrainer(TrainerEvaluator):
    """What both share: the builder above, trial seed from the member, ablation defaults."""

    def __init__(self, space: Any, build_options: Mapping[str, Any], **trainer_options: Any) -> None:
        if getattr(space, "name", None) != "ablation":
            raise ConfigError(
                f"evaluator {self.name!r} needs the 'ablation' space, got {getattr(space, 'name', space)!r}"
            )
        for key in ("model_factory", "model_options"):
            if key in trainer_options:
                raise ConfigError(f"evaluator {self.name!r} sets {key} itself; use factory / factory_options")
        super().__init__(space, **{**TRAINING_DEFAULTS, **trainer_options}, model_factory=BUILDER,
                         model_options=dict(build_options))

    def evaluate(
        self, arch: Architecture, fidelity: int | None = None, seed: int = 0, context: Any = None
    ) -> dict[str, Any]:
        replicate = self.space.seed_of(arch)
        metrics = self.train(arch, fidelity, replicate, context).metrics
        # the seed that trained it (the trial's own seed is the study's per-number seed, unused here)
        metrics["ablation_seed"] = replicate
        metrics["removed"] = len(self.space.removed(arch))
        return metrics

    def metrics(self) -> Sequence[str]:
        return (*super().metrics(), "ablation_seed", "removed")


class ModelAblationEvaluator(_AblationTrainer):
    """Build ``factory(**factory_options)`` (an ``nn.Module``), remove the member's modules, train.

    ``factory`` is 'package.module:function'; ``search_path`` is a folder appended to sys.path to
    find it (the CLI passes the config's folder).
    """

    name = "ablation_model"
    options = {"factory": Str(), "factory_options": Map(none=True), "search_path": Str(none=True)}

    @validated
    def __init__(
        self,
        space: Any,
        factory: str = "nasforge.ablation.zoo:digits_cnn",
        factory_options: Mapping[str, Any] | None = None,
        search_path: str | None = None,
        **trainer_options: Any,
    ) -> None:
        load_factory(factory, search_path)  # a typo fails now, not in every trial
        options = {"kind": "model", "factory": factory, "factory_options": dict(factory_options or {}),
                   "search_path": None if search_path is None else str(search_path)}
        super().__init__(space, options, **trainer_options)


class FeatureAblationEvaluator(_AblationTrainer):
    """Train ``model`` (logistic | mlp on the flattened input, or a factory 'package.module:function')
    with the member's features along ``axis`` masked to their training mean."""

    name = "ablation_features"
    options = {"axis": Choice(*AXES), "model": Str(), "hidden": Int(low=1),
               "factory_options": Map(none=True), "search_path": Str(none=True)}

    @validated
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
        if model not in FEATURE_MODELS and ":" not in model:
            raise ConfigError(
                f"parameter model of {type(self).__name__} must be one of {FEATURE_MODELS} or "
                f"'package.module:function', got {model!r}"
            )
        if ":" in model:
            load_factory(model, search_path)
        options = {"kind": "features", "axis": axis, "model": model, "hidden": int(hidden),
                   "factory_options": dict(factory_options or {}),
                   "search_path": None if search_path is None else str(search_path)}
        super().__init__(space, options, **trainer_options)
