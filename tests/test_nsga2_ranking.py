"""Pareto rank + crowding helpers shared by NSGA-II and Q-NAS."""

from __future__ import annotations

import numpy as np
import pytest

from nasforge.errors import ConfigError
from nasforge.objectives import Objective
from nasforge.pareto import nondominated_mask, rank_and_crowding, selection_order

ACC_LAT = [Objective("valid_accuracy", "max"), Objective("edgegpu_latency", "min")]


def _brute_force_ranks(F: np.ndarray) -> np.ndarray:
    """Reference peeling of fronts on a minimisation matrix, written independently of pymoo."""
    n = len(F)
    ranks = np.full(n, -1)
    remaining = set(range(n))
    r = 0
    while remaining:
        front = [
            i for i in remaining
            if not any(np.all(F[j] <= F[i]) and np.any(F[j] < F[i]) for j in remaining if j != i)
        ]
        for i in front:
            ranks[i] = r
        remaining -= set(front)
        r += 1
    return ranks


def test_ranks_respect_directions_and_match_brute_force():
    rng = np.random.default_rng(3)
    values = np.column_stack([rng.uniform(80, 95, 60), rng.uniform(1, 10, 60)])
    ranks, crowding = rank_and_crowding(values, ACC_LAT)
    F = np.column_stack([-values[:, 0], values[:, 1]])
    np.testing.assert_array_equal(ranks, _brute_force_ranks(F))
    assert crowding.shape == (60,)
    # flipping a direction changes the front
    flipped, _ = rank_and_crowding(values, ["min", "min"])
    assert not np.array_equal(flipped, ranks)


def test_failed_rows_are_worst_and_never_on_front():
    values = np.array([[90.0, 5.0], [np.nan, np.nan], [91.0, 6.0], [89.0, 7.0]])
    ranks, crowding = rank_and_crowding(values, ACC_LAT)
    assert ranks[1] == ranks.max() and ranks[1] > ranks[3]
    assert crowding[1] == 0.0
    assert nondominated_mask(values, ACC_LAT).tolist() == [True, False, True, False]


def test_crowding_extremes_infinite_and_order_prefers_lonely_points():
    # one front of five points on a line; the middle point (index 2) is the most crowded by design
    values = np.array([[90.0, 1.0], [91.0, 2.0], [91.5, 2.5], [92.0, 3.0], [95.0, 6.0]])
    ranks, crowding = rank_and_crowding(values, ACC_LAT)
    assert ranks.tolist() == [0] * 5
    assert np.isinf(crowding[0]) and np.isinf(crowding[4])
    assert crowding[2] < crowding[3]
    order = selection_order(ranks, crowding)
    assert set(order[:2].tolist()) == {0, 4} and order[-1] == 2


def test_mismatched_columns_is_a_config_error():
    with pytest.raises(ConfigError, match="columns"):
        rank_and_crowding(np.zeros((3, 3)), ACC_LAT)
    with pytest.raises(ConfigError, match="direction"):
        rank_and_crowding(np.zeros((3, 2)), ["max", "up"])
