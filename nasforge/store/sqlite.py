"""SQLite study store: every trial and the strategy checkpoint, crash-safe by construction.

One transaction records newly asked trials together with the strategy state after the ask, and one
records a finished trial together with the state after the tell. So after a ``kill -9`` at any
moment the file holds a consistent pair (state, trials): trials still RUNNING are exactly the ones
asked but not told, and the study re-runs them rather than asking again. WAL journaling keeps
writes cheap and lets readers (``nasforge report``) look at a study while it runs.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..errors import StorageError
from .artifacts import ArtifactStore
from ..trial import Trial, TrialState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS studies (
    study_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    config TEXT NOT NULL,
    strategy_state TEXT,
    created REAL NOT NULL,
    scheduler_state TEXT
);
CREATE TABLE IF NOT EXISTS trials (
    study_id INTEGER NOT NULL REFERENCES studies(study_id),
    number INTEGER NOT NULL,
    arch TEXT NOT NULL,
    seed INTEGER NOT NULL,
    fidelity INTEGER,
    state TEXT NOT NULL,
    vals TEXT,
    metrics TEXT,
    error TEXT,
    started REAL,
    finished REAL,
    PRIMARY KEY (study_id, number)
);
CREATE TABLE IF NOT EXISTS intermediate (
    study_id INTEGER NOT NULL REFERENCES studies(study_id),
    number INTEGER NOT NULL,
    step INTEGER NOT NULL,
    metrics TEXT NOT NULL,
    PRIMARY KEY (study_id, number, step)
);
"""

Reports = Iterable[tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class StudyRecord:
    """A study row: its id, name, the config it was created with, and the last strategy and
    scheduler states (saved in the same transactions as the trials)."""

    study_id: int
    name: str
    config: dict[str, Any]
    strategy_state: dict[str, Any] | None
    created: float
    scheduler_state: dict[str, Any] | None = None


class SQLiteStore:
    """Study store over one SQLite file (``":memory:"`` for tests and throwaway studies)."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self.artifacts = ArtifactStore(self.path)
        if self.path != ":memory:":
            parent = Path(self.path).expanduser().resolve().parent
            if not parent.is_dir():
                raise StorageError(f"storage folder {str(parent)!r} does not exist")
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable against process crashes (kill -9); only power loss can lose the tail.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(studies)")}
            if "scheduler_state" not in columns:  # a file written before schedulers were saved
                self._db.execute("ALTER TABLE studies ADD COLUMN scheduler_state TEXT")
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{self.path!r} is not a nasforge study file: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    # --- studies ---------------------------------------------------------------------------------

    def create_study(self, name: str, config: dict[str, Any]) -> StudyRecord:
        try:
            with self._tx():
                self._db.execute(
                    "INSERT INTO studies (name, config, created) VALUES (?, ?, ?)",
                    (name, json.dumps(config), time.time()),
                )
        except sqlite3.IntegrityError:
            raise StorageError(
                f"study {name!r} already exists in {self.path}; resume it with "
                f"'nasforge resume {name}' or choose another --name"
            ) from None
        return self.get_study(name)

    def get_study(self, name: str) -> StudyRecord:
        row = self._db.execute(
            "SELECT study_id, name, config, strategy_state, created, scheduler_state FROM studies "
            "WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            names = self.study_names()
            known = ", ".join(repr(n) for n in names) if names else "none"
            raise StorageError(f"no study {name!r} in {self.path}; studies there: {known}")
        state = json.loads(row[3]) if row[3] else None
        scheduler = json.loads(row[5]) if row[5] else None
        return StudyRecord(row[0], row[1], json.loads(row[2]), state, row[4], scheduler)

    def study_names(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT name FROM studies ORDER BY study_id")]

    def counts(self, study_id: int) -> dict[str, int]:
        counts = {s.value: 0 for s in TrialState}
        for state, n in self._db.execute(
            "SELECT state, COUNT(*) FROM trials WHERE study_id = ? GROUP BY state", (study_id,)
        ):
            counts[state] = n
        return counts

    # --- trials ------------------------------------------------------------------------------------

    def start_trials(self, study_id: int, trials: Iterable[Trial], state: dict[str, Any]) -> None:
        """Record newly asked trials as RUNNING together with the strategy state after the ask."""
        with self._tx():
            self._db.executemany(
                "INSERT OR REPLACE INTO trials (study_id, number, arch, seed, fidelity, state, "
                "started) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (study_id, t.number, t.arch, t.seed, t.fidelity, TrialState.RUNNING.value, t.started)
                    for t in trials
                ],
            )
            self._save_state(study_id, state)

    def finish_trial(
        self,
        study_id: int,
        trial: Trial,
        state: dict[str, Any] | None,
        scheduler_state: dict[str, Any] | None = None,
        reports: Reports = (),
    ) -> None:
        """Record a trial's final state, its intermediate reports, and the strategy (and
        scheduler) state after the tell, in one transaction."""
        with self._tx():
            self._save_reports(study_id, trial.number, reports)
            if scheduler_state is not None:
                self._save_scheduler(study_id, scheduler_state)
            self._db.execute(
                "UPDATE trials SET state = ?, vals = ?, metrics = ?, error = ?, started = ?, "
                "finished = ?, fidelity = ? WHERE study_id = ? AND number = ?",
                (
                    trial.state.value,
                    None if trial.values is None else json.dumps(trial.values),
                    json.dumps(trial.metrics),
                    trial.error,
                    trial.started,
                    trial.finished,
                    trial.fidelity,
                    study_id,
                    trial.number,
                ),
            )
            if state is not None:
                self._save_state(study_id, state)

    def promote_trial(
        self,
        study_id: int,
        number: int,
        fidelity: int,
        scheduler_state: dict[str, Any] | None,
        reports: Reports = (),
    ) -> None:
        """A trial runs on at ``fidelity``: store its reports so far, its new fidelity and the
        scheduler state that decided it, together (a kill now re-runs it at ``fidelity``)."""
        with self._tx():
            self._save_reports(study_id, number, reports)
            self._db.execute(
                "UPDATE trials SET fidelity = ? WHERE study_id = ? AND number = ?",
                (fidelity, study_id, number),
            )
            if scheduler_state is not None:
                self._save_scheduler(study_id, scheduler_state)

    def intermediate(self, study_id: int) -> dict[int, list[tuple[int, dict[str, Any]]]]:
        """Every trial's intermediate reports: ``{number: [(step, metrics), ...]}`` by step."""
        out: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        for number, step, metrics in self._db.execute(
            "SELECT number, step, metrics FROM intermediate WHERE study_id = ? ORDER BY number, step",
            (study_id,),
        ):
            out.setdefault(number, []).append((step, json.loads(metrics)))
        return out

    def delete_study(self, name: str) -> None:
        """Remove a study, its trials and reports (its artifact folder is the caller's to remove)."""
        study_id = self.get_study(name).study_id
        with self._tx():
            for table in ("intermediate", "trials", "studies"):
                self._db.execute(f"DELETE FROM {table} WHERE study_id = ?", (study_id,))

    def trials(self, study_id: int, states: Iterable[TrialState] | None = None) -> list[Trial]:
        query = (
            "SELECT number, arch, seed, fidelity, state, vals, metrics, error, started, finished "
            "FROM trials WHERE study_id = ?"
        )
        params: list[Any] = [study_id]
        if states is not None:
            wanted = [s.value for s in states]
            query += f" AND state IN ({','.join('?' * len(wanted))})"
            params.extend(wanted)
        query += " ORDER BY number"
        return [_trial_from_row(row) for row in self._db.execute(query, params)]

    def next_number(self, study_id: int) -> int:
        row = self._db.execute(
            "SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = ?", (study_id,)
        ).fetchone()
        return int(row[0])

    # --- internals ---------------------------------------------------------------------------------

    def _save_reports(self, study_id: int, number: int, reports: Reports) -> None:
        # a re-run after a kill reports the same steps again with the same values: replace is safe
        self._db.executemany(
            "INSERT OR REPLACE INTO intermediate (study_id, number, step, metrics) VALUES (?, ?, ?, ?)",
            [(study_id, number, int(step), json.dumps(metrics)) for step, metrics in reports],
        )

    def _save_scheduler(self, study_id: int, state: dict[str, Any]) -> None:
        self._db.execute(
            "UPDATE studies SET scheduler_state = ? WHERE study_id = ?", (json.dumps(state), study_id)
        )

    def _save_state(self, study_id: int, state: dict[str, Any]) -> None:
        self._db.execute(
            "UPDATE studies SET strategy_state = ? WHERE study_id = ?", (json.dumps(state), study_id)
        )

    def _tx(self) -> "_Transaction":
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on error (autocommit connection underneath)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


def _trial_from_row(row: tuple) -> Trial:
    number, arch, seed, fidelity, state, vals, metrics, error, started, finished = row
    return Trial(
        number=number,
        arch=arch,
        seed=seed,
        fidelity=fidelity,
        state=TrialState(state),
        values=json.loads(vals) if vals else None,
        metrics=json.loads(metrics) if metrics else {},
        error=error,
        started=started,
        finished=finished,
    )
