"""What the report and the dashboard read: one study's rows from the store, read-only.

Everything a view needs comes from the SQLite file (studies, trials, intermediate reports), never
from an evaluator or a running process, so a report can be made from a copied file and the
dashboard can watch a study that another process is writing. The file is opened read-only
(``mode=ro``): in WAL mode readers do not block the writer and cannot change the study.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, StorageError
from ..objectives import Objective, parse_objectives
from ..store.sqlite import SQLiteStore
from ..trial import Trial

Curves = dict[int, list[tuple[int, dict[str, Any]]]]


def open_read_only(path: str | Path) -> SQLiteStore:
    """A :class:`SQLiteStore` over ``path`` that can only read (no schema or pragma writes)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"storage file {str(path)!r} not found")
    store = SQLiteStore.__new__(SQLiteStore)
    store.path = str(path)
    store.artifacts = None  # a reader never writes artifacts
    try:
        store._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                    isolation_level=None, timeout=30.0, check_same_thread=False)
        store._db.execute("SELECT 1 FROM studies LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{str(path)!r} is not a nasforge study file: {exc}") from exc
    return store


@dataclass
class StudyData:
    """One study as the views see it: config, objectives, trials, and learning curves."""

    name: str
    config: dict[str, Any]
    created: float
    objectives: list[Objective]
    trials: list[Trial]
    curves: Curves = field(default_factory=dict)

    @property
    def is_ablation(self) -> bool:
        # `nasforge ablate` stores its config's kind (model / features) over "ablation"
        return self.config.get("kind") in ("ablation", "model", "features") and "space" not in self.config

    @property
    def space_name(self) -> str | None:
        return self.config.get("space")


@dataclass(frozen=True)
class Record:
    study_id: int
    name: str
    config: dict[str, Any]
    created: float


def record(store: SQLiteStore, name: str) -> Record:
    """The study row, reading only the columns every version of the file has (a reader cannot
    migrate an older file the way the writer does)."""
    row = store._db.execute(
        "SELECT study_id, name, config, created FROM studies WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        names = store.study_names()
        known = ", ".join(repr(n) for n in names) if names else "none"
        raise StorageError(f"no study {name!r} in {store.path}; studies there: {known}")
    return Record(row[0], row[1], json.loads(row[2]), row[3])


def load(store: SQLiteStore, name: str) -> StudyData:
    """Read study ``name`` (its trials ordered by number) and, when the store keeps them, the
    intermediate reports of its trials."""
    record_ = record(store, name)
    trials = store.trials(record_.study_id)
    curves: Curves = {}
    reader = getattr(store, "intermediate", None)  # stores from before spine v2 have none
    if reader is not None:
        try:
            curves = {int(k): list(v) for k, v in reader(record_.study_id).items()}
        except sqlite3.OperationalError:  # a file written before the table existed
            curves = {}
    return StudyData(name, record_.config, record_.created, _objectives(record_.config, trials),
                     trials, curves)


def _objectives(config: dict[str, Any], trials: list[Trial]) -> list[Objective]:
    raw = config.get("objectives") or ([config["metric"]] if config.get("metric") else None)
    if raw:
        try:
            return parse_objectives(raw)
        except ConfigError:
            pass
    n = max((len(t.values) for t in trials if t.values), default=1)
    return [Objective(f"value_{i}", "max") for i in range(n)]
