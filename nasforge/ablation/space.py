"""The members of an ablation study: (component left out, seed), as a search space.

An ablation study is a study whose "architectures" are the unablated model (``base``) and the model
with one component removed, each trained with every seed. Writing them as members of a space lets
ablation run through the same loop, store, executors and resume logic as any search; the string
``'<component>@seed<k>'`` is what the store records and what the report reads back.
Pure Python (no torch), like every space.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..architecture import Architecture, Categorical, GeneValue
from ..errors import ArchitectureError, ConfigError
from ..options import Int, Map, Seq, validated
from ..spaces.base import SearchSpace

BASE = "base"
SEP = "@seed"


def check_seeds(seeds: Any) -> list[int]:
    values = list(seeds) if isinstance(seeds, (list, tuple, range)) else None
    if (
        not values
        or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in values)
        or len(set(values)) != len(values)
    ):
        raise ConfigError(
            "parameter seeds must be a non-empty list of distinct non-negative integers, "
            f"got {seeds!r}"
        )
    return [int(s) for s in values]


class AblationSpace(SearchSpace):
    """``components`` maps a component name to what removing it removes (module names, or feature
    indices along an input axis); ``seeds`` are the replicate seeds every component is trained with,
    the same for all so differences between components are paired, not seed noise."""

    name = "ablation"
    options = {"components": Map(), "seeds": Seq(Int(low=0), min_len=1)}

    @validated
    def __init__(self, components: Mapping[str, Sequence[Any]], seeds: Sequence[int] = (0, 1, 2)) -> None:
        if not components:
            raise ConfigError("parameter components of AblationSpace must be a non-empty mapping, got {}")
        for key, removed in components.items():
            if not isinstance(key, str) or not key or key == BASE or "@" in key:
                raise ConfigError(
                    f"component name {key!r} is not allowed: use a non-empty string without '@' "
                    f"other than {BASE!r} (that name is the unablated model)"
                )
            if isinstance(removed, (str, bytes)) or not isinstance(removed, Sequence) or not removed:
                raise ConfigError(
                    f"component {key!r} must list what it removes (a non-empty list), got {removed!r}"
                )
        self.components = {k: list(v) for k, v in components.items()}
        self.seeds = check_seeds(seeds)
        self.names = [BASE] + list(self.components)

    def genes(self) -> Sequence[Categorical]:
        return (Categorical("component", tuple(self.names)), Categorical("seed", tuple(self.seeds)))

    def from_genes(self, values: Sequence[GeneValue]) -> Architecture:
        if len(values) != 2:
            raise ArchitectureError(f"an ablation member has 2 genes (component, seed), got {list(values)!r}")
        c, s = (int(v) for v in values)
        if not (0 <= c < len(self.names) and 0 <= s < len(self.seeds)):
            raise ArchitectureError(f"ablation genes {list(values)!r} out of range")
        return self._make(f"{self.names[c]}{SEP}{self.seeds[s]}", (c, s))

    def from_string(self, text: str) -> Architecture:
        component, sep, seed = str(text).rpartition(SEP)
        if not sep or component not in self.names or not seed.isdigit() or int(seed) not in self.seeds:
            raise ArchitectureError(
                f"{text!r} is not a member of this ablation: expected '<component>{SEP}<seed>' with "
                f"component in {self.names} and seed in {self.seeds}"
            )
        return self.from_genes([self.names.index(component), self.seeds.index(int(seed))])

    def members(self) -> list[Architecture]:
        """Every member in study order: base over all seeds first, then each component."""
        return [self.from_genes([c, s]) for c in range(len(self.names)) for s in range(len(self.seeds))]

    def component_of(self, arch: Architecture) -> str:
        self._check_space(arch)
        return self.names[arch.genes[0]]

    def seed_of(self, arch: Architecture) -> int:
        self._check_space(arch)
        return self.seeds[arch.genes[1]]

    def removed(self, arch: Architecture) -> list[Any]:
        component = self.component_of(arch)
        return [] if component == BASE else self.components[component]

    def __repr__(self) -> str:
        return f"AblationSpace({len(self.components)} components, seeds={self.seeds})"


def parse_member(text: str) -> tuple[str, int] | None:
    """(component, seed) of a stored member string, without the space (reports read the store)."""
    component, sep, seed = str(text).rpartition(SEP)
    return (component, int(seed)) if sep and seed.isdigit() else None
