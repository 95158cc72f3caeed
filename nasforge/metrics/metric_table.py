"""User metric tables: a CSV of per-architecture measurements used as objectives.

Engineers measure what no benchmark has (latency on their own phone, energy on their FPGA) and
want to search against it. A metric table is a CSV (optionally gzipped) with one key column and
any number of numeric metric columns::

    arch,my_phone_latency,my_energy
    |nor_conv_3x3~0|+|none~0|skip_connect~1|+|...|,4.1,12.0

The key column holds architecture strings in any form the space parses (canonicalised, so
equivalent spellings match) or NB201 indices (for spaces with ``from_index``): it is found among
the usual spellings (``arch``, ``arch_str``, ``index``, ``nb201_index``) or named with ``key``.
Metric columns are the numeric ones: a text column (a second architecture string, a device name)
is skipped rather than breaking every lookup, and naming it as a metric is an error up front.
An architecture absent from the table, an empty or non-numeric cell, and a column the table lacks
are errors that name the architecture or column and the file.
"""

from __future__ import annotations

import csv
import gzip
import math
from pathlib import Path
from typing import Any

from ..architecture import Architecture
from ..errors import ArchitectureError, ConfigError, DataError
from ..paths import READ_ERRORS
from ..spaces.base import SearchSpace

#: key column spellings found without being named (published latency tables use all of these)
KEYS = ("arch", "arch_str", "index", "nb201_index")


class MetricTable:
    """Rows of a metric CSV keyed by canonical architecture string, read once."""

    def __init__(self, path: str | Path, space: SearchSpace, key: str | None = None) -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise DataError(f"metric table {str(self.path)!r} not found")
        if key is not None and not isinstance(key, str):
            raise ConfigError(f"parameter key of MetricTable must be a column name, got {key!r}")
        self.space = space
        header, rows = _read_csv(self.path)
        self.key = key or _guess_key(header, self.path)
        if self.key not in header:
            raise DataError(
                f"metric table {str(self.path)!r} has no key column {self.key!r}; "
                f"its columns: {', '.join(header)}"
            )
        self.by_index = self.key.endswith("index")
        if self.by_index and not hasattr(space, "from_index"):
            raise ConfigError(
                f"metric table {str(self.path)!r} is keyed by {self.key!r} (an index) but space "
                f"{space.name!r} has no index; key it by architecture string instead"
            )
        others = [c for c in header if c != self.key and c]
        self.columns: tuple[str, ...] = tuple(c for c in others if _numeric(rows, c))
        self.text_columns: tuple[str, ...] = tuple(c for c in others if c not in self.columns)
        if not self.columns:
            raise DataError(
                f"metric table {str(self.path)!r} has no numeric metric column besides "
                f"{self.key!r}; its columns: {', '.join(header)}"
            )
        self._rows: dict[str, dict[str, str]] = {}
        for line, row in enumerate(rows, start=2):
            arch = self._arch_of(row.get(self.key, ""), line)
            if arch.string in self._rows:
                raise DataError(
                    f"metric table {str(self.path)!r} line {line}: "
                    f"architecture {arch.string!r} appears twice"
                )
            self._rows[arch.string] = row

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, arch: Architecture) -> bool:
        return arch.string in self._rows

    def require(self, names: list[str] | tuple[str, ...]) -> None:
        """DataError if any of ``names`` is not a column (call it before a search starts)."""
        text = [n for n in names if n in self.text_columns]
        if text:
            raise DataError(
                f"metric table {str(self.path)!r}: column(s) {', '.join(map(repr, text))} hold "
                f"text or empty cells, not numbers; numeric columns: {', '.join(self.columns)}"
            )
        missing = [n for n in names if n not in self.columns]
        if missing:
            raise DataError(
                f"metric table {str(self.path)!r} has no column(s) "
                f"{', '.join(map(repr, missing))}; "
                f"it has: {', '.join(self.columns)}"
            )

    def check_covers(self, space: SearchSpace) -> None:
        """DataError when a finite space has architectures the table lacks: they would fail one
        by one during the search, so say it before it starts."""
        size = space.size() if hasattr(space, "size") else None
        if size is not None and len(self._rows) < size:
            raise DataError(
                f"metric table {str(self.path)!r} covers {len(self._rows)} of the {size} "
                f"architectures of space {space.name!r}; complete it, or set evaluator option "
                "allow_missing: true to fail the trials of missing architectures"
            )

    def lookup(
        self, arch: Architecture, columns: tuple[str, ...] | list[str] | None = None
    ) -> dict[str, float]:
        """The row of ``arch`` as floats (all metric columns, or ``columns``)."""
        wanted = tuple(columns) if columns is not None else self.columns
        self.require(list(wanted))
        row = self._rows.get(arch.string)
        if row is None:
            raise DataError(
                f"architecture {arch.string!r} is not in metric table {str(self.path)!r} "
                f"({len(self._rows)} rows keyed by {self.key!r})"
            )
        out: dict[str, float] = {}
        for column in wanted:
            text = (row.get(column) or "").strip()
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise DataError(
                    f"metric table {str(self.path)!r}: column {column!r} of {arch.string!r} is "
                    f"{text or 'empty'!r}, not a finite number"
                )
            out[column] = value
        return out

    def _arch_of(self, text: str, line: int) -> Architecture:
        try:
            if self.by_index:
                return self.space.from_index(int(text))  # type: ignore[attr-defined]
            return self.space.from_string(text)
        except (ArchitectureError, ValueError) as exc:
            raise DataError(
                f"metric table {str(self.path)!r} line {line}: bad {self.key} {text!r}: {exc}"
            ) from exc


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", newline="", encoding="utf-8") as handle:  # type: ignore[operator]
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            rows = list(reader)
    except READ_ERRORS as exc:
        raise DataError(f"cannot read metric table {str(path)!r} (damaged or not UTF-8 text): {exc}") from exc
    if not header:
        raise DataError(f"metric table {str(path)!r} is empty (no header line)")
    return header, rows


def _guess_key(header: list[str], path: Path) -> str:
    for key in KEYS:
        if key in header:
            return key
    raise DataError(
        f"metric table {str(path)!r} needs a key column ({', '.join(KEYS)}) or evaluator option "
        f"key naming it; its columns: {', '.join(header)}"
    )


def _numeric(rows: list[dict[str, Any]], column: str) -> bool:
    """Every cell of ``column`` is a finite number (so lookups of it never fail)."""
    for row in rows:
        try:
            if not math.isfinite(float((row.get(column) or "").strip())):
                return False
        except ValueError:
            return False
    return True
