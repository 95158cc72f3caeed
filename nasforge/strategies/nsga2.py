"""NSGA-II (Deb et al. 2002) as an ask/tell strategy over a space's gene description.

Why ask/tell rather than pymoo's own ``minimize`` loop: the study owns the loop, trials finish out
of order on parallel executors, and a killed study must resume from a JSON state. So the
generational bookkeeping lives here while the numerical parts come from pymoo: non-dominated
sorting and crowding distance (via :mod:`nasforge.strategies.ranking`), point crossover and
polynomial mutation.

How asynchrony is tolerated: children are always bred from the *current* parents; every told
result joins the offspring pool, and as soon as the pool holds ``population_size`` results the
parents and the pool compete in NSGA-II survival (rank, then crowding). A child asked before a
survival but told after it simply competes in the next one. Failed trials (``tell(arch, None)``)
are dominated by everything and therefore only survive when nothing else is left.

Genes are searched as numbers: categorical genes by choice index, integer genes by value, float
genes by value. Integer-like genes are mutated on the interval [low - 0.5, high + 0.5] and rounded,
so every value owns an equally wide slice (the usual way to run polynomial mutation on integers).
Children the space rejects are repaired by reverting mutated genes toward the first parent. Children
already asked are redrawn, so the budget is never spent twice on one architecture. ``dedupe``
chooses what "the same" means: ``"string"`` (default) the exact architecture, ``"identity"`` its
function (``space.identity``, isomorphic cells collapse). Identity is right for accuracy-only
searches but wrong for hardware objectives: on HW-NAS-Bench, cells with the same function differ by
up to 5 ms Edge-GPU latency (dead convolutions still run), and identity dedupe would hide the
fastest member of a class.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..architecture import Architecture, Categorical, Float, Gene, Integer
from ..errors import ArchitectureError, ConfigError
from ..objectives import Objective
from ..options import Choice, Int, validated
from ..options import Float as Number
from ..pareto import CROWDING, rank_and_crowding, selection_order
from ..spaces.base import SearchSpace
from .base import Strategy, check_int
from .random import sample_unseen

_ROUNDING_MARGIN = 0.5 - 1e-9
#: what counts as "already asked": the exact architecture, or its function (space.identity)
DEDUPE = ("string", "identity")
#: finite spaces up to this many gene vectors are scanned when random sampling finds nothing new
_SCAN_LIMIT = 200_000


class NSGA2(Strategy):
    """Elitist multi-objective evolution; with one objective it is a (mu + lambda) GA.

    Options: ``population_size`` parents (mu); ``offspring_size`` results per survival (lambda,
    default mu; small values make it closer to steady-state); ``initial_size`` random architectures
    before the first survival (default mu); ``crossover_prob`` / ``crossover_points`` for pymoo's
    point crossover; ``mutation_prob`` per gene (default 1/number of genes, at least one gene always
    mutates) and ``mutation_eta`` (polynomial-mutation distribution index: small = wide jumps);
    ``dedupe`` ("string" or "identity", see module doc); ``crowding`` (pymoo diversity measure used
    after rank: "cd", "pcd", "ce", "mnn", "2nn"); ``max_attempts`` children tried before falling
    back to a random unseen architecture. For budgets of a few hundred evaluations a small
    population with mostly-mutation works best on NB201 (see ``benchmarks/mo_nb201.py``).
    """

    name = "nsga2"
    options = {
        "population_size": Int(low=2),
        "offspring_size": Int(low=1, none=True),
        "initial_size": Int(low=2, none=True),
        "crossover_prob": Number(low=0, high=1),
        "crossover_points": Int(low=1),
        "mutation_eta": Number(low=0, high=100, low_open=True),
        "mutation_prob": Number(low=0, high=1, none=True),
        "max_attempts": Int(low=1),
        "dedupe": Choice(*DEDUPE),
        "crowding": Choice(*CROWDING),
    }

    @validated
    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        objectives: Sequence[Objective] = (Objective("valid_accuracy", "max"),),
        population_size: int = 20,
        offspring_size: int | None = None,
        initial_size: int | None = None,
        crossover_prob: float = 0.9,
        crossover_points: int = 2,
        mutation_eta: float = 1.0,
        mutation_prob: float | None = None,
        max_attempts: int = 200,
        dedupe: str = "string",
        crowding: str = "cd",
    ) -> None:
        super().__init__(space, seed=seed, objectives=objectives)
        genes = list(space.genes())
        if not genes:
            raise ConfigError(f"NSGA-II needs a space with genes; space {space.name!r} has none")
        self._genes: list[Gene] = genes
        self.population_size = population_size
        self.offspring_size = population_size if offspring_size is None else offspring_size
        self.initial_size = (
            population_size
            if initial_size is None
            else check_int("NSGA2", "initial_size", initial_size, population_size)
        )
        self.crossover_prob = crossover_prob
        self.crossover_points = crossover_points
        if len(genes) > 1 and self.crossover_points > len(genes) - 1:
            raise ConfigError(
                f"parameter crossover_points of NSGA2 must be at most {len(genes) - 1} "
                f"(number of genes - 1), got {crossover_points!r}"
            )
        self.mutation_eta = mutation_eta
        self.mutation_prob = min(0.5, 1.0 / len(genes)) if mutation_prob is None else mutation_prob
        self.max_attempts = max_attempts
        self.dedupe = dedupe
        self.crowding = crowding

        self._xl, self._xu, self._rounded = _bounds(genes)
        self._parents: list[tuple[str, list[float] | None]] = []
        self._pool: list[tuple[str, list[float] | None]] = []
        self._pending: dict[str, None] = {}
        self._seen: set[str] = set()
        self._generation = 0
        self._parent_order: np.ndarray | None = None  # cached (rank, crowding) per parent
        self._ops: tuple[Any, Any, Any] | None = None  # pymoo operators, built on first use

    # --- ask -----------------------------------------------------------------------------------

    def _ask(self, n: int) -> list[Architecture]:
        """Children of the current parents (random architectures until the first survival)."""
        out: list[Architecture] = []
        for _ in range(int(n)):
            arch = self._breed() if self._parents else None
            if arch is None:
                arch = self._fresh_random()
            if arch is None:  # every architecture has been asked: nothing new to propose
                break
            self._pending[arch.string] = None
            out.append(arch)
        return out

    def _breed(self) -> Architecture | None:
        for _ in range(self.max_attempts):
            first, second = self._tournament(), self._tournament()
            child = self._vary(first, second)
            if child is not None and self._key(child) not in self._seen:
                self._seen.add(self._key(child))
                return child
        return None

    def _fresh_random(self) -> Architecture | None:
        # max_attempts samples in all: sample_unseen checks all but its last, checked here
        arch = sample_unseen(self.space, self.rng, self._seen, tries=self.max_attempts - 1, key=self._key)
        if self._key(arch) in self._seen:
            return self._scan_unseen()
        self._seen.add(self._key(arch))
        return arch

    def _scan_unseen(self) -> Architecture | None:
        """Near exhaustion, rejection sampling stalls: scan a small finite space in random order."""
        size = self.space.size()
        if size is None or size > _SCAN_LIMIT:
            return None
        radices = [
            g.size if isinstance(g, Categorical) else g.high - g.low + 1 for g in self._genes
        ]
        offsets = [0 if isinstance(g, Categorical) else g.low for g in self._genes]
        for number in self.rng.permutation(size):
            values, rest = [], int(number)
            for radix, offset in zip(reversed(radices), reversed(offsets)):
                rest, digit = divmod(rest, radix)
                values.append(digit + offset)
            try:
                arch = self.space.from_genes(values[::-1])
            except ArchitectureError:
                continue
            if self._key(arch) not in self._seen:
                self._seen.add(self._key(arch))
                return arch
        return None

    def _key(self, arch: Architecture) -> str:
        return self.space.identity(arch) if self.dedupe == "identity" else arch.string

    def _tournament(self) -> Architecture:
        """Binary tournament on (rank, crowding); the cached order makes ties impossible."""
        if self._parent_order is None:
            self._parent_order = _positions(self._rank_order(self._parents))
        a, b = self.rng.integers(len(self._parents), size=2)
        winner = a if self._parent_order[a] <= self._parent_order[b] else b
        return self.space.from_string(self._parents[int(winner)][0])

    def _vary(self, first: Architecture, second: Architecture) -> Architecture | None:
        from pymoo.core.population import Population

        problem, crossover, mutation = self._operators()
        x1 = np.asarray(self.space.to_genes(first), dtype=float)
        x2 = np.asarray(self.space.to_genes(second), dtype=float)
        children = Population.new("X", np.vstack([x1, x2]))
        if crossover is not None:
            children = crossover.do(problem, children, parents=[[0, 1]], random_state=self.rng)
        pick = children[int(self.rng.integers(len(children)))]
        mutated = mutation.do(problem, Population.new("X", pick.X[None, :]), random_state=self.rng)
        return self._repair(mutated[0].X, list(self.space.to_genes(first)))

    def _operators(self) -> tuple[Any, Any, Any]:
        """pymoo problem box, point crossover and polynomial mutation (built once, stateless)."""
        if self._ops is None:
            from pymoo.core.problem import Problem
            from pymoo.operators.crossover.pntx import PointCrossover
            from pymoo.operators.mutation.pm import PolynomialMutation

            problem = Problem(n_var=len(self._genes), xl=self._xl, xu=self._xu)
            crossover = (
                PointCrossover(n_points=self.crossover_points, prob=self.crossover_prob)
                if len(self._genes) > 1
                else None
            )
            mutation = PolynomialMutation(
                prob=1.0, prob_var=self.mutation_prob, eta=self.mutation_eta, at_least_once=True
            )
            self._ops = (problem, crossover, mutation)
        return self._ops

    def _repair(self, x: np.ndarray, fallback: list) -> Architecture | None:
        """Decode ``x``; if the space rejects it, revert genes to ``fallback`` one at a time."""
        values = self._decode(x)
        differing = [i for i, (v, f) in enumerate(zip(values, fallback)) if v != f]
        self.rng.shuffle(differing)
        while True:
            try:
                return self.space.from_genes(values)
            except ArchitectureError:
                if not differing:
                    return None
                i = differing.pop()
                values[i] = fallback[i]

    def _decode(self, x: np.ndarray) -> list:
        values: list = []
        for gene, value, rounded in zip(self._genes, x, self._rounded):
            if rounded:
                low = 0 if isinstance(gene, Categorical) else gene.low
                high = gene.size - 1 if isinstance(gene, Categorical) else gene.high
                values.append(int(np.clip(np.rint(value), low, high)))
            else:
                values.append(float(np.clip(value, gene.low, gene.high)))
        return values

    # --- tell ----------------------------------------------------------------------------------

    def _tell(self, arch: Architecture, values: list[float] | None) -> None:
        self._pending.pop(arch.string, None)
        self._seen.add(self._key(arch))
        if values is not None:
            values = [float(v) for v in values]
            if len(values) != len(self.objectives):
                raise ConfigError(
                    f"NSGA2 was told {len(values)} values for {len(self.objectives)} objectives"
                )
        self._pool.append((arch.string, values))
        needed = self.offspring_size if self._parents else self.initial_size
        if len(self._pool) >= needed:
            self._survive()

    def _survive(self) -> None:
        """NSGA-II survival of parents + pool: fill by fronts, split the last one by crowding."""
        merged = self._parents + self._pool
        order = self._rank_order(merged)
        self._parents = [merged[i] for i in order[: self.population_size]]
        self._pool = []
        self._generation += 1
        self._parent_order = None

    def _rank_order(self, members: list[tuple[str, list[float] | None]]) -> np.ndarray:
        m = len(self.objectives)
        values = np.array([v if v is not None else [np.nan] * m for _, v in members], dtype=float)
        ranks, crowding = rank_and_crowding(
            values.reshape(len(members), m), self.objectives, self.crowding
        )
        return selection_order(ranks, crowding)

    # --- introspection and state ---------------------------------------------------------------

    @property
    def generation(self) -> int:
        """Number of survivals so far (0 while the initial population is being evaluated)."""
        return self._generation

    def population(self) -> list[tuple[Architecture, list[float] | None]]:
        """Current parents with their values (best-ranked first)."""
        return [(self.space.from_string(s), v) for s, v in self._parents]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state.update(
            parents=[[s, v] for s, v in self._parents],
            pool=[[s, v] for s, v in self._pool],
            pending=list(self._pending),
            seen=sorted(self._seen),
            generation=self._generation,
        )
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._parents = [(s, None if v is None else list(v)) for s, v in state["parents"]]
        self._pool = [(s, None if v is None else list(v)) for s, v in state["pool"]]
        self._pending = dict.fromkeys(state["pending"])
        self._seen = set(state["seen"])
        self._generation = int(state["generation"])
        self._parent_order = None


def _bounds(genes: Sequence[Gene]) -> tuple[np.ndarray, np.ndarray, list[bool]]:
    """Search box per gene; integer-like genes get half-unit margins so rounding is unbiased."""
    xl, xu, rounded = [], [], []
    for gene in genes:
        if isinstance(gene, Categorical):
            xl.append(-_ROUNDING_MARGIN)
            xu.append(gene.size - 1 + _ROUNDING_MARGIN)
            rounded.append(True)
        elif isinstance(gene, Integer):
            xl.append(gene.low - _ROUNDING_MARGIN)
            xu.append(gene.high + _ROUNDING_MARGIN)
            rounded.append(True)
        elif isinstance(gene, Float):
            xl.append(float(gene.low))
            xu.append(float(gene.high))
            rounded.append(False)
        else:  # pragma: no cover - a space declared an unknown gene kind
            raise ConfigError(f"NSGA2 cannot search gene {gene!r}")
    return np.array(xl, dtype=float), np.array(xu, dtype=float), rounded


def _positions(order: np.ndarray) -> np.ndarray:
    """Inverse permutation: position of each member in the best-first order."""
    positions = np.empty(len(order), dtype=int)
    positions[order] = np.arange(len(order))
    return positions
