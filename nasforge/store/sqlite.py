"""SQLite study store: every trial and the strategy checkpoint, crash-safe by construction.

One transaction records newly asked trials together with the strategy state after the ask, and one
records a finished trial together with the state after the tell. So after a ``kill -9`` at any
moment the file holds a consistent pair (state, trials): trials still RUNNING are exactly the ones
asked but not told, and the study re-runs them rather than asking again. WAL journaling keeps
writes cheap and lets readers (``nasforge report``) look at a study while it runs.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..errors import ConfigError, StorageError
from ..trial import Trial, TrialState
from .artifacts import ArtifactStore

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
CREATE TABLE IF NOT EXISTS leases (
    study_id INTEGER PRIMARY KEY REFERENCES studies(study_id),
    token TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    acquired REAL NOT NULL,
    heartbeat REAL NOT NULL
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
            if not os.access(parent, os.W_OK):
                raise StorageError(
                    f"storage folder {str(parent)!r} is not writable; choose a --storage path in a "
                    "folder you can write to"
                )
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
            tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if tables and "studies" not in tables:
                self._db.close()
                raise StorageError(
                    f"{self.path!r} is an SQLite file of another program (tables: "
                    f"{', '.join(sorted(tables)[:5])}); nasforge will not add its tables to it"
                )
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
        check_study_name(name)
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
        """Record newly asked trials as RUNNING together with the strategy state after the ask.

        A trial row is never replaced: a number that exists means another process wrote to this
        study, and the whole ask is refused.
        """
        try:
            with self._tx():
                self._db.executemany(
                    "INSERT INTO trials (study_id, number, arch, seed, fidelity, state, started) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (study_id, t.number, t.arch, t.seed, t.fidelity, TrialState.RUNNING.value,
                         t.started)
                        for t in trials
                    ],
                )
                self._save_state(study_id, state)
        except sqlite3.IntegrityError:
            raise StorageError(
                f"trial numbers {[t.number for t in trials]} already exist in study {study_id}: "
                "another process is writing to it"
            ) from None

    # --- ownership -----------------------------------------------------------------------------------

    def acquire_lease(self, study_id: int, study: str, stale_after: float) -> str:
        """Become the study's only runner; returns the lease token.

        A lease held by a live process is refused with who holds it and since when. A lease whose
        holder is gone (its pid no longer exists on this host, or no heartbeat for ``stale_after``
        seconds) is taken over, which is how ``resume`` continues after a kill -9.
        """
        token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        now = time.time()
        with self._tx():
            self.check_lease(study_id, study, stale_after)
            self._db.execute(
                "INSERT OR REPLACE INTO leases (study_id, token, host, pid, acquired, heartbeat) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (study_id, token, socket.gethostname(), os.getpid(), now, now),
            )
        return token

    def check_lease(self, study_id: int, study: str, stale_after: float) -> None:
        """StorageError naming the holder when a live process runs the study."""
        now = time.time()
        row = self._db.execute(
            "SELECT host, pid, acquired, heartbeat FROM leases WHERE study_id = ?", (study_id,)
        ).fetchone()
        if row is not None and _holder_alive(row[0], row[1], row[3], stale_after, now):
            host, pid, acquired, beat = row
            since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(acquired))
            raise StorageError(
                f"study {study!r} is being run by pid {pid} on {host} since {since} (last "
                f"heartbeat {now - beat:.0f} s ago); one process runs a study: scale out with "
                "--workers or the Ray executor instead"
            )

    def renew_lease(self, study_id: int, token: str) -> bool:
        """Heartbeat; False when the lease was taken over (the caller must stop writing)."""
        with self._tx():
            cursor = self._db.execute(
                "UPDATE leases SET heartbeat = ? WHERE study_id = ? AND token = ?",
                (time.time(), study_id, token),
            )
        return cursor.rowcount == 1

    def release_lease(self, study_id: int, token: str) -> None:
        with self._tx():
            self._db.execute("DELETE FROM leases WHERE study_id = ? AND token = ?", (study_id, token))

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
            for table in ("intermediate", "leases", "trials", "studies"):
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


MAX_NAME_LENGTH = 100


def check_study_name(name: object) -> None:
    """Names are shown in lists and used as folder names: printable text of bounded length."""
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"study name must be non-empty text, got {name!r}")
    if len(name) > MAX_NAME_LENGTH or not name.isprintable() or name != name.strip():
        raise ConfigError(
            f"study name {name[:120]!r} is not allowed: use up to {MAX_NAME_LENGTH} printable "
            "characters without leading or trailing spaces"
        )


def _holder_alive(host: str, pid: int, heartbeat: float, stale_after: float, now: float) -> bool:
    if now - heartbeat > stale_after:
        return False
    if host != socket.gethostname():
        return True  # another machine: only its heartbeat can tell
    if pid == os.getpid():
        return False  # a dead holder's pid reused by this very process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
