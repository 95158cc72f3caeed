"""Study configuration (YAML, CLI flags or Python), validated once with pydantic.

The config is stored with the study, so ``resume`` rebuilds exactly the same components.
Component options are passed to the component's constructor, which validates them itself.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError
from .objectives import parse_objectives
from .registry import EVALUATORS, EXECUTORS, SPACES, STRATEGIES, resolve

DEFAULT_EVALUATOR = {"nb201": "nb201", "nb101": "nb101", "nb101-pool": "nb101", "chain": "trainer", "unet": "segmentation"}


class StudyConfig(BaseModel):
    """Everything needed to build (and later rebuild) a study."""

    model_config = ConfigDict(extra="forbid")

    name: Optional[str] = None
    space: str = "nb201"
    space_options: dict[str, Any] = Field(default_factory=dict)
    strategy: str = "evolution"
    strategy_options: dict[str, Any] = Field(default_factory=dict)
    evaluator: Optional[str] = None
    evaluator_options: dict[str, Any] = Field(default_factory=dict)
    dataset: Optional[str] = None
    data: Optional[str] = None
    fidelity: Optional[int] = Field(default=None, gt=0)
    objectives: list[str] = Field(default_factory=lambda: ["valid_accuracy:max"])
    constraints: list[str] = Field(default_factory=list)
    trials: Optional[int] = Field(default=100, ge=0)
    timeout: Optional[float] = Field(default=None, gt=0)
    seed: int = Field(default=0, ge=0)
    storage: str = "nasforge.db"
    executor: str = "serial"
    workers: int = Field(default=1, ge=1)
    executor_options: dict[str, Any] = Field(default_factory=dict)
    scheduler: Optional[str] = None
    scheduler_options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("space", "strategy", "evaluator", "executor")
    @classmethod
    def _registered(cls, v: Optional[str], info: Any) -> Optional[str]:
        return None if v is None else _known(info.field_name, v, _TABLES[info.field_name])

    @field_validator("objectives")
    @classmethod
    def _objectives(cls, v: list[str]) -> list[str]:
        return [str(o) for o in parse_objectives(v)]

    @property
    def study_name(self) -> str:
        return self.name or f"{self.space}-{self.strategy}-{self.dataset or 'default'}-s{self.seed}"

    @property
    def evaluator_name(self) -> str:
        return self.evaluator or DEFAULT_EVALUATOR.get(self.space, self.space)


_TABLES = {"space": SPACES, "strategy": STRATEGIES, "evaluator": EVALUATORS, "executor": EXECUTORS}


def _known(kind: str, value: str, table: dict[str, str]) -> str:
    if value not in table:
        raise ValueError(f"unknown {kind} {value!r}; choose one of: {', '.join(sorted(table))}")
    return value


def parse_config(data: dict[str, Any]) -> StudyConfig:
    """Validate a config mapping; the first problem becomes one ConfigError line."""
    if not isinstance(data, dict):
        raise ConfigError(f"config must be a mapping of fields, got {type(data).__name__}")
    try:
        return StudyConfig(**data)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc)) from None


def load_config_file(path: str | Path) -> dict[str, Any]:
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"config file {str(path)!r}{where} is not valid YAML") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a mapping of fields")
    return data


def _one_line(exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "config"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        allowed = ", ".join(StudyConfig.model_fields)
        return f"unknown config field {field!r}; allowed fields: {allowed}"
    got = err.get("input")
    suffix = "" if isinstance(got, dict) or repr(got) in msg else f", got {got!r}"
    return f"config field {field!r}: {msg}{suffix}"


# --- building components -----------------------------------------------------------------------


def build_components(config: StudyConfig) -> dict[str, Any]:
    """Instantiate space, strategy, evaluator and executor; ConfigError on the first bad option."""
    objectives = parse_objectives(config.objectives)
    space = _construct("space", config.space, (), config.space_options)
    strategy = _construct(
        "strategy",
        config.strategy,
        (space,),
        {"seed": config.seed, "objectives": objectives, **config.strategy_options},
    )
    evaluator_kwargs = dict(config.evaluator_options)
    if config.dataset is not None:
        evaluator_kwargs["dataset"] = config.dataset
    if config.data is not None:
        evaluator_kwargs["data_dir"] = config.data
    evaluator = _construct("evaluator", config.evaluator_name, (space,), evaluator_kwargs)
    executor = _construct(
        "executor", config.executor, (), {"workers": config.workers, **config.executor_options}
    )
    _check_against_evaluator(config, evaluator, objectives)
    scheduler = None
    if config.scheduler is not None:
        from .study.schedulers import make_scheduler

        scheduler = make_scheduler(config.scheduler, evaluator, **config.scheduler_options)
    return {
        "scheduler": scheduler,
        "space": space,
        "strategy": strategy,
        "evaluator": evaluator,
        "executor": executor,
        "objectives": objectives,
    }


def build_space(stored: dict[str, Any]) -> Any:
    """The search space of a stored study config, alone (reports and export need no evaluator)."""
    if "space" not in stored:
        raise ConfigError("the study config names no space")
    return _construct("space", stored["space"], (), dict(stored.get("space_options") or {}))


def _construct(kind: str, name: str, args: tuple, kwargs: dict[str, Any]) -> Any:
    cls = resolve(kind, name)
    params = inspect.signature(cls).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        allowed = [p for p in params if p not in ("self", "space")]
        for key in kwargs:
            if key not in params:
                raise ConfigError(
                    f"{kind} {name!r} has no option {key!r}; allowed: {', '.join(allowed) or 'none'}"
                )
    try:
        return cls(*args, **kwargs)
    except ConfigError:
        raise
    except TypeError as exc:
        raise ConfigError(f"{kind} {name!r}: {exc}") from None


def _check_against_evaluator(config: StudyConfig, evaluator: Any, objectives: list) -> None:
    fidelities = evaluator.fidelities()
    if config.fidelity is not None and fidelities and config.fidelity not in fidelities:
        raise ConfigError(
            f"fidelity {config.fidelity} is not available for evaluator {config.evaluator_name!r}; "
            f"choose one of: {', '.join(map(str, fidelities))}"
        )
    from .report.pareto import Constraint

    constraints = [Constraint.parse(text) for text in config.constraints]
    known = list(evaluator.metrics())
    if known:
        used = [("objective", o.name) for o in objectives] + [("constraint", c.metric) for c in constraints]
        for what, metric in used:
            if metric not in known:
                raise ConfigError(
                    f"{what} metric {metric!r} is not produced by evaluator "
                    f"{config.evaluator_name!r}; available: {', '.join(known)}"
                )
