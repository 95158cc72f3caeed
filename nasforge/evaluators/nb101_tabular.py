"""Look up NAS-Bench-101 cells in a table of (adjacency, ops, metrics) rows.

The reader takes any gzip/plain CSV with an ``adjacency`` column (n*n row-major 0/1 characters), an
``ops`` column (n comma-separated NB101 op names) and numeric metric columns: our 500-row sample in
``nb101/nb101_sample500.csv.gz`` or a user's export of the full benchmark.

Rows are keyed by NB101's isomorphism hash of the *pruned* cell, because tables store raw specs:
in the sample, many rows are unpruned 7-node specs of the same small cell (55 rows are the bare
input -> output cell), and their metric values differ between rows (the sample drew one of NB101's
three training runs per row). Each identity's metrics are therefore the mean over its rows, and
``n_rows`` says how many rows that is. A cell absent from the table is a DataError, never a guess;
when a table covers only part of the space, :meth:`NB101Tabular.pool` lists the cells it holds so
a study can search in pool mode (see :class:`nasforge.spaces.pool.PoolSpace`).
"""

from __future__ import annotations

import csv
import gzip
import math
from pathlib import Path
from typing import Any, Sequence

from ..architecture import Architecture
from ..errors import ArchitectureError, ConfigError, DataError
from ..paths import READ_ERRORS, data_file
from ..spaces.nb101 import NB101Space
from ..options import Choice, validated
from .base import Evaluator
from .tables import benchmark_space

DEFAULT_FILE = "nb101/nb101_sample500.csv.gz"
EPOCHS = 108
DATASETS = ("cifar10",)


class NB101Tabular(Evaluator):
    """NB101 look-ups (CIFAR-10, 108 epochs); ``path`` points at a full table if you have one."""

    name = "nb101"
    space_name = "nb101"
    options = {"dataset": Choice(*DATASETS, none=True)}

    @validated
    def __init__(
        self,
        space: NB101Space | None = None,
        dataset: str | None = None,
        data_dir: str | Path | None = None,
        path: str | Path | None = None,
    ) -> None:
        self.space = benchmark_space(space, NB101Space, self.name)
        self.dataset = "cifar10"
        self.data_dir = str(data_dir) if data_dir is not None else None
        self.path = str(path) if path is not None else None
        self._table: dict[str, dict[str, float]] | None = None
        self._pool: list[Architecture] | None = None

    # --- the Evaluator interface ---------------------------------------------------------------------

    def evaluate(
        self, arch: Architecture, fidelity: int | None = None, seed: int = 0, context: Any = None
    ) -> dict[str, Any]:
        if fidelity not in (None, EPOCHS):
            raise ConfigError(f"fidelity of nb101 must be {EPOCHS} (epochs in the table) or None, got {fidelity!r}")
        key = self.space.identity(arch)
        row = self.table().get(key)
        if row is None:
            raise DataError(
                f"nb101 cell {arch.string!r} (hash {key}) is not in {self.table_path()}; "
                "this table covers only part of the space, so search it in pool mode"
            )
        return dict(row)

    def metrics(self) -> Sequence[str]:
        table = self.table()
        return sorted(next(iter(table.values()))) if table else ()

    def fidelities(self) -> Sequence[int]:
        return (EPOCHS,)

    def describe(self) -> dict[str, Any]:
        return {"evaluator": self.name, "dataset": self.dataset, "epochs": EPOCHS, "table": str(self.table_path())}

    # --- the table -----------------------------------------------------------------------------------

    def table_path(self) -> Path:
        if self.path is not None:
            path = Path(self.path).expanduser()
            if not path.is_file():
                raise DataError(f"nb101 table {str(path)!r} not found")
            return path
        return data_file(DEFAULT_FILE, self.data_dir)

    def table(self) -> dict[str, dict[str, float]]:
        """Metrics per identity hash (loaded once, lazily, so the evaluator pickles small)."""
        if self._table is None:
            self._table, self._pool = _read_table(self.table_path(), self.space)
        return self._table

    def pool(self) -> list[Architecture]:
        """One architecture per cell in the table, in first-appearance order."""
        self.table()
        assert self._pool is not None
        return list(self._pool)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_table"] = None
        state["_pool"] = None
        return state


def _read_table(path: Path, space: NB101Space) -> tuple[dict[str, dict[str, float]], list[Architecture]]:
    opener = gzip.open if path.suffix == ".gz" else open
    sums: dict[str, dict[str, float]] = {}
    counts: dict[str, int] = {}
    pool: list[Architecture] = []
    try:
        with opener(path, "rt", newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {"adjacency", "ops"} - set(reader.fieldnames or ())
            if missing:
                raise DataError(f"nb101 table {str(path)!r} lacks column(s) {sorted(missing)}")
            columns = [c for c in reader.fieldnames or () if c not in ("adjacency", "ops")]
            for line, row in enumerate(reader, start=2):
                try:
                    arch = space.from_string(f"{row['adjacency']}|{row['ops']}")
                except ArchitectureError as exc:
                    raise DataError(f"nb101 table {str(path)!r} line {line}: {exc}") from exc
                key = space.identity(arch)
                if key not in sums:
                    sums[key] = {c: 0.0 for c in columns}
                    counts[key] = 0
                    pool.append(arch)
                for c in columns:
                    sums[key][c] += _number(row[c], path, line, c)
                counts[key] += 1
    except READ_ERRORS as exc:
        raise DataError(f"cannot read nb101 table {str(path)!r}: {exc}") from exc
    table = {}
    for key, total in sums.items():
        n = counts[key]
        metrics = {c: v / n for c, v in total.items()}
        metrics["n_rows"] = float(n)
        table[key] = metrics
    return table, pool


def _number(text: str, path: Path, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"nb101 table {str(path)!r} line {line}: column {column!r} is not a number: {text!r}") from None
    return value if math.isfinite(value) else math.nan
