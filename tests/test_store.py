"""The SQLite store on a real file: studies by name, trials, checkpoints, clear errors."""

from __future__ import annotations

import sqlite3

import pytest

from nasforge.errors import StorageError
from nasforge.store import SQLiteStore
from nasforge.trial import Trial, TrialState


def test_trials_and_state_survive_reopening(tmp_path):
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    record = store.create_study("a", {"space": "nb201"})
    store.start_trials(record.study_id, [Trial(0, "x", 7, 200), Trial(1, "y", 8, 200)], {"k": 1})
    done = Trial(0, "x", 7, 200, TrialState.COMPLETE, [91.5], {"valid_accuracy": 91.5}, None, 1.0, 2.5)
    store.finish_trial(record.study_id, done, {"k": 2})
    store.close()

    again = SQLiteStore(path)
    record = again.get_study("a")
    assert record.strategy_state == {"k": 2}
    trials = again.trials(record.study_id)
    assert [(t.number, t.state) for t in trials] == [(0, TrialState.COMPLETE), (1, TrialState.RUNNING)]
    assert trials[0].values == [91.5] and trials[0].duration == pytest.approx(1.5)
    assert again.counts(record.study_id)["RUNNING"] == 1
    assert again.next_number(record.study_id) == 2
    # WAL journaling is what lets `report` read while a search writes
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_several_studies_per_file_and_name_errors(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    a = store.create_study("a", {})
    b = store.create_study("b", {})
    store.start_trials(a.study_id, [Trial(0, "x", 1, None)], {})
    assert store.trials(b.study_id) == []
    assert store.study_names() == ["a", "b"]
    with pytest.raises(StorageError, match="already exists"):
        store.create_study("a", {})
    with pytest.raises(StorageError, match="studies there: 'a', 'b'"):
        store.get_study("c")


def test_not_a_study_file(tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello, this is not sqlite at all" * 10)
    with pytest.raises(StorageError, match="not a nasforge study file"):
        SQLiteStore(bogus)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(StorageError, match="does not exist"):
        SQLiteStore(tmp_path / "nope" / "s.db")
