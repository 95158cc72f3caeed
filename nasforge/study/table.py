"""Every trial of a study as flat rows: state, timing, objective values, metrics and genes.

One row per trial, the columns Optuna's ``trials_dataframe`` users expect: ``number``, ``state``,
``arch``, ``seed``, ``fidelity``, ``started`` / ``finished`` (UTC ISO 8601), ``duration_s``,
``error``, ``value_<objective>``, ``metric_<name>`` and ``gene_<name>``. Built from the store and the
space alone (no evaluator, no data folder), so it works for any finished study.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any, Sequence

from ..objectives import Objective
from ..trial import Trial

FIXED = ("number", "state", "arch", "seed", "fidelity", "started", "finished", "duration_s", "error")


def trial_rows(trials: Sequence[Trial], objectives: Sequence[Objective], space: Any = None) -> list[dict[str, Any]]:
    """Flat dicts, one per trial, all with the same keys (missing values are None)."""
    metric_names = sorted({k for t in trials for k, v in t.metrics.items() if _scalar(v)})
    gene_names = [g.name for g in space.genes()] if space is not None else []
    rows = []
    for trial in trials:
        row: dict[str, Any] = {
            "number": trial.number,
            "state": trial.state.value,
            "arch": trial.arch,
            "seed": trial.seed,
            "fidelity": trial.fidelity,
            "started": _iso(trial.started),
            "finished": _iso(trial.finished),
            "duration_s": trial.duration,
            "error": trial.error,
        }
        for i, objective in enumerate(objectives):
            row[f"value_{objective.name}"] = trial.values[i] if trial.values else None
        for name in metric_names:
            value = trial.metrics.get(name)
            row[f"metric_{name}"] = value if _scalar(value) else None
        genes = _genes(space, trial.arch) if gene_names else None
        for i, name in enumerate(gene_names):
            row[f"gene_{name}"] = None if genes is None else genes[i]
        rows.append(row)
    return rows


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()


def to_dataframe(rows: list[dict[str, Any]]) -> Any:
    """A pandas DataFrame when pandas is installed (extra ``nasforge[pandas]``), else the rows."""
    try:
        import pandas as pd
    except ImportError:
        return rows
    return pd.DataFrame(rows, columns=list(rows[0]) if rows else list(FIXED))


def _genes(space: Any, arch: str) -> list[Any] | None:
    try:
        return list(space.to_genes(space.from_string(arch)))
    except Exception:  # noqa: BLE001 - a stored string the space no longer parses: no genes
        return None


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, tz=dt.timezone.utc).isoformat(timespec="milliseconds")
