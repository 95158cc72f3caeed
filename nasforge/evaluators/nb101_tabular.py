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

from pathlib import Path
from typing import Any, Sequence

from ..architecture import Architecture
from ..errors import ConfigError, DataError
from ..options import Choice, validated
from ..spaces.nb101 import NB101Space
from ..spaces.nb101_table import nb101_table_path, read_nb101_table
from .base import Evaluator
from .tables import benchmark_space

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
        return nb101_table_path(self.path, self.data_dir)

    def table(self) -> dict[str, dict[str, float]]:
        """Metrics per identity hash (loaded once, lazily, so the evaluator pickles small)."""
        if self._table is None:
            self._table, self._pool = read_nb101_table(self.table_path(), self.space)
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
