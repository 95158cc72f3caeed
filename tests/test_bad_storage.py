"""Storage that is not ours, and study names that would break lists or folders: one line, exit 2,
the file left byte-identical."""

from __future__ import annotations

import sqlite3

import pytest
from conftest import needs_data

from nasforge.cli.app import main


def _search(storage, data_dir, *extra):
    return ["search", "--space", "nb201", "--strategy", "random", "--trials", "2",
            "--storage", str(storage), "--data", str(data_dir), *extra]  # fmt: skip


@needs_data
def test_an_sqlite_file_of_another_program_is_left_alone(tmp_path, data_dir, capsys):
    foreign = tmp_path / "app.db"
    with sqlite3.connect(foreign) as con:
        con.execute("create table users (id integer primary key, name text)")
        con.execute("insert into users (name) values ('ada')")
    before = foreign.read_bytes()
    assert main(_search(foreign, data_dir)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "another program" in err[0] and "users" in err[0]
    assert foreign.read_bytes() == before


@needs_data
@pytest.mark.parametrize("name", ["two\nlines", "", "  padded ", "x" * 101, "tab\there"])
def test_bad_study_names_are_refused_before_anything_is_stored(tmp_path, data_dir, capsys, name):
    storage = tmp_path / "s.db"
    assert main(_search(storage, data_dir, "--name", name)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "study name" in err[0]
    if storage.exists():
        with sqlite3.connect(storage) as con:
            assert con.execute("select count(*) from studies").fetchone()[0] == 0
