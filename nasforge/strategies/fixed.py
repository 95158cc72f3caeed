"""A fixed list of architectures, each asked once: run given architectures through a study.

This is how a single hand-picked architecture goes through an evaluator with all the study's
machinery (store, crash-safe resume, report), e.g. one network through a continual-learning
stream. ``finished`` turns true once every listed architecture has been asked.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..architecture import Architecture
from ..errors import ArchitectureError, ConfigError
from ..objectives import Objective
from ..spaces.base import SearchSpace
from .base import Strategy


class FixedList(Strategy):
    name = "fixed"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        objectives: Sequence[Objective] = (Objective("valid_accuracy", "max"),),
        archs: Sequence[str] | str = (),
    ) -> None:
        super().__init__(space, seed, objectives)
        items = [archs] if isinstance(archs, str) else list(archs)
        if not items:
            raise ConfigError("parameter archs of FixedList must list at least one architecture string")
        self.archs: list[Architecture] = []
        for text in items:
            try:
                self.archs.append(space.from_string(str(text)))
            except ArchitectureError as exc:
                raise ConfigError(f"parameter archs of FixedList: {exc}") from exc
        self._next = 0

    @property
    def finished(self) -> bool:
        return self._next >= len(self.archs)

    def _ask(self, n: int) -> list[Architecture]:
        out = self.archs[self._next : self._next + n]
        self._next += len(out)
        return out

    def _tell(self, arch: Architecture, values: Sequence[float] | None) -> None:
        """Results change nothing: the list is fixed."""

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "next": self._next}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._next = int(state["next"])
