"""Damaged tables (truncated gzip, bytes that are not UTF-8) give one line and exit 2, never a
traceback or click's 'aborted'."""

from __future__ import annotations

import gzip
import shutil

import pytest
from conftest import needs_data

from nasforge.cli.app import main


@needs_data
@pytest.mark.parametrize("damage", ["truncated", "not-utf8"])
def test_a_damaged_nb201_table_is_one_line_and_exit_2(tmp_path, data_dir, capsys, damage):
    folder = tmp_path / "data" / "nb201"
    folder.mkdir(parents=True)
    source = data_dir / "nb201" / "nb201_accuracy.csv.gz"
    target = folder / source.name
    if damage == "truncated":
        target.write_bytes(source.read_bytes()[:50_000])
    else:
        with gzip.open(target, "wb") as handle:
            handle.write(b"index,arch,cifar10-valid/200/valid\n0,\xff\xfe,1.0\n")
    shutil.copy(data_dir / "nb201" / "nb201_hardware.csv.gz", folder)
    storage = tmp_path / "s.db"
    code = main(["search", "--space", "nb201", "--strategy", "random", "--trials", "2",
                 "--storage", str(storage), "--data", str(tmp_path / "data")])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert "nb201_accuracy.csv.gz" in err[0] and "damaged or not UTF-8" in err[0]
