"""Q-NAS: quantum-inspired evolutionary search (Szwarcman et al.), with the enhanced variant.

Each generation, every quantum individual (see :mod:`.qnas_quantum`) is observed ``repetition``
times; numeric genes of the new classical individuals cross over with the old classical population
(``new + (old - new) * r``, one ``r`` in [0, 1] per generation); the best ``population x
repetition`` of old and new survive; every ``update_quantum_gen`` generations quantum individual i
moves toward the i-th best classical individual with intensity ``r``.

Enhanced Q-NAS adds the optimizer as a gene (spaces such as ``chain`` already have one: nothing to
do here) and *evolution patience*: after ``patience`` generations without a better best-so-far the
strategy is :attr:`finished` and ``ask`` returns ``[]``.

Asynchronous ask/tell: ``ask`` hands out the classical individuals of the current generation not
yet handed out (fewer than ``n`` when the rest are being evaluated, ``[]`` while waiting); a
generation ends when all its results are told, in any order; a failed trial (``None``) gets the
worst fitness. The whole state -- quantum and classical populations, the generation in flight,
best-so-far, patience counter and RNG -- is JSON, so a killed study resumes on the same trajectory.

Fitness is the first objective (as "larger is better"), minus ``penalty`` per reduction (pooling)
layer beyond ``reduction_limit`` when the space counts them (``space.reductions(arch)``). With
several objectives, individuals are ordered by Pareto rank, then crowding distance (NSGA-II's
rule, from :mod:`.ranking`); the penalty then applies to the first objective.

Presets (``preset=``): ``"small_budget"`` (the default) holds settings tuned on NAS-Bench-201 for
50-300 evaluations, ``"paper"`` the published settings (see :data:`PRESETS`;
benchmarks/qnas_nb201.py measures both: at those budgets the paper preset is no better than random
search on NB201, the small-budget one is level with TPE). Explicit arguments override the preset.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..architecture import Architecture
from ..errors import ArchitectureError, ConfigError
from ..objectives import Objective
from ..options import Bool, Choice, Int, validated
from ..options import Float as Number
from ..pareto import rank_and_crowding, selection_order
from ..spaces.base import SearchSpace
from .base import Strategy
from .qnas_quantum import QuantumPopulation

#: Published Q-NAS settings (Szwarcman et al.; the original implementation's defaults).
PAPER: dict[str, Any] = {
    "population": 5,
    "repetition": 4,
    "crossover_rate": 0.5,
    "update_quantum_gen": 5,
    "update_quantum_rate": 0.1,
    "update_step": 0.05,
    "max_probability": 0.99,
    "penalty": 0.01,
    "reduction_limit": None,
    "max_generations": None,
    "patience": None,
    "avoid_duplicates": False,
}

#: Tuned for 50-300 evaluations on NAS-Bench-201 validation accuracy (cifar100, ImageNet16-120,
#: cifar10-valid; seeds 1000-1039, disjoint from the benchmark's 0-49). The paper's update is far
#: too gentle to move the distributions within ~10 generations, so: smaller generations (3 x 2),
#: update after every generation, every gene, with a 6x larger step, a lower cap (0.9) to keep
#: exploring, and never spend an evaluation on an architecture already proposed.
SMALL_BUDGET: dict[str, Any] = {
    **PAPER,
    "population": 3,
    "repetition": 2,
    "update_quantum_gen": 1,
    "update_quantum_rate": 1.0,
    "update_step": 0.3,
    "max_probability": 0.9,
    "avoid_duplicates": True,
}

PRESETS: dict[str, dict[str, Any]] = {"paper": PAPER, "small_budget": SMALL_BUDGET}

_MAX_TRIES = 50  # observations (then uniform samples) tried before accepting an invalid/duplicate


class QNAS(Strategy):
    """Quantum-inspired evolutionary search over any space that describes its genes.

    Parameters (``None`` takes the preset's value; the paper's value in brackets):

    - ``population`` [5]: quantum individuals.
    - ``repetition`` [4]: observations per quantum individual per generation; a generation has
      ``population * repetition`` classical individuals, and so many survive replacement.
    - ``crossover_rate`` [0.5]: probability that a numeric gene of a new classical individual
      crosses over with the old individual in the same slot.
    - ``update_quantum_gen`` [5]: generations between quantum updates.
    - ``update_quantum_rate`` [0.1]: probability that a quantum gene is updated.
    - ``update_step`` [0.05]: the most probability mass one update moves (scaled by ``r``).
    - ``max_probability`` [0.99]: cap on any function's probability, so nothing is ruled out.
    - ``penalty`` [0.01]: fitness subtracted per reduction layer beyond ``reduction_limit``, in
      units of the first objective.
    - ``reduction_limit`` [None = no penalty]: needs a space with ``reductions(arch)``.
    - ``max_generations`` [None = unbounded]: finish after this many generations.
    - ``patience`` [None = never]: finish after this many generations without improvement.
    - ``avoid_duplicates`` [False]: re-observe (then sample uniformly) instead of proposing an
      architecture this search has already proposed.
    """

    name = "qnas"
    options = {  # None: the preset's value
        "preset": Choice(*PRESETS),
        "population": Int(low=1, none=True),
        "repetition": Int(low=1, none=True),
        "crossover_rate": Number(low=0, high=1, none=True),
        "update_quantum_gen": Int(low=1, none=True),
        "update_quantum_rate": Number(low=0, high=1, none=True),
        "update_step": Number(low=0, high=1, low_open=True, none=True),
        "max_probability": Number(low=0, high=1, low_open=True, none=True),
        "penalty": Number(low=0, none=True),
        "reduction_limit": Int(low=0, none=True),
        "max_generations": Int(low=1, none=True),
        "patience": Int(low=1, none=True),
        "avoid_duplicates": Bool(none=True),
    }

    @validated
    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        objectives: Sequence[Objective] = (Objective("valid_accuracy", "max"),),
        preset: str = "small_budget",
        population: int | None = None,
        repetition: int | None = None,
        crossover_rate: float | None = None,
        update_quantum_gen: int | None = None,
        update_quantum_rate: float | None = None,
        update_step: float | None = None,
        max_probability: float | None = None,
        penalty: float | None = None,
        reduction_limit: int | None = None,
        max_generations: int | None = None,
        patience: int | None = None,
        avoid_duplicates: bool | None = None,
    ) -> None:
        super().__init__(space, seed=seed, objectives=objectives)
        given = {
            "population": population,
            "repetition": repetition,
            "crossover_rate": crossover_rate,
            "update_quantum_gen": update_quantum_gen,
            "update_quantum_rate": update_quantum_rate,
            "update_step": update_step,
            "max_probability": max_probability,
            "penalty": penalty,
            "reduction_limit": reduction_limit,
            "max_generations": max_generations,
            "patience": patience,
            "avoid_duplicates": avoid_duplicates,
        }
        settings = {k: (PRESETS[preset][k] if v is None else v) for k, v in given.items()}
        _validate(settings, space)
        self.preset = preset
        self.settings = settings
        self.population: int = settings["population"]
        self.repetition: int = settings["repetition"]
        self.crossover_rate: float = float(settings["crossover_rate"])
        self.update_quantum_gen: int = settings["update_quantum_gen"]
        self.update_quantum_rate: float = float(settings["update_quantum_rate"])
        self.update_step: float = float(settings["update_step"])
        self.max_probability: float = float(settings["max_probability"])
        self.penalty: float = float(settings["penalty"])
        self.reduction_limit: int | None = settings["reduction_limit"]
        self.max_generations: int | None = settings["max_generations"]
        self.patience: int | None = settings["patience"]
        self.avoid_duplicates: bool = bool(settings["avoid_duplicates"])

        self.quantum = QuantumPopulation(space, self.population)
        self.generation = 0
        self.classical: list[dict[str, Any]] = []  # survivors, best first
        self.batch: list[dict[str, Any]] | None = None  # the generation being evaluated
        self.intensity = 0.0  # this generation's r (crossover distance, update intensity)
        self.best: dict[str, Any] | None = None  # {"arch", "fitness"} (single objective)
        self.stall = 0  # generations without improvement
        self._finished = False
        self._seen: dict[str, None] = {}

    @staticmethod
    def paper_defaults() -> dict[str, Any]:
        """The published settings (what ``preset="paper"`` uses)."""
        return dict(PAPER)

    @staticmethod
    def small_budget_defaults() -> dict[str, Any]:
        """Settings tuned for 50-300 evaluations (``preset="small_budget"``)."""
        return dict(SMALL_BUDGET)

    @property
    def finished(self) -> bool:
        """True once patience or ``max_generations`` ended the search; ask then returns []."""
        return self._finished

    # --- ask / tell ----------------------------------------------------------------------------

    def _ask(self, n: int) -> list[Architecture]:
        if self._finished:
            return []
        if self.batch is None:
            self._start_generation()
        out = []
        for slot in self.batch:
            if len(out) >= n:
                break
            if slot["status"] == "queued":
                slot["status"] = "asked"
                out.append(slot["arch"])
        return out

    def _tell(self, arch: Architecture, values: list[float] | None) -> None:
        """Record a result; results for architectures not asked in this generation are ignored."""
        if self.batch is None:
            return
        waiting = (s for s in self.batch if s["status"] == "asked")
        slot = next((s for s in waiting if s["arch"].string == arch.string), None)
        if slot is None:
            return
        slot["status"] = "done"
        slot["objectives"] = self._objectives_of(slot["arch"], values)
        if all(s["status"] == "done" for s in self.batch):
            self._end_generation()

    # --- the generation cycle --------------------------------------------------------------------

    def _start_generation(self) -> None:
        self.intensity = float(self.rng.random())
        batch = []
        for i in range(self.population * self.repetition):
            chromosome, arch = self._new_individual(i % self.population, i)
            self._seen.setdefault(arch.string, None)
            batch.append(
                {"arch": arch, "chromosome": chromosome, "status": "queued", "objectives": None}
            )
        self.batch = batch

    def _new_individual(self, q: int, slot: int) -> tuple[list, Architecture]:
        """Observe quantum individual ``q`` (with crossover) until valid and, if asked, new."""
        fallback = None
        for _ in range(_MAX_TRIES):
            chromosome = self._crossover(self.quantum.observe(q, self.rng), slot)
            try:
                arch = self.space.from_genes(self.quantum.decode(chromosome))
            except ArchitectureError:
                continue
            if not self.avoid_duplicates or arch.string not in self._seen:
                return chromosome, arch
            fallback = fallback or (chromosome, arch)
        for _ in range(_MAX_TRIES):
            arch = self.space.sample(self.rng)
            chromosome = self.quantum.encode(self.space.to_genes(arch))
            if not self.avoid_duplicates or arch.string not in self._seen:
                return chromosome, arch
            fallback = fallback or (chromosome, arch)
        return fallback

    def _crossover(self, chromosome: list, slot: int) -> list:
        if not self.classical or not self.quantum.numeric:
            return chromosome
        old = self.classical[slot % len(self.classical)]["chromosome"]
        cross = self.rng.random(len(self.quantum.numeric)) < self.crossover_rate
        for j, i in enumerate(self.quantum.numeric):
            if cross[j]:
                new = float(chromosome[i])
                chromosome[i] = new + (float(old[i]) - new) * self.intensity
        return chromosome

    def _objectives_of(
        self, arch: Architecture, values: Sequence[float] | None
    ) -> list[float] | None:
        """Objective values as "larger is better", the reduction penalty on the first one."""
        if values is None:
            return None
        signed = [o.sign * float(v) for o, v in zip(self.objectives, values)]
        if not all(math.isfinite(v) for v in signed):
            return None
        signed[0] -= self.penalty * self._excess_reductions(arch)
        return signed

    def _excess_reductions(self, arch: Architecture) -> int:
        if self.reduction_limit is None:
            return 0
        return max(0, int(self.space.reductions(arch)) - self.reduction_limit)

    def _end_generation(self) -> None:
        old, new = self.classical, self.batch
        union = old + new
        order = self._rank(union)
        keep = self.population * self.repetition
        self.classical = [union[j] for j in order[:keep]]
        improved = self._improved(union, order, len(old))
        self.stall = 0 if improved else self.stall + 1
        self.generation += 1
        self.batch = None
        if self.generation % self.update_quantum_gen == 0:
            self.quantum.update(
                [c["chromosome"] for c in self.classical],
                self.intensity,
                self.update_quantum_rate,
                self.update_step,
                self.max_probability,
                self.rng,
            )
        if self.patience is not None and self.stall >= self.patience:
            self._finished = True
        if self.max_generations is not None and self.generation >= self.max_generations:
            self._finished = True

    def _rank(self, members: list[dict[str, Any]]) -> list[int]:
        """Indices best first (stable: among equals, older members first)."""
        if not self.multi_objective:
            fitness = [self._fitness(m) for m in members]
            return sorted(range(len(members)), key=lambda j: -fitness[j])
        ranks, crowding = self._rank_and_crowding(members)
        return [int(j) for j in selection_order(ranks, crowding)]

    def _rank_and_crowding(self, members: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        m = len(self.objectives)
        values = np.array(
            [x["objectives"] if x["objectives"] is not None else [np.nan] * m for x in members],
            dtype=float,
        ).reshape(len(members), m)
        return rank_and_crowding(values, ["max"] * m)

    @staticmethod
    def _fitness(member: dict[str, Any]) -> float:
        objectives = member["objectives"]
        return float("-inf") if objectives is None else float(objectives[0])

    def _improved(self, union: list[dict[str, Any]], order: list[int], n_old: int) -> bool:
        if not self.multi_objective:
            champion = union[order[0]]
            fitness = self._fitness(champion)
            if math.isfinite(fitness) and (self.best is None or fitness > self.best["fitness"]):
                self.best = {"arch": champion["arch"].string, "fitness": fitness}
                return True
            return False
        # several objectives: a new member entered the front with a point not seen before
        ranks, _ = self._rank_and_crowding(union)
        old_points = {tuple(m["objectives"]) for m in union[:n_old] if m["objectives"] is not None}
        return any(
            ranks[j] == 0
            and union[j]["objectives"] is not None
            and tuple(union[j]["objectives"]) not in old_points
            for j in range(n_old, len(union))
        )

    # --- state -----------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state.update(
            {
                "settings": dict(self.settings),
                "quantum": self.quantum.state_dict(),
                "generation": self.generation,
                "intensity": self.intensity,
                "classical": [_member_state(m) for m in self.classical],
                "batch": None if self.batch is None else [_member_state(m) for m in self.batch],
                "best": None if self.best is None else dict(self.best),
                "stall": self.stall,
                "finished": self._finished,
                "seen": list(self._seen),
            }
        )
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        saved = state["settings"]
        for key in ("population", "repetition"):
            if saved[key] != self.settings[key]:
                raise ConfigError(
                    f"Q-NAS state was saved with {key}={saved[key]}, "
                    f"this strategy has {self.settings[key]}"
                )
        super().load_state_dict(state)
        self.quantum.load_state_dict(state["quantum"])
        self.generation = int(state["generation"])
        self.intensity = float(state["intensity"])
        self.classical = [self._member_from_state(m) for m in state["classical"]]
        batch = state["batch"]
        self.batch = None if batch is None else [self._member_from_state(m) for m in batch]
        self.best = None if state["best"] is None else dict(state["best"])
        self.stall = int(state["stall"])
        self._finished = bool(state["finished"])
        self._seen = dict.fromkeys(state["seen"])

    def _member_from_state(self, m: dict[str, Any]) -> dict[str, Any]:
        return {
            "arch": self.space.from_string(m["arch"]),
            "chromosome": list(m["chromosome"]),
            "status": m["status"],
            "objectives": None if m["objectives"] is None else [float(v) for v in m["objectives"]],
        }

    def __repr__(self) -> str:
        return f"QNAS(space={self.space.name!r}, seed={self.seed}, preset={self.preset!r})"


def _member_state(m: dict[str, Any]) -> dict[str, Any]:
    return {
        "arch": m["arch"].string,
        "chromosome": list(m["chromosome"]),
        "status": m["status"],
        "objectives": m["objectives"],
    }


# --- validation ----------------------------------------------------------------------------


def _validate(s: dict[str, Any], space: SearchSpace) -> None:
    """What the declared options cannot say: the space must support the chosen settings."""
    if s["reduction_limit"] is not None:
        if not callable(getattr(space, "reductions", None)):
            raise ConfigError(
                f"parameter reduction_limit of QNAS needs a space that counts reductions "
                f"(reductions(arch)); space {space.name!r} does not"
            )
    if not list(space.genes()):
        raise ConfigError(
            f"QNAS needs a space that describes its genes; space {space.name!r} has none"
        )
