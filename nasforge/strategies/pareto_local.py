"""Pareto local search (Paquete et al. 2004; on NAS: White et al. 2021, "local search is state of
the art") as an ask/tell strategy, with a cheap linear model choosing which neighbour to try.

Why it beats NSGA-II on small budgets: NSGA-II breeds from a population of a few members and
forgets the rest of the archive, so a run can settle in one region of the front. PLS keeps *every*
non-dominated architecture found so far as a potential parent and spends each query on a
not-yet-evaluated neighbour (``space.neighbours``) of one of them, so the front is extended where
it is thin and nothing is evaluated twice.

Which front member to expand (``select``): ``"crowding"`` (default) takes the member with the
largest crowding distance among those that still have unexplored neighbours; the extremes have
infinite crowding, so the ends of the front are pushed first (ties go to a random member).
``"hv"`` takes the largest exclusive hypervolume contribution (objectives scaled to the archive's
range, reference 1.1), ``"random"`` any open member. Once every front member's neighbourhood is
exhausted the next Pareto rank is expanded, and when the whole archive is exhausted a random
unseen architecture restarts the search.

Which neighbour (``guide``): with ``"ridge"`` (default) a ridge regression of every objective on
``space.encode`` (refitted after each tell; a few hundred rows, so it costs microseconds) picks
the neighbour predicted furthest ahead of the current front by the additive epsilon indicator; on
NB-201 this removes most of the seed-to-seed spread. ``"none"`` draws the neighbour at random.

Asynchrony: each ask picks against the archive as it stands, so results told in any order just
update the archive, and in-flight architectures are never asked twice. Failed trials are
remembered (never re-asked) but never join a front. The state is the archive in tell order, the
in-flight set and the RNG; fronts, crowding, model and neighbourhoods are recomputed from it, so a
resumed run continues identically.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..architecture import Architecture
from ..objectives import Objective
from ..options import Choice, Int, validated
from ..options import Float as Number
from ..pareto import CROWDING, rank_and_crowding, to_minimisation
from ..spaces.base import SearchSpace
from .base import Strategy
from .random import sample_unseen

#: how the front member to expand is chosen
SELECT = ("crowding", "hv", "random")
#: how the neighbour of that member is chosen
GUIDE = ("ridge", "none")
#: what counts as "already asked": the exact architecture, or its function (space.identity)
DEDUPE = ("string", "identity")


class ParetoLocalSearch(Strategy):
    """Multi-objective local search over the archive's Pareto front (with one objective: a hill
    climb that keeps every improvement as a new starting point).

    Options: ``initial_size`` random architectures before the first expansion; ``select`` and
    ``guide`` (see module doc); ``ridge_alpha`` (L2 penalty of the guide model); ``crowding``
    (pymoo diversity measure, as in NSGA-II); ``dedupe`` ("string": the exact architecture, right
    for hardware objectives where isomorphic cells differ in latency; "identity":
    ``space.identity``).
    """

    name = "pareto_local"
    options = {
        "initial_size": Int(low=1),
        "select": Choice(*SELECT),
        "guide": Choice(*GUIDE),
        "ridge_alpha": Number(low=0, low_open=True),
        "crowding": Choice(*CROWDING),
        "dedupe": Choice(*DEDUPE),
    }

    @validated
    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        objectives: Sequence[Objective] = (Objective("valid_accuracy", "max"),),
        initial_size: int = 20,
        select: str = "crowding",
        guide: str = "ridge",
        ridge_alpha: float = 1.0,
        crowding: str = "cd",
        dedupe: str = "string",
    ) -> None:
        super().__init__(space, seed=seed, objectives=objectives)
        self.initial_size = int(initial_size)
        self.select = select
        self.guide = guide
        self.ridge_alpha = float(ridge_alpha)
        self.crowding = crowding
        self.dedupe = dedupe
        self._archive: list[tuple[str, list[float] | None]] = []  # tell order
        self._pending: dict[str, None] = {}
        self._seen: set[str] = set()  # keys asked (told or in flight)
        # caches derived from the archive or the space (never part of the state)
        self._neighbours: dict[str, list[Architecture]] = {}
        self._codes: dict[str, np.ndarray] = {}
        self._levels: list[list[int]] | None = None  # archive indices per Pareto rank
        self._crowd: np.ndarray = np.zeros(0)
        self._model: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    # --- ask -----------------------------------------------------------------------------------

    def _ask(self, n: int) -> list[Architecture]:
        out: list[Architecture] = []
        for _ in range(int(n)):
            arch = self._expand() if len(self._archive) >= self.initial_size else None
            if arch is None:
                arch = self._fresh()
            if arch is None:  # the space is exhausted
                break
            self._seen.add(self._key(arch))
            self._pending[arch.string] = None
            out.append(arch)
        return out

    def _expand(self) -> Architecture | None:
        """An unexplored neighbour of a member of the best Pareto rank that still has one."""
        for level in self._ranking():
            open_members = [i for i in level if self._unexplored(i)]
            if not open_members:
                continue
            options = self._unexplored(self._choose(open_members))
            if self.guide == "ridge" and len(options) > 1:
                return options[self._most_promising(options)]
            return options[int(self.rng.integers(len(options)))]
        return None

    def _choose(self, members: list[int]) -> int:
        if self.select == "random" or len(members) == 1:
            return members[int(self.rng.integers(len(members)))]
        values = self._contributions(members) if self.select == "hv" else self._crowd[members]
        best = np.flatnonzero(values == values.max())
        return members[int(best[int(self.rng.integers(len(best)))])]

    def _unexplored(self, index: int) -> list[Architecture]:
        string = self._archive[index][0]
        if string not in self._neighbours:
            self._neighbours[string] = self.space.neighbours(self.space.from_string(string))
        return [a for a in self._neighbours[string] if self._key(a) not in self._seen]

    def _fresh(self) -> Architecture | None:
        arch = sample_unseen(self.space, self.rng, self._seen, key=self._key)
        return None if self._key(arch) in self._seen else arch

    def _key(self, arch: Architecture) -> str:
        return self.space.identity(arch) if self.dedupe == "identity" else arch.string

    # --- front bookkeeping and the guide model -------------------------------------------------

    def _ranking(self) -> list[list[int]]:
        """Pareto levels of the successful archive members, best first (cached until a tell)."""
        if self._levels is None:
            ok = self._successful()
            self._crowd = np.zeros(len(self._archive))
            self._levels = []
            if ok:
                ranks, distance = rank_and_crowding(self._values(ok), self.objectives, self.crowding)
                self._crowd[ok] = distance
                self._levels = [
                    [ok[j] for j in np.flatnonzero(ranks == r)] for r in np.unique(ranks)
                ]
        return self._levels

    def _successful(self) -> list[int]:
        return [i for i, (_, v) in enumerate(self._archive) if v is not None]

    def _values(self, members: list[int]) -> np.ndarray:
        return np.array([self._archive[i][1] for i in members], dtype=float).reshape(
            len(members), len(self.objectives)
        )

    def _scaled(self) -> dict[int, np.ndarray]:
        """Minimised objectives of successful members, scaled to [0, 1] over the archive."""
        ok = self._successful()
        F = to_minimisation(self._values(ok), self.objectives)
        low, span = F.min(axis=0), np.ptp(F, axis=0)
        span[span == 0] = 1.0
        return dict(zip(ok, (F - low) / span))

    def _contributions(self, members: list[int]) -> np.ndarray:
        """Exclusive hypervolume of each member within its own Pareto level (reference 1.1)."""
        from pymoo.indicators.hv import HV

        scaled = self._scaled()
        hv = HV(ref_point=np.full(len(self.objectives), 1.1))
        level_of = {i: level for level in self._ranking() for i in level}
        out = []
        for member in members:
            level = level_of[member]
            others = [scaled[i] for i in level if i != member]
            total = hv(np.array([scaled[i] for i in level]))
            out.append(total - (hv(np.array(others)) if others else 0.0))
        return np.array(out)

    def _most_promising(self, options: list[Architecture]) -> int:
        """The option the ridge model predicts furthest ahead of the front: smallest additive
        epsilon needed to be non-dominated (negative = predicted to extend the front)."""
        if self._model is None:
            scaled = self._scaled()
            ok = list(scaled)
            X = np.array([self._encode(self._archive[i][0]) for i in ok])
            Y = np.array([scaled[i] for i in ok])
            x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
            Xc = X - x_mean
            gram = Xc.T @ Xc + self.ridge_alpha * np.eye(X.shape[1])
            weights = np.linalg.solve(gram, Xc.T @ (Y - y_mean))
            front = np.array([scaled[i] for i in self._ranking()[0]])
            self._model = (x_mean, y_mean, weights, front)
        x_mean, y_mean, weights, front = self._model
        X = np.array([self._encode(a.string) for a in options])
        predicted = (X - x_mean) @ weights + y_mean
        eps = (predicted[:, None, :] - front[None, :, :]).min(axis=2).max(axis=1)
        best = np.flatnonzero(eps == eps.min())
        return int(best[int(self.rng.integers(len(best)))])

    def _encode(self, string: str) -> np.ndarray:
        if string not in self._codes:
            self._codes[string] = np.asarray(
                self.space.encode(self.space.from_string(string)), dtype=float
            )
        return self._codes[string]

    # --- tell ----------------------------------------------------------------------------------

    def _tell(self, arch: Architecture, values: list[float] | None) -> None:
        if values is not None:
            if not all(np.isfinite(values)):
                values = None
        self._pending.pop(arch.string, None)
        self._seen.add(self._key(arch))
        self._archive.append((arch.string, values))
        self._levels = None
        self._model = None

    # --- introspection and state ---------------------------------------------------------------

    def front(self) -> list[tuple[Architecture, list[float]]]:
        """Non-dominated architectures found so far, in tell order."""
        levels = self._ranking()
        first = sorted(levels[0]) if levels else []
        return [(self.space.from_string(self._archive[i][0]), self._archive[i][1]) for i in first]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state.update(
            archive=[[s, v] for s, v in self._archive],
            pending=list(self._pending),
            seen=sorted(self._seen),
        )
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._archive = [(s, None if v is None else list(v)) for s, v in state["archive"]]
        self._pending = dict.fromkeys(state["pending"])
        self._seen = set(state["seen"])
        self._levels = None
        self._model = None
