"""The CSV table loader: NaN for empty cells, rows ordered by index, one-line DataErrors."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from nasforge.errors import DataError
from nasforge.evaluators.tables import load_indexed_csv


def _write(path, text):
    with gzip.open(path, "wt") as handle:
        handle.write(text)
    return path


def test_rows_by_index_and_empty_cells_are_nan(tmp_path):
    path = _write(tmp_path / "t.csv.gz", "index,arch,a,b\n2,x,1.5,\n0,y,,\n1,z,3,4\n")
    table = load_indexed_csv(path)
    assert table.columns == ["a", "b"]
    np.testing.assert_array_equal(table.column("a"), [np.nan, 3.0, 1.5])
    np.testing.assert_array_equal(table.column("b"), [np.nan, 4.0, np.nan])
    assert table.strings("arch") == ("y", "z", "x")
    assert table.head[0]["arch"] == "x"
    assert load_indexed_csv(path) is table  # cached per process
    with pytest.raises(DataError, match="has no column 'c'; it has: a, b"):
        table.column("c")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("idx,a\n0,1\n", "no 'index' column"),
        ("index,a\n0,1\n2,3\n", "must number the rows 0..n-1"),
        ("index,a\n0,1\n1,oops\n", "non-numeric value"),
    ],
)
def test_malformed_tables_raise_data_error(tmp_path, text, fragment):
    path = _write(tmp_path / f"bad{abs(hash(text))}.csv.gz", text)
    with pytest.raises(DataError, match=fragment):
        load_indexed_csv(path)
