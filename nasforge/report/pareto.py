"""The multi-objective block of a report: front, hypervolume, normalisation, as JSON and text.

The volume is only comparable between runs when the normalisation and reference point are stated,
so :func:`pareto_summary` always reports both (the rules are in :mod:`nasforge.pareto`).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..objectives import Objective, parse_objectives
from ..pareto import (
    Bounds,
    Constraint,
    bounds_array,
    complete_trials,
    feasible,
    hypervolume,
    pareto_front,
    reference_point,
)
from ..trial import Trial

# --- the report block -----------------------------------------------------------------------------


def pareto_summary(
    trials: Iterable[Trial],
    objectives: Sequence[Objective | str],
    constraints: Sequence[str | Constraint] = (),
    bounds: Bounds | Sequence[Sequence[float]] | None = None,
    ref: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Everything a report shows about the trade-off, JSON-ready.

    Keys: ``objectives``, ``constraints``, ``n_complete``, ``n_feasible``, ``pareto_front`` (list of
    {number, arch, values by objective, metrics}), ``hypervolume``, ``reference_point`` and
    ``normalisation`` ({objective: [low, high]}, ``source`` "given" or "trials", the rule).
    """
    objectives = parse_objectives(objectives)
    parsed = [Constraint.parse(c) for c in constraints]
    complete = complete_trials(trials, objectives)
    ok = feasible(complete, parsed)
    front = pareto_front(ok, objectives)
    all_values = np.array([t.values for t in complete], dtype=float).reshape(-1, len(objectives))
    box = bounds_array(objectives, bounds, all_values)
    reference = reference_point(ref, len(objectives))
    front_values = np.array([t.values for t in front], dtype=float).reshape(-1, len(objectives))
    return {
        "objectives": [str(o) for o in objectives],
        "constraints": [str(c) for c in parsed],
        "n_complete": len(complete),
        "n_feasible": len(ok),
        "pareto_front": [
            {
                "number": t.number,
                "arch": t.arch,
                "values": {o.name: float(v) for o, v in zip(objectives, t.values)},
                "metrics": {k: v for k, v in t.metrics.items() if _is_number(v)},
            }
            for t in front
        ],
        "hypervolume": hypervolume(front_values, objectives, box, reference) if front else 0.0,
        "reference_point": [float(r) for r in reference],
        "normalisation": {
            "bounds": {o.name: [float(lo), float(hi)] for o, (lo, hi) in zip(objectives, box)},
            "source": "given" if bounds is not None else "trials",
            "rule": "min-max to [0, 1], maximised objectives as 1 - normalised; all minimised",
        },
    }


def format_pareto(summary: Mapping[str, Any]) -> str:
    """Plain-text table of a :func:`pareto_summary` (the CLI can print or wrap it in rich)."""
    names = [o.rsplit(":", 1)[0] for o in summary["objectives"]]
    lines = [
        f"Pareto front: {len(summary['pareto_front'])} of {summary['n_feasible']} feasible "
        f"({summary['n_complete']} complete) trials"
        + (f"; constraints: {', '.join(summary['constraints'])}" if summary["constraints"] else "")
    ]
    header = ["#"] + names + ["architecture"]
    rows = [
        [str(p["number"])] + [f"{p['values'][n]:.6g}" for n in names] + [p["arch"]]
        for p in summary["pareto_front"]
    ]
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    for row in [header] + rows:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    ref = ", ".join(f"{r:g}" for r in summary["reference_point"])
    lines.append(
        f"hypervolume {summary['hypervolume']:.6f} "
        f"(normalised {summary['normalisation']['source']} bounds, reference point ({ref}))"
    )
    return "\n".join(lines)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(float(value))
