"""The quantum population of Q-NAS: probability vectors and pulses over a space's genes.

Q-NAS (Szwarcman et al.) never mutates networks directly. Each *quantum individual* is a
distribution over gene vectors -- a probability vector per categorical gene and a uniform pulse
``[lower, upper]`` per numeric gene -- and classical individuals are *observations* of it. The
search moves these distributions toward the best classical individuals found so far.

Numeric genes are handled on a unit scale (``[0, 1]``, logarithmic for ``Float(log=True)``), so a
pulse means the same thing for a learning rate and for a channel count. Integer genes map the unit
interval onto equal-width bins, so every integer in ``[low, high]`` is equally likely under a full
pulse.

Initial categorical probabilities are uniform across *function groups* when the space has them
(1/3 no-op, 1/3 pooling, 1/3 convolutional in the Q-NAS chain space), then uniform within a group:
1. a space may define ``gene_groups(gene_name) -> {group: [choice, ...]}`` (or None);
2. otherwise groups are derived from choice names: ``no_op``/``none``/``zero`` -> no-op,
   ``*pool*`` -> pooling, ``conv*``/``res*`` -> convolutional; this applies only when *every*
   choice falls in a group and there are at least two groups;
3. otherwise the vector is uniform over the choices (e.g. NB201's edges, an optimizer gene).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from ..architecture import Categorical, Float, Gene, GeneValue, Integer
from ..errors import ConfigError
from ..spaces.base import SearchSpace, from_unit, unit_of

# --- function groups ---------------------------------------------------------------------------

_NO_OP_NAMES = {"no_op", "noop", "none", "zero", "no-op"}


def derive_group(choice: Any) -> str | None:
    """Function group of a choice name, or None when its name says nothing."""
    name = str(choice).lower()
    if name in _NO_OP_NAMES:
        return "no_op"
    if "pool" in name:
        return "pooling"
    if name.startswith(("conv", "res")) or "conv" in name:
        return "convolution"
    return None


def initial_probabilities(space: SearchSpace, gene: Categorical) -> np.ndarray:
    """Uniform over function groups, then uniform within each group (see the module docstring)."""
    groups = _groups_from_space(space, gene)
    if groups is None:
        derived: dict[str, list[Any]] = {}
        for choice in gene.choices:
            group = derive_group(choice)
            if group is None:
                derived = {}
                break
            derived.setdefault(group, []).append(choice)
        groups = derived if len(derived) >= 2 else None
    if groups is None:
        return np.full(gene.size, 1.0 / gene.size)
    probs = np.zeros(gene.size)
    index = {c: i for i, c in enumerate(gene.choices)}
    share = 1.0 / len(groups)
    for members in groups.values():
        for choice in members:
            probs[index[choice]] += share / len(members)
    return probs / probs.sum()


def _groups_from_space(space: SearchSpace, gene: Categorical) -> dict[str, list[Any]] | None:
    hook = getattr(space, "gene_groups", None)
    if hook is None:
        return None
    groups = hook(gene.name)
    if not groups:
        return None
    groups = {str(k): list(v) for k, v in dict(groups).items() if len(v)}
    listed = [c for members in groups.values() for c in members]
    if sorted(map(str, listed)) != sorted(map(str, gene.choices)):
        raise ConfigError(
            f"space {space.name!r}: gene_groups({gene.name!r}) must list every choice exactly "
            f"once, got {listed} for choices {list(gene.choices)}"
        )
    return groups


# --- numeric genes on the unit scale -----------------------------------------------------------


def to_unit(gene: Gene, value: GeneValue) -> float:
    """Unit-scale position of a numeric gene value (the centre of its bin for integers)."""
    if isinstance(gene, Integer):
        bins = gene.high - gene.low + 1
        return (int(value) - gene.low + 0.5) / bins
    return float(unit_of(gene, float(value)))


def from_unit_value(gene: Gene, unit: float) -> GeneValue:
    """Gene value of a unit-scale position (equal-width bins for integers)."""
    unit = min(max(float(unit), 0.0), 1.0)
    if isinstance(gene, Integer):
        bins = gene.high - gene.low + 1
        return int(gene.low + min(int(math.floor(unit * bins)), bins - 1))
    return from_unit(gene, unit)


# --- the quantum population --------------------------------------------------------------------


class QuantumPopulation:
    """``size`` quantum individuals over a space's genes.

    ``probs[k]`` is a ``(size, choices)`` array for the k-th categorical gene; ``lower`` and
    ``upper`` are ``(size, numeric genes)`` arrays of pulse limits on the unit scale.
    """

    def __init__(self, space: SearchSpace, size: int) -> None:
        self.genes: tuple[Gene, ...] = tuple(space.genes())
        self.size = size
        self.categorical = [i for i, g in enumerate(self.genes) if isinstance(g, Categorical)]
        self.numeric = [i for i, g in enumerate(self.genes) if isinstance(g, (Integer, Float))]
        self.probs = [
            np.tile(initial_probabilities(space, self.genes[i]), (size, 1))
            for i in self.categorical
        ]
        self.lower = np.zeros((size, len(self.numeric)))
        self.upper = np.ones((size, len(self.numeric)))

    # --- observation ---------------------------------------------------------------------------

    def observe(self, individual: int, rng: np.random.Generator) -> list[float | int]:
        """One classical chromosome: choice indices for categorical genes, unit values otherwise."""
        chromosome: list[float | int] = [0] * len(self.genes)
        for k, i in enumerate(self.categorical):
            p = self.probs[k][individual]
            chromosome[i] = int(rng.choice(p.size, p=p))
        if self.numeric:
            lo, hi = self.lower[individual], self.upper[individual]
            draws = lo + rng.random(len(self.numeric)) * (hi - lo)
            for j, i in enumerate(self.numeric):
                chromosome[i] = float(draws[j])
        return chromosome

    def decode(self, chromosome: Sequence[float | int]) -> list[GeneValue]:
        """Gene values the space understands."""
        out: list[GeneValue] = []
        for gene, value in zip(self.genes, chromosome):
            categorical = isinstance(gene, Categorical)
            out.append(int(value) if categorical else from_unit_value(gene, value))
        return out

    def encode(self, values: Sequence[GeneValue]) -> list[float | int]:
        """Chromosome of gene values (used when a fallback sample replaces an observation)."""
        return [
            int(v) if isinstance(g, Categorical) else to_unit(g, v)
            for g, v in zip(self.genes, values)
        ]

    # --- update --------------------------------------------------------------------------------

    def update(
        self,
        ranked: Sequence[Sequence[float | int]],
        intensity: float,
        rate: float,
        step: float,
        cap: float,
        rng: np.random.Generator,
    ) -> None:
        """Move individual i toward the i-th best chromosome of ``ranked`` (best first).

        Each gene is updated with probability ``rate``. Categorical: the chosen function gains
        ``intensity * step`` (never beyond ``cap``), taken from the others in proportion to their
        mass, so the vector stays normalised. Numeric: the pulse re-centres on the chosen value
        by ``intensity`` of the way, its width tending to the population's spread (max - min of
        the ranked chromosomes), clipped to [0, 1] (the original Q-NAS rule).
        """
        if not ranked:
            return
        chosen = list(ranked[: self.size])
        mask = rng.random((self.size, len(self.genes))) < rate
        for q in range(min(self.size, len(chosen))):
            for k, i in enumerate(self.categorical):
                if mask[q, i]:
                    self.probs[k][q] = _reinforce(
                        self.probs[k][q], int(chosen[q][i]), intensity * step, cap
                    )
        if self.numeric:
            population = np.asarray([[float(c[i]) for i in self.numeric] for c in ranked])
            spread = population.max(axis=0) - population.min(axis=0)
            for q in range(min(self.size, len(chosen))):
                best = np.asarray([float(chosen[q][i]) for i in self.numeric])
                move = mask[q, self.numeric]
                lower = self.lower[q] + intensity * (best - self.lower[q] - spread / 2)
                upper = self.upper[q] + intensity * (best - self.upper[q] + spread / 2)
                self.lower[q] = np.where(move, np.clip(lower, 0.0, 1.0), self.lower[q])
                self.upper[q] = np.where(move, np.clip(upper, 0.0, 1.0), self.upper[q])

    # --- state ---------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "probs": [p.tolist() for p in self.probs],
            "lower": self.lower.tolist(),
            "upper": self.upper.tolist(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        probs = [np.asarray(p, dtype=float) for p in state["probs"]]
        shapes = [p.shape for p in probs]
        if shapes != [p.shape for p in self.probs]:
            raise ConfigError("Q-NAS state does not match this space's genes or population size")
        self.probs = probs
        self.lower = np.asarray(state["lower"], dtype=float).reshape(self.lower.shape)
        self.upper = np.asarray(state["upper"], dtype=float).reshape(self.upper.shape)


def _reinforce(p: np.ndarray, choice: int, amount: float, cap: float) -> np.ndarray:
    """Add up to ``amount`` to ``p[choice]`` (capped), taking it proportionally from the rest."""
    amount = min(amount, max(cap - p[choice], 0.0))
    others = p.sum() - p[choice]
    if amount <= 0.0 or others <= 0.0:
        return p
    out = p - amount * p / others
    out[choice] = p[choice] + amount
    out = np.clip(out, 0.0, None)
    return out / out.sum()
