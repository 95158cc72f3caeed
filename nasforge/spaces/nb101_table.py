"""Reading an NB101 table of (adjacency, ops, metrics) rows: shared by the ``nb101`` evaluator
(metrics per cell) and the ``nb101-pool`` space (which cells exist), so neither imports the other.

Rows are keyed by NB101's isomorphism hash of the pruned cell; an identity's metrics are the mean
over its rows (see :mod:`nasforge.evaluators.nb101_tabular` for why).
"""

from __future__ import annotations

import csv
import gzip
import math
import os
from pathlib import Path

from ..architecture import Architecture
from ..errors import ArchitectureError, DataError
from ..paths import READ_ERRORS, data_file
from .nb101 import NB101Space

DEFAULT_FILE = "nb101/nb101_sample500.csv.gz"


def nb101_table_path(path: str | os.PathLike | None, data_dir: str | os.PathLike | None) -> Path:
    """An explicit table path, else the 500-row sample in the data folder."""
    if path is not None:
        explicit = Path(path).expanduser()
        if not explicit.is_file():
            raise DataError(f"nb101 table {str(explicit)!r} not found")
        return explicit
    return data_file(DEFAULT_FILE, data_dir)


def read_nb101_table(path: Path, space: NB101Space) -> tuple[dict[str, dict[str, float]], list[Architecture]]:
    """(metrics per identity hash, one architecture per cell in first-appearance order)."""
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
