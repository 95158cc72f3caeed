"""Pareto front, normalised hypervolume with a stated reference point, constraint filters."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nasforge.errors import ConfigError
from nasforge.objectives import Objective
from nasforge.pareto import Constraint, hypervolume, pareto_front
from nasforge.report.pareto import format_pareto, pareto_summary
from nasforge.trial import Trial, TrialState

OBJ = [Objective("valid_accuracy", "max"), Objective("latency_ms", "min")]


def _trial(number, acc, lat, state=TrialState.COMPLETE, **extra):
    metrics = {"valid_accuracy": acc, "latency_ms": lat, **extra}
    values = None if state != TrialState.COMPLETE else [acc, lat]
    return Trial(number, f"arch{number}", 0, None, state, values, metrics)


TRIALS = [
    _trial(0, 90.0, 5.0, params_m=1.0),
    _trial(1, 91.0, 6.0, params_m=2.0),
    _trial(2, 89.0, 7.0, params_m=1.5),  # dominated by 0
    _trial(3, 80.0, 1.0, params_m=0.5),
    _trial(4, 95.0, 9.0, TrialState.FAILED),
    _trial(5, 85.0, 1.0, params_m=0.7),  # dominates 3
]


def _box_hv(points01: list[tuple[float, float]], ref=(1.1, 1.1)) -> float:
    """2-D hypervolume by the staircase formula (minimised, already normalised points)."""
    pts = sorted(points01)
    area, best_y = 0.0, ref[1]
    for x, y in pts:
        if y < best_y:
            area += (ref[0] - x) * (best_y - y)
            best_y = y
    return area


def test_front_is_non_dominated_complete_trials_best_first():
    front = pareto_front(TRIALS, OBJ)
    assert [t.number for t in front] == [1, 0, 5]
    assert pareto_front([], OBJ) == []


def test_hypervolume_uses_min_max_bounds_and_flips_maximised_objectives():
    points = np.array([[90.0, 5.0], [80.0, 1.0]])
    bounds = {"valid_accuracy": (80.0, 100.0), "latency_ms": (0.0, 10.0)}
    got = hypervolume(points, OBJ, bounds)
    # accuracy 90 -> 1 - 0.5 = 0.5; latency 5 -> 0.5; accuracy 80 -> 1.0, latency 1 -> 0.1
    assert math.isclose(got, _box_hv([(0.5, 0.5), (1.0, 0.1)]))
    # own bounds: the two points span [0, 1] in both objectives
    assert math.isclose(hypervolume(points, OBJ), _box_hv([(0.0, 1.0), (1.0, 0.0)]))
    # a custom reference point changes the volume; points beyond it add nothing
    unit_ref = hypervolume(points, OBJ, bounds, ref=(1.0, 1.0))
    assert math.isclose(unit_ref, _box_hv([(0.5, 0.5), (1.0, 0.1)], (1.0, 1.0)))
    with pytest.raises(ConfigError, match="reference point needs 2"):
        hypervolume(points, OBJ, bounds, ref=(1.1,))
    with pytest.raises(ConfigError, match="missing objective"):
        hypervolume(points, OBJ, {"latency_ms": (0, 1)})


def test_hypervolume_matches_staircase_on_random_fronts():
    rng = np.random.default_rng(0)
    for _ in range(5):
        raw = rng.uniform(0, 1, size=(30, 2))
        objectives = [Objective("a", "min"), Objective("b", "min")]
        got = hypervolume(raw, objectives, [(0, 1), (0, 1)])
        assert math.isclose(got, _box_hv([tuple(p) for p in raw]), rel_tol=1e-9)


def test_constraints_filter_trials_before_the_front_is_taken():
    summary = pareto_summary(TRIALS, OBJ, constraints=["latency_ms<=5.5"])
    # trial 1 (91, 6 ms) is infeasible; 0 and 5 remain on the front
    assert [p["number"] for p in summary["pareto_front"]] == [0, 5]
    summary = pareto_summary(TRIALS, OBJ, constraints=["params_m<1", "valid_accuracy>82"])
    assert [p["number"] for p in summary["pareto_front"]] == [5]
    with pytest.raises(ConfigError, match="no trial has metric 'energy'"):
        pareto_summary(TRIALS, OBJ, constraints=["energy<=3"])
    for bad in ("latency=<5", "latency<=fast", "<=5", "latency<=inf"):
        with pytest.raises(ConfigError, match="constraint"):
            Constraint.parse(bad)


def test_summary_is_json_ready_and_states_its_normalisation():
    summary = pareto_summary(TRIALS, OBJ)
    text = json.dumps(summary)  # must not raise
    assert json.loads(text)["reference_point"] == [1.1, 1.1]
    assert summary["n_complete"] == 5 and summary["n_feasible"] == 5
    assert summary["normalisation"]["source"] == "trials"
    bounds = summary["normalisation"]["bounds"]
    assert bounds == {"valid_accuracy": [80.0, 91.0], "latency_ms": [1.0, 7.0]}
    front_points = [
        (1 - (p["values"]["valid_accuracy"] - 80) / 11, (p["values"]["latency_ms"] - 1) / 6)
        for p in summary["pareto_front"]
    ]
    assert math.isclose(summary["hypervolume"], _box_hv(front_points))
    given = pareto_summary(TRIALS, OBJ, bounds={"valid_accuracy": (0, 100), "latency_ms": (0, 10)})
    assert given["normalisation"]["source"] == "given"
    assert math.isclose(given["hypervolume"], _box_hv([(0.09, 0.6), (0.10, 0.5), (0.15, 0.1)]))
    table = format_pareto(summary)
    assert "arch1" in table and "arch2" not in table and "reference point (1.1, 1.1)" in table
