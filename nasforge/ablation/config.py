"""Ablation configs (YAML or dict) validated once, then turned into an Ablation and an executor."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..config import _construct, load_config_file
from ..errors import ConfigError
from .study import Ablation, FeatureAblation, ModelAblation


class AblationConfig(BaseModel):
    """``kind: model`` ablates modules of ``model`` (a factory 'package.module:function');
    ``kind: features`` ablates input features of a tabular ``dataset`` with ``model``
    logistic|mlp."""

    model_config = ConfigDict(extra="forbid")

    name: str = "ablation"
    kind: Literal["model", "features"]
    model: Optional[str] = None
    dataset: Optional[str] = None
    data: Optional[str] = None
    modules: Union[list[str], Literal["all"]] = Field(default_factory=list)
    groups: Union[list[str], dict[str, list[str]]] = Field(default_factory=list)
    features: Union[list[str], Literal["all"]] = "all"
    factory_options: dict[str, Any] = Field(default_factory=dict)
    hidden: int = 32
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2])
    epochs: Optional[int] = None
    lr: float = 0.01
    batch_size: Optional[int] = None
    metric: str = "valid_accuracy"
    data_seed: int = 0
    executor: str = "serial"
    workers: int = Field(default=1, ge=1)
    executor_options: dict[str, Any] = Field(default_factory=dict)
    storage: Optional[str] = None


def parse_ablation_config(data: Any) -> AblationConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"ablation config must be a mapping of fields, got {type(data).__name__}")
    try:
        return AblationConfig(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "config"
        if err["type"] == "extra_forbidden":
            raise ConfigError(
                f"unknown ablation config field {where!r}; "
                f"allowed: {', '.join(AblationConfig.model_fields)}"
            ) from None
        if err["type"] == "missing":
            hint = " (model or features)" if where == "kind" else ""
            raise ConfigError(f"ablation config needs field {where!r}{hint}") from None
        raise ConfigError(
            f"ablation config field {where!r}: {err['msg']}, got {err.get('input')!r}"
        ) from None


def load_ablation_file(path: str | Path) -> AblationConfig:
    return parse_ablation_config(load_config_file(path))


def build_ablation(cfg: AblationConfig) -> Ablation:
    """The Ablation a config describes (validating modules/features with a dry run)."""
    common = {"seeds": cfg.seeds, "lr": cfg.lr, "metric": cfg.metric, "data_seed": cfg.data_seed}
    if cfg.epochs is not None:
        common["epochs"] = cfg.epochs
    if cfg.batch_size is not None:
        common["batch_size"] = cfg.batch_size
    if cfg.kind == "model":
        if not cfg.model:
            raise ConfigError("a model ablation needs model: 'package.module:function' (a factory)")
        if isinstance(cfg.groups, dict):
            raise ConfigError("groups of a model ablation are a list of module-name prefixes")
        return ModelAblation(
            cfg.model, modules=cfg.modules, groups=cfg.groups, dataset=cfg.dataset or "digits",
            data_dir=cfg.data, factory_options=cfg.factory_options, **common,
        )
    if isinstance(cfg.groups, list) and cfg.groups:
        raise ConfigError(
            "groups of a feature ablation map a group name to a list of feature names"
        )
    return FeatureAblation(
        dataset=cfg.dataset or "wine", features=cfg.features, groups=cfg.groups or None,
        model=cfg.model or "logistic", hidden=cfg.hidden, **common,
    )


def build_executor(cfg: AblationConfig):
    """The executor a config names, built exactly as a search config's executor is."""
    return _construct(
        "executor", cfg.executor, (), {"workers": cfg.workers, **cfg.executor_options}
    )
