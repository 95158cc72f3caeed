"""Small constrained integer spaces for strategy tests (invalid gene vectors exist, so repair matters)."""

from __future__ import annotations

from typing import Sequence

from nasforge.architecture import Architecture, Integer
from nasforge.errors import ArchitectureError
from nasforge.spaces.base import SearchSpace


class BoundedSumSpace(SearchSpace):
    """``n_genes`` integer genes in 0..``high`` whose sum is at most ``max_sum``; strings are
    the genes joined by '-'."""

    def __init__(self, name: str, n_genes: int, high: int, max_sum: int) -> None:
        self.name = name
        self.n_genes, self.high, self.max_sum = n_genes, high, max_sum

    def genes(self):
        return [Integer(f"g{i}", 0, self.high) for i in range(self.n_genes)]

    def from_genes(self, values: Sequence) -> Architecture:
        values = [int(v) for v in values]
        if len(values) != self.n_genes or any(not 0 <= v <= self.high for v in values):
            raise ArchitectureError(
                f"{self.name} needs {self.n_genes} genes in 0..{self.high}, got {values}"
            )
        if sum(values) > self.max_sum:
            raise ArchitectureError(f"{self.name} genes sum to {sum(values)} > {self.max_sum}")
        return self._make("-".join(map(str, values)), values)

    def from_string(self, text: str) -> Architecture:
        try:
            return self.from_genes([int(p) for p in text.split("-")])
        except ValueError as exc:
            raise ArchitectureError(f"bad {self.name} string {text!r}") from exc
