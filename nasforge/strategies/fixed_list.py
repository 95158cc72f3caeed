"""A strategy that proposes a given list of architectures, in order, once each.

This is how a one-shot search hands its derived architectures to a study: each becomes an ordinary
trial (stored, reported, resumable, exportable). The list is a constructor option, so it is stored
with the study's config and ``nasforge resume`` rebuilds the same strategy.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..architecture import Architecture
from ..errors import ConfigError
from ..objectives import Objective
from ..spaces.base import SearchSpace
from .base import Strategy


class FixedList(Strategy):
    """Proposes ``architectures`` (strings of ``space``) in order; ``finished`` once all are asked.

    ``origin`` is free JSON describing where the list came from (e.g. the one-shot search and the
    penalty behind each entry); it is stored with the study and shown by reports, never used here.
    """

    name = "fixed_list"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        objectives: Sequence[Objective] = (Objective("valid_accuracy", "max"),),
        architectures: Sequence[str] = (),
        origin: Any = None,
    ) -> None:
        super().__init__(space, seed, objectives)
        if isinstance(architectures, str) or not isinstance(architectures, Sequence) or not architectures:
            raise ConfigError(
                f"parameter architectures of fixed_list must be a non-empty list of architecture strings, got {architectures!r}"
            )
        archs: list[Architecture] = []
        for text in architectures:
            arch = space.from_string(text)
            if arch not in archs:
                archs.append(arch)
        self.archs = archs
        self.origin = origin
        self.next = 0

    @property
    def finished(self) -> bool:
        return self.next >= len(self.archs)

    def _ask(self, n: int) -> list[Architecture]:
        out = self.archs[self.next : self.next + n]
        self.next += len(out)
        return out

    def _tell(self, arch: Architecture, values: list[float] | None) -> None:
        """Nothing to learn: the list is fixed."""

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "next": self.next}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.next = int(state["next"])
