"""Creating and loading studies, from component objects or from a config.

Studies created from a config can be resumed by name alone (the config is stored with them);
studies created from objects are resumed by passing the same objects to ``load_study``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..config import (
    StudyConfig,
    apply_overrides,
    build_components,
    config_from_objects,
    parse_config,
)
from ..errors import ConfigError
from ..evaluators.base import Evaluator
from ..objectives import Objective, parse_objectives
from ..spaces.base import SearchSpace
from ..store.sqlite import SQLiteStore, check_study_name
from ..strategies.base import Strategy
from .executors import Executor
from .study import Study


def _store(storage: str | Path | SQLiteStore | None) -> SQLiteStore:
    if isinstance(storage, SQLiteStore):
        return storage
    return SQLiteStore(":memory:" if storage is None else storage)


def create_study(
    *,
    name: str,
    space: SearchSpace,
    strategy: Strategy,
    evaluator: Evaluator,
    objectives: Sequence[str | Objective] = ("valid_accuracy:max",),
    storage: str | Path | SQLiteStore | None = None,
    seed: int = 0,
    fidelity: int | None = None,
    executor: Executor | None = None,
    config: dict[str, Any] | None = None,
    scheduler: Any = None,
) -> Study:
    """A new study from component objects (``storage=None`` keeps it in memory)."""
    parsed = parse_objectives(objectives)
    if [str(o) for o in parsed] != [str(o) for o in strategy.objectives]:
        raise ConfigError(
            f"strategy objectives {[str(o) for o in strategy.objectives]} differ from the study's "
            f"{[str(o) for o in parsed]}; pass objectives= to the strategy too"
        )
    if executor is not None:
        executor.check()  # e.g. an unreachable Ray cluster: fail before the study (or file) exists
    store = _store(storage)
    stored = dict(config or {})
    # names (or module:Class) and, when recorded, options: so the CLI can report and resume it
    rebuild = config_from_objects(space, strategy, evaluator, executor, scheduler)
    if config is None:
        stored.update(rebuild)
    stored.setdefault("space", rebuild["space"])
    stored.setdefault("strategy", rebuild["strategy"])
    stored.setdefault("objectives", [str(o) for o in parsed])
    stored.setdefault("seed", seed)
    stored.setdefault("fidelity", fidelity)
    stored.setdefault("evaluator_info", evaluator.describe())
    record = store.create_study(name, stored)
    return Study(record, store, space, strategy, evaluator, parsed, seed, fidelity, executor, scheduler)


def create_study_from_config(config: StudyConfig | dict[str, Any]) -> Study:
    """Validate, build every component, and only then create the study in the store."""
    cfg = config if isinstance(config, StudyConfig) else parse_config(config)
    if cfg.name is not None:
        check_study_name(cfg.name)  # an empty name is refused, not silently replaced
    parts = build_components(cfg)
    parts["evaluator"].prepare()
    if cfg.name is None:  # name the dataset the evaluator actually uses, not 'default'
        dataset = cfg.dataset or parts["evaluator"].describe().get("dataset") or "default"
        cfg = cfg.model_copy(update={"name": cfg.model_copy(update={"dataset": dataset}).study_name})
    stored = cfg.model_dump()
    stored["dataset"] = cfg.dataset or parts["evaluator"].describe().get("dataset")
    return create_study(
        name=cfg.study_name,
        space=parts["space"],
        strategy=parts["strategy"],
        evaluator=parts["evaluator"],
        objectives=parts["objectives"],
        storage=cfg.storage,
        seed=cfg.seed,
        fidelity=_fidelity(cfg, parts["evaluator"]),
        executor=parts["executor"],
        scheduler=parts["scheduler"],
        config=stored,
    )


def load_study(
    name: str,
    storage: str | Path | SQLiteStore,
    overrides: dict[str, Any] | None = None,
) -> Study:
    """Reopen a config-created study, rebuilding its components and restoring the strategy state.

    ``overrides`` may change how it runs (data, workers, executor), never what it searches.
    """
    if not isinstance(storage, SQLiteStore) and not Path(storage).is_file():
        raise ConfigError(f"storage file {str(storage)!r} not found")  # before sqlite creates it
    store = _store(storage)
    record = store.get_study(name)
    if "space_options" not in record.config:
        raise ConfigError(
            f"study {name!r} was created from Python objects; reopen it with Study(...) "
            "and the same components"
        )
    allowed = {"data", "workers", "executor", "executor_options", "timeout", "trials"}
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    bad = sorted(set(overrides) - allowed)
    if bad:
        raise ConfigError(f"cannot override {bad} on resume; allowed: {sorted(allowed)}")
    data = {k: v for k, v in record.config.items() if k in StudyConfig.model_fields}
    cfg = parse_config(apply_overrides(data, overrides))
    parts = build_components(cfg)
    return Study(
        record,
        store,
        parts["space"],
        parts["strategy"],
        parts["evaluator"],
        parts["objectives"],
        cfg.seed,
        _fidelity(cfg, parts["evaluator"]),
        parts["executor"],
        parts["scheduler"],
    )


def delete_study(name: str, storage: str | Path | SQLiteStore) -> None:
    """Remove a study's rows and its artifact folder (checkpoints, weights)."""
    if not isinstance(storage, SQLiteStore) and not Path(storage).is_file():
        raise ConfigError(f"storage file {str(storage)!r} not found")
    store = _store(storage)
    from .study import Lease

    store.check_lease(store.get_study(name).study_id, name, Lease.stale_after_s)
    store.delete_study(name)
    store.artifacts.remove_study(name)


def _fidelity(cfg: StudyConfig, evaluator: Evaluator) -> int | None:
    """The configured fidelity, else the evaluator's default, so trials record what they ran at."""
    return cfg.fidelity if cfg.fidelity is not None else evaluator.default_fidelity()


def stored_config(study: Study) -> StudyConfig | None:
    """The validated config a study was created with (None for object-built studies)."""
    try:
        data = {k: v for k, v in study.record.config.items() if k in StudyConfig.model_fields}
        return parse_config(data)
    except ConfigError:
        return None
