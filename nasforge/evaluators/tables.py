"""Loading benchmark CSV tables into per-column numpy arrays, once per process.

Tables are read with the stdlib csv module (no pandas) and cached by path, so every evaluator in a
process (and every worker after its first trial) shares one copy; evaluators keep only the path,
which keeps them cheap to pickle.
"""

from __future__ import annotations

import csv
import gzip
import threading
from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import DataError

_CACHE: dict[tuple[str, str], "Table"] = {}
_LOCK = threading.Lock()


class Table:
    """Numeric columns of a CSV keyed by an integer ``index`` column; rows stored by index.

    ``strings`` keeps the non-numeric columns (e.g. ``arch``) as tuples in the same row order.
    Missing cells are NaN.
    """

    def __init__(self, path: Path, numeric: Mapping[str, np.ndarray], strings: Mapping[str, tuple]):
        self.path = path
        self._numeric = dict(numeric)
        self._strings = dict(strings)

    @property
    def columns(self) -> list[str]:
        return list(self._numeric)

    def has(self, name: str) -> bool:
        return name in self._numeric

    def column(self, name: str) -> np.ndarray:
        """Values of ``name`` by row index (read-only view); DataError lists what exists."""
        try:
            return self._numeric[name]
        except KeyError:
            raise DataError(
                f"table {self.path.name} has no column {name!r}; it has: {', '.join(self._numeric)}"
            ) from None

    def strings(self, name: str) -> tuple:
        try:
            return self._strings[name]
        except KeyError:
            raise DataError(f"table {self.path.name} has no text column {name!r}") from None

    def __len__(self) -> int:
        return len(next(iter(self._numeric.values()))) if self._numeric else 0


def load_indexed_csv(path: str | Path, text_columns: tuple[str, ...] = ("arch",)) -> Table:
    """Read a (gzip) CSV whose ``index`` column numbers rows 0..n-1, cached per process."""
    path = Path(path)
    key = (str(path.resolve()), ",".join(text_columns))
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            cached = _read(path, text_columns)
            _CACHE[key] = cached
    return cached


def _read(path: Path, text_columns: tuple[str, ...]) -> Table:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            rows = list(reader)
    except (OSError, StopIteration, csv.Error) as exc:
        raise DataError(f"cannot read table {str(path)!r}: {exc}") from exc
    if "index" not in header:
        raise DataError(f"table {str(path)!r} has no 'index' column; columns: {', '.join(header)}")
    columns = list(zip(*rows)) if rows else [() for _ in header]
    try:
        index = np.asarray(columns[header.index("index")], dtype=np.int64)
    except ValueError as exc:
        raise DataError(f"table {str(path)!r}: non-integer value in 'index': {exc}") from exc
    n = len(index)
    if n == 0 or sorted(index.tolist()) != list(range(n)):
        raise DataError(f"table {str(path)!r}: 'index' must number the rows 0..n-1 once each")
    order = np.argsort(index)
    numeric: dict[str, np.ndarray] = {}
    strings: dict[str, tuple] = {}
    for name, values in zip(header, columns):
        if name == "index":
            continue
        if name in text_columns:
            strings[name] = tuple(values[i] for i in order)
            continue
        try:
            array = np.asarray([float(v) if v != "" else np.nan for v in values], dtype=float)[order]
        except ValueError:
            strings[name] = tuple(values[i] for i in order)
            continue
        array.setflags(write=False)
        numeric[name] = array
    return Table(path, numeric, strings)
