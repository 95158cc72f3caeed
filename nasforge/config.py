"""Study configuration (YAML, CLI flags or Python), validated once with pydantic.

The config is stored with the study, so ``resume`` rebuilds exactly the same components.
Component options are passed to the component's constructor, which validates them itself.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import registry
from .errors import ConfigError
from .objectives import parse_objectives, unknown_metric
from .registry import resolve

#: a budget beyond this is a typo (10**20), not a study anyone runs
MAX_TRIALS = 10_000_000


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
    trials: Optional[int] = Field(default=100, ge=1, le=MAX_TRIALS)
    timeout: Optional[float] = Field(default=None, gt=0)
    seed: int = Field(default=0, ge=0)
    storage: str = "nasforge.db"
    executor: str = "serial"
    workers: int = Field(default=1, ge=1)
    executor_options: dict[str, Any] = Field(default_factory=dict)
    scheduler: Optional[str] = None
    scheduler_options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("space", "strategy", "evaluator", "executor", "scheduler")
    @classmethod
    def _registered(cls, v: Optional[str], info: Any) -> Optional[str]:
        """A registered name (plugins included) or an importable 'package.module:Class'."""
        if v is not None and not registry.is_known(info.field_name, v):
            raise ValueError(registry.unknown(info.field_name, v))
        return v

    @model_validator(mode="after")
    def _workers_pick_the_pool(self) -> "StudyConfig":
        """``workers: 4`` without an executor means the local process pool (as Optuna's n_jobs)."""
        if self.workers > 1 and "executor" not in self.model_fields_set:
            self.executor = "local"
        return self

    @field_validator("objectives")
    @classmethod
    def _objectives(cls, v: list[str]) -> list[str]:
        return [str(o) for o in parse_objectives(v)]

    @property
    def study_name(self) -> str:
        return self.name or (
            f"{_short(self.space)}-{_short(self.strategy)}-{self.dataset or 'default'}-s{self.seed}"
        )

    @property
    def evaluator_name(self) -> str:
        return self.evaluator or registry.DEFAULT_EVALUATOR.get(self.space, self.space)


def _short(name: str) -> str:
    """'my_pkg.spaces:MySpace' -> 'MySpace' (for derived study names)."""
    return name.rpartition(":")[2] if ":" in name else name


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
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError:
        raise ConfigError(f"config file {str(path)!r} is not UTF-8 text (a binary file?)") from None
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
    suffix = "" if isinstance(got, dict) or repr(got) in msg or "did you mean" in msg else f", got {got!r}"
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
    from .pareto import Constraint

    constraints = [Constraint.parse(text) for text in config.constraints]
    known = list(evaluator.metrics())
    if known:
        used = [("objective", o.name) for o in objectives] + [("constraint", c.metric) for c in constraints]
        for what, metric in used:
            if metric not in known:
                raise ConfigError(unknown_metric(
                    metric, known, f"{what} metric", f" for evaluator {config.evaluator_name!r}"))


def config_from_objects(
    space: Any, strategy: Any, evaluator: Any, executor: Any = None, scheduler: Any = None
) -> dict[str, Any]:
    """The config fields that rebuild components a user made in Python.

    Names are registry names when registered, else ``package.module:Class``. Options come from the
    recorded constructor arguments; when any component's cannot be stored (not JSON, or a class
    outside the Component bases) only the names are returned, and the study can be reported from
    the CLI but reopened only from Python.
    """
    from .options import init_options

    parts = {"space": space, "strategy": strategy, "evaluator": evaluator}
    if executor is not None:
        parts["executor"] = executor
    if scheduler is not None:
        parts["scheduler"] = scheduler
    names = {kind: registry.spelling(kind, obj) for kind, obj in parts.items()}
    options = {kind: init_options(obj) for kind, obj in parts.items()}
    if any(value is None for value in options.values()) or any(
        ":" not in n and not registry.is_known(k, n) for k, n in names.items()
    ):
        return names
    out: dict[str, Any] = dict(names)
    for kind, value in options.items():
        out[f"{kind}_options"] = value
    if executor is not None:
        out["workers"] = int(out["executor_options"].pop("workers", 1))
    return out


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Config values with command-line values on top, without clashes between them.

    A different executor drops the config's executor settings (its ``workers`` and
    ``executor_options`` belong to the other executor), and ``workers`` > 1 with no executor given
    on a config that runs serially means the local process pool.
    """
    out = dict(data)
    given = {k: v for k, v in overrides.items() if v is not None}
    if "executor" in given and given["executor"] != out.get("executor", "serial"):
        out.pop("executor_options", None)
        if "workers" not in given:
            out.pop("workers", None)
    workers = given.get("workers")
    if "executor" not in given and isinstance(workers, int) and workers > 1:
        if out.get("executor", "serial") == "serial":
            out["executor"] = "local"
            out.pop("executor_options", None)
    out.update(given)
    return out
