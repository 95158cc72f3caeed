"""Pareto rank and crowding distance for multi-objective strategies (NSGA-II, Q-NAS).

Thin wrappers over pymoo's non-dominated sorting and crowding distance, so every strategy ranks
populations the same way. pymoo is imported inside the functions: ``import nasforge`` stays light.

Conventions: ``values`` holds raw objective values (rows = candidates, columns = objectives, in the
objectives' order); directions come from the objectives ('max' / 'min'). Rows with a NaN or
infinite entry (failed trials) are dominated by everything: they get the worst rank and zero
crowding, so selection never prefers them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import ConfigError
from ..objectives import DIRECTIONS, Objective

#: diversity measures pymoo offers for ranking within a front
CROWDING = ("cd", "pcd", "ce", "mnn", "2nn")


def directions_of(objectives: Sequence[Objective | str]) -> list[str]:
    """Directions from Objective objects or plain 'max' / 'min' strings."""
    out = []
    for objective in objectives:
        direction = objective.direction if isinstance(objective, Objective) else str(objective)
        if direction not in DIRECTIONS:
            raise ConfigError(f"objective direction must be one of {DIRECTIONS}, got {direction!r}")
        out.append(direction)
    return out


def to_minimisation(values: np.ndarray, objectives: Sequence[Objective | str]) -> np.ndarray:
    """Flip 'max' columns so that smaller is better everywhere (what pymoo expects)."""
    array = np.asarray(values, dtype=float)
    if array.ndim == 1:
        array = array.reshape(-1, 1) if len(objectives) == 1 else array.reshape(1, -1)
    directions = directions_of(objectives)
    if array.shape[1] != len(directions):
        raise ConfigError(
            f"values have {array.shape[1]} columns but {len(directions)} objectives were given"
        )
    signs = np.array([-1.0 if d == "max" else 1.0 for d in directions])
    return array * signs


def pareto_ranks(values: np.ndarray, objectives: Sequence[Objective | str]) -> np.ndarray:
    """Front index per row (0 = non-dominated); non-finite rows get the worst rank."""
    return rank_and_crowding(values, objectives)[0]


def nondominated_mask(values: np.ndarray, objectives: Sequence[Objective | str]) -> np.ndarray:
    """True for rows no other finite row dominates (non-finite rows are never on the front)."""
    return pareto_ranks(values, objectives) == 0


def rank_and_crowding(
    values: np.ndarray, objectives: Sequence[Objective | str], crowding: str = "cd"
) -> tuple[np.ndarray, np.ndarray]:
    """Pareto rank (int, 0 = best front) and crowding distance (float, larger = lonelier).

    Crowding follows NSGA-II (Deb et al. 2002) as pymoo computes it: per front, normalised by the
    front's range in each objective; the extremes of a front get ``inf``, as do fronts of <= 2.
    ``crowding`` names another pymoo diversity measure: 'pcd' (pruning crowding distance), 'ce'
    (crowding entropy), 'mnn' / '2nn' (nearest-neighbour based).
    """
    if crowding not in CROWDING:
        raise ConfigError(f"crowding must be one of {CROWDING}, got {crowding!r}")
    from pymoo.operators.survival.rank_and_crowding.metrics import get_crowding_function
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    F = to_minimisation(values, objectives)
    n = F.shape[0]
    ranks = np.zeros(n, dtype=int)
    distance = np.zeros(n, dtype=float)
    if n == 0:
        return ranks, distance
    finite = np.all(np.isfinite(F), axis=1)
    index = np.flatnonzero(finite)
    worst = 0
    if index.size:
        fronts = NonDominatedSorting().do(F[index])
        crowd = get_crowding_function(crowding)
        for r, front in enumerate(fronts):
            members = index[front]
            ranks[members] = r
            distance[members] = crowd.do(F[members])
        worst = len(fronts)
    ranks[~finite] = worst
    distance[~finite] = 0.0
    return ranks, distance


def selection_order(ranks: np.ndarray, crowding: np.ndarray) -> np.ndarray:
    """Indices best-first: lower rank, then larger crowding (ties keep their input order)."""
    return np.lexsort((-np.asarray(crowding, dtype=float), np.asarray(ranks)))
