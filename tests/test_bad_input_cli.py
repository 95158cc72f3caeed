"""Bad input over every command, table-driven: exit code 2, one line naming the bad value, and the
study file left byte-identical."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import needs_data

from nasforge.cli.app import main

pytestmark = needs_data


@pytest.fixture(scope="module")
def base_db(tmp_path_factory, data_dir) -> Path:
    folder = tmp_path_factory.mktemp("base")
    db = folder / "base.db"
    assert main(["search", "--space", "nb201", "--strategy", "random", "--trials", "5", "--name", "s",
                 "--storage", str(db), "--data", str(data_dir)]) == 0  # fmt: skip
    with sqlite3.connect(db) as con:  # fold the WAL into the file so its bytes are the state
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def _binary_config(folder: Path) -> str:
    path = folder / "model.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    return str(path)


CASES = [
    # (id, args after the command; {db} is the study file, {bin} a binary file; expected text)
    ("trials-0", ["search", "--space", "nb201", "--trials", "0", "--storage", "{db}"], "trials"),
    ("trials-absurd", ["search", "--space", "nb201", "--trials", str(10**20), "--storage", "{db}"], "trials"),
    ("empty-name", ["search", "--space", "nb201", "--name", "", "--storage", "{db}"], "study name"),
    ("newline-name", ["search", "--space", "nb201", "--name", "a\nb", "--storage", "{db}"], "study name"),
    ("binary-config", ["search", "--config", "{bin}", "--storage", "{db}"], "not UTF-8"),
    ("name-clash", ["search", "--space", "nb201", "--name", "s", "--storage", "{db}"], "already exists"),
    ("unknown-space", ["search", "--space", "nb999", "--storage", "{db}"], "nb999"),
    ("resume-fewer", ["resume", "s", "--storage", "{db}", "--trials", "3"], "--trials 3"),
    ("resume-unknown", ["resume", "nope", "--storage", "{db}"], "nope"),
    ("report-top", ["report", "s", "--storage", "{db}", "--top", "-1"], "--top"),
    ("report-unknown", ["report", "nope", "--storage", "{db}"], "nope"),
    ("export-tabular", ["export", "s", "--storage", "{db}", "--output", "{out}"], "weights"),
    ("export-trial", ["export", "s", "--storage", "{db}", "--output", "{out}", "--trial", "99"], "99"),
    ("delete-unknown", ["delete", "nope", "--storage", "{db}"], "nope"),
]


@pytest.mark.parametrize("args, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_leaves_the_store_alone(
    base_db, data_dir, tmp_path, capsys, args, expected
):
    db = tmp_path / "study.db"
    shutil.copy(base_db, db)
    before = db.read_bytes()
    values = {"{db}": str(db), "{bin}": _binary_config(tmp_path), "{out}": str(tmp_path / "out")}
    argv = [values.get(a, a) for a in args]
    if argv[0] in ("search", "resume"):
        argv += ["--data", str(data_dir)]
    code = main(argv)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith("error:") and expected in err[0], err
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert db.read_bytes() == before
