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


def test_benchmark_space_default_and_wrong_space():
    from nasforge.errors import ConfigError
    from nasforge.evaluators.nb101_tabular import NB101Tabular
    from nasforge.evaluators.tables import benchmark_space
    from nasforge.evaluators.tabular import NB201Tabular
    from nasforge.spaces.nb101 import NB101Space
    from nasforge.spaces.nb201 import NB201Space

    assert isinstance(benchmark_space(None, NB201Space, "nb201"), NB201Space)
    space = NB101Space()
    assert benchmark_space(space, NB101Space, "nb101") is space
    with pytest.raises(ConfigError, match="evaluator nb201 needs the nb201 space, got 'nb101'"):
        NB201Tabular(NB101Space())
    with pytest.raises(ConfigError, match="evaluator nb101 needs the nb101 space, got 'nb201'"):
        NB101Tabular(NB201Space())
