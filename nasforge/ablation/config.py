"""Ablation configs (YAML or dict) validated once, then turned into an Ablation and an executor."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..config import _construct, load_config_file
from ..errors import ConfigError
from .study import Ablation, FeatureAblation, ModelAblation


class FeatureSelection(BaseModel):
    """Which input features a feature ablation removes (see nasforge/ablation/features.py)."""

    model_config = ConfigDict(extra="forbid")

    axis: Optional[Literal["channel", "row", "column", "time"]] = None
    each: Union[Literal["all"], list[Union[int, str]], None] = None
    windows: Optional[int] = None
    groups: dict[str, list[Union[int, str]]] = Field(default_factory=dict)
    names: Optional[list[str]] = None


class AblationConfig(BaseModel):
    """``kind: model`` ablates modules of ``model`` (a factory 'package.module:function');
    ``kind: features`` ablates input features of ``dataset`` (any the loaders give) with ``model``
    logistic | mlp | a factory. ``training`` holds further trainer options (optimizer, ...)."""

    model_config = ConfigDict(extra="forbid")

    name: str = "ablation"
    kind: Literal["model", "features"]
    model: Optional[str] = None
    dataset: Optional[str] = None
    data: Optional[str] = None
    modules: Union[list[str], Literal["all"]] = Field(default_factory=list)
    groups: Union[list[str], dict[str, list[Union[int, str]]]] = Field(default_factory=list)
    features: Union[Literal["all"], list[Union[int, str]], FeatureSelection, None] = None
    factory_options: dict[str, Any] = Field(default_factory=dict)
    hidden: int = 32
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2])
    epochs: Optional[int] = None
    lr: Optional[float] = None
    batch_size: Optional[int] = None
    training: dict[str, Any] = Field(default_factory=dict)
    metric: str = "valid_accuracy"
    data_seed: int = 0
    executor: str = "serial"
    workers: int = Field(default=1, ge=1)
    executor_options: dict[str, Any] = Field(default_factory=dict)
    storage: Optional[str] = None


def parse_ablation_config(data: Any) -> AblationConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"ablation config must be a mapping of fields, got {type(data).__name__}")
    features = data.get("features")
    if isinstance(features, dict):  # checked on its own: a union's messages would name its members
        _validate(FeatureSelection, features, "features.")
    elif not (features is None or features == "all" or isinstance(features, list)):
        raise ConfigError(
            "ablation config field 'features' must be 'all', a list of features, or a mapping with "
            f"{', '.join(FeatureSelection.model_fields)}; got {features!r}"
        )
    return _validate(AblationConfig, data)


def _validate(model: type[BaseModel], data: dict[str, Any], prefix: str = "") -> Any:
    try:
        return model(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = prefix + (".".join(str(p) for p in err["loc"]) or "config")
        if err["type"] == "extra_forbidden":
            raise ConfigError(
                f"unknown ablation config field {where!r}; "
                f"allowed: {', '.join(prefix + f for f in model.model_fields)}"
            ) from None
        if err["type"] == "missing":
            hint = " (model or features)" if where == "kind" else ""
            raise ConfigError(f"ablation config needs field {where!r}{hint}") from None
        raise ConfigError(
            f"ablation config field {where!r}: {err['msg']}, got {err.get('input')!r}"
        ) from None


def load_ablation_file(path: str | Path) -> AblationConfig:
    return parse_ablation_config(load_config_file(path))


def build_ablation(cfg: AblationConfig, search_path: str | None = None) -> Ablation:
    """The Ablation a config describes (validating modules / features with a dry run).

    ``search_path`` is a folder appended to sys.path to find a user's factory (the config's).
    """
    training = {**cfg.training, "epochs": cfg.epochs, "lr": cfg.lr, "batch_size": cfg.batch_size,
                "split_seed": cfg.data_seed}
    common = {"seeds": cfg.seeds, "metric": cfg.metric, "data_dir": cfg.data,
              "factory_options": cfg.factory_options, "search_path": search_path, **training}
    if cfg.kind == "model":
        if not cfg.model:
            raise ConfigError("a model ablation needs model: 'package.module:function' (a factory)")
        if isinstance(cfg.groups, dict):
            raise ConfigError("groups of a model ablation are a list of module-name prefixes")
        return ModelAblation(cfg.model, modules=cfg.modules, groups=cfg.groups,
                             dataset=cfg.dataset or "digits", **common)
    if isinstance(cfg.groups, list) and cfg.groups:
        raise ConfigError("groups of a feature ablation map a group name to a list of features")
    selection = cfg.features if isinstance(cfg.features, FeatureSelection) else FeatureSelection(
        each=cfg.features)
    groups = {**selection.groups, **(cfg.groups or {})}
    return FeatureAblation(
        dataset=cfg.dataset or "wine", axis=selection.axis, each=selection.each,
        windows=selection.windows, groups=groups or None, names=selection.names,
        model=cfg.model or "logistic", hidden=cfg.hidden, **common,
    )


def build_executor(cfg: AblationConfig):
    """The executor a config names, built exactly as a search config's executor is."""
    return _construct(
        "executor", cfg.executor, (), {"workers": cfg.workers, **cfg.executor_options}
    )
