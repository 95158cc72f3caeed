"""An evaluator that adds a user's metric table to another evaluator's metrics.

Typical use: NB201 accuracies from the benchmark table plus latency measured on the user's own
device, searched as ``valid_accuracy:max, my_phone_latency:min``. Config form::

    evaluator: metric_table
    evaluator_options: {table: my_latency.csv, base: nb201}

``base`` is a registered evaluator name (built with the same space, dataset and data folder, plus
``base_options``) or None for the table alone. Table columns override base metrics of the same name,
so a measured latency replaces the benchmark's. The table is read lazily (once per process), which
keeps the evaluator cheap to pickle for worker processes, but its columns are checked up front so
an objective naming a missing column fails before the study starts.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..architecture import Architecture
from ..errors import ConfigError
from ..metrics.metric_table import MetricTable
from ..options import Bool, Map, Seq, Str, validated
from ..registry import resolve
from ..spaces.base import SearchSpace
from .base import Evaluator


class MetricTableEvaluator(Evaluator):
    """Metrics of ``base`` (if any) merged with the row of the architecture in ``table``."""

    name = "metric_table"
    options = {
        "table": Str(),
        "key": Str(none=True),
        "allow_missing": Bool(),
        "base_options": Map(none=True),
        "columns": Seq(Str(), none=True),
    }

    @validated
    def __init__(
        self,
        space: SearchSpace,
        dataset: str | None = None,
        data_dir: str | None = None,
        table: str | None = None,
        base: str | Evaluator | None = None,
        base_options: dict[str, Any] | None = None,
        key: str | None = None,
        columns: Sequence[str] | None = None,
        allow_missing: bool = False,
    ) -> None:
        self.space = space
        self.space_name = space.name
        self.table_path = table
        self.key = key
        self.base = _build_base(base, space, dataset, data_dir, base_options or {})
        self._table: MetricTable | None = None
        loaded = self._load()  # fail now on a missing file, bad rows or unknown columns
        if columns is not None:
            loaded.require(list(columns))
        if not allow_missing:
            loaded.check_covers(space)
        self.allow_missing = allow_missing
        self.columns = tuple(columns) if columns is not None else loaded.columns

    def evaluate(
        self, arch: Architecture, fidelity: int | None, seed: int, context: Any = None
    ) -> dict[str, Any]:
        metrics = dict(self.base.evaluate(arch, fidelity, seed)) if self.base is not None else {}
        metrics.update(self._load().lookup(arch, self.columns))
        return metrics

    def metrics(self) -> Sequence[str]:
        own = list(self.columns)
        base = self.base.metrics() if self.base is not None else ()
        inherited = [m for m in base if m not in own]
        return inherited + own

    def fidelities(self) -> Sequence[int] | None:
        return self.base.fidelities() if self.base is not None else None

    def default_fidelity(self) -> int | None:
        return self.base.default_fidelity() if self.base is not None else None

    def describe(self) -> dict[str, Any]:
        info = {"evaluator": self.name, "table": self.table_path, "columns": list(self.columns)}
        if self.base is not None:
            info["base"] = self.base.describe()
        return info

    def _load(self) -> MetricTable:
        if self._table is None:
            self._table = MetricTable(self.table_path, self.space, key=self.key)
        return self._table

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_table"] = None  # workers re-read the file rather than receive the parsed rows
        return state


def _build_base(
    base: str | Evaluator | None,
    space: SearchSpace,
    dataset: str | None,
    data_dir: str | None,
    options: dict[str, Any],
) -> Evaluator | None:
    if base is None or isinstance(base, Evaluator):
        if options and base is None:
            raise ConfigError(
                "parameter base_options of MetricTableEvaluator needs a base evaluator"
            )
        return base
    if not isinstance(base, str) or base == MetricTableEvaluator.name:
        raise ConfigError(
            "parameter base of MetricTableEvaluator must be an evaluator name "
            f"(not metric_table) or None, got {base!r}"
        )
    cls = resolve("evaluator", base)
    return cls(space, dataset=dataset, data_dir=data_dir, **options)
