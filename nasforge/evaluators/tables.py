"""Loading benchmark CSV tables into per-column numpy arrays, once per process.

Tables are read with the stdlib csv module (no pandas) and cached by path, so every evaluator in a
process (and every worker after its first trial) shares one copy; evaluators keep only the path,
which keeps them cheap to pickle.
"""

from __future__ import annotations

import csv
import gzip
import io
import threading
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..errors import ConfigError, DataError
from ..paths import READ_ERRORS

_CACHE: dict[tuple[str, str], "Table"] = {}
_LOCK = threading.Lock()


class Table:
    """Numeric columns of a CSV keyed by an integer ``index`` column; rows stored by index.

    Missing cells are NaN. Text columns are parsed only on request (:meth:`strings`); ``head``
    holds the first rows as text for cheap sanity checks.
    """

    def __init__(self, path: Path, numeric: Mapping[str, np.ndarray], head: list[dict[str, str]]):
        self.path = path
        self._numeric = dict(numeric)
        self.head = head
        self._strings: dict[str, tuple] | None = None

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
        """A text column by row index (parsed with csv on first request)."""
        if self._strings is None:
            with _open(self.path) as handle:
                reader = csv.DictReader(handle)
                rows = sorted(reader, key=lambda row: int(row["index"]))
            self._strings = {key: tuple(row[key] for row in rows) for key in (reader.fieldnames or [])}
        try:
            return self._strings[name]
        except KeyError:
            raise DataError(f"table {self.path.name} has no column {name!r}") from None

    def __len__(self) -> int:
        return len(next(iter(self._numeric.values()))) if self._numeric else 0


def benchmark_space(space: Any, expected: type, evaluator: str) -> Any:
    """``space`` if it is ``expected``'s space (by name), a fresh ``expected()`` if None.

    Tabular evaluators look cells up by that space's index or hash, so any other space is a
    ConfigError naming the evaluator.
    """
    if space is None:
        return expected()
    if getattr(space, "name", None) != expected.name:
        raise ConfigError(
            f"evaluator {evaluator} needs the {expected.name} space, got {getattr(space, 'name', space)!r}"
        )
    return space


def load_indexed_csv(path: str | Path, text_columns: tuple[str, ...] = ("arch",)) -> Table:
    """Read a (gzip) CSV whose ``index`` column numbers rows 0..n-1, cached per process.

    ``text_columns`` are skipped by the fast numeric parser (numpy's C ``loadtxt``).
    """
    key = (str(path), ",".join(text_columns))
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            cached = _read(Path(path), text_columns)
            _CACHE[key] = cached
    return cached


def _open(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def _read(path: Path, text_columns: tuple[str, ...]) -> Table:
    try:
        with _open(path) as handle:
            text = handle.read()
    except READ_ERRORS as exc:
        raise DataError(f"cannot read table {str(path)!r} (damaged or not UTF-8 text): {exc}") from exc
    lines = text.split("\n", 11)
    header = next(csv.reader(lines[:1]), [])
    if "index" not in header:
        raise DataError(f"table {str(path)!r} has no 'index' column; columns: {', '.join(header)}")
    head = [dict(zip(header, row)) for row in csv.reader(line for line in lines[1:11] if line)]
    numeric = [i for i, name in enumerate(header) if name not in text_columns]
    # empty cells -> nan (two passes cover runs of empties), so loadtxt's C parser takes every row
    filled = text.replace(",,", ",nan,").replace(",,", ",nan,").replace(",\n", ",nan\n")
    if filled.endswith(","):
        filled += "nan"
    try:
        data = np.loadtxt(
            io.StringIO(filled), delimiter=",", skiprows=1, usecols=numeric, dtype=float,
            comments=None, quotechar='"', ndmin=2,
        )
    except ValueError as exc:
        raise DataError(f"table {str(path)!r}: non-numeric value in a numeric column ({exc})") from exc
    index = data[:, numeric.index(header.index("index"))]
    n = len(index)
    if n == 0 or not np.array_equal(np.sort(index), np.arange(n)):
        raise DataError(f"table {str(path)!r}: 'index' must number the rows 0..n-1 once each")
    order = np.argsort(index, kind="stable")
    columns: dict[str, np.ndarray] = {}
    for position, i in enumerate(numeric):
        if header[i] == "index":
            continue
        array = np.ascontiguousarray(data[order, position])
        array.setflags(write=False)
        columns[header[i]] = array
    return Table(path, columns, head)
