"""Leave-one-component-out (LOCO), as in the Maggy ablation work: a fixed list, not a search.

The strategy proposes every member of an :class:`~nasforge.ablation.space.AblationSpace` (the base
model and each component removed, times seeds) once, in order, and is ``finished`` when the list is
exhausted. Results do not change what comes next, so trials of an ablation run in parallel on any
executor, and resuming needs only the position in the list.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..architecture import Architecture
from ..errors import ConfigError
from ..objectives import Objective
from .base import Strategy


class LOCO(Strategy):
    """Propose base + each component removed, times seeds; failed trials are not retried."""

    name = "loco"

    def __init__(
        self,
        space: Any,
        seed: int = 0,
        objectives: Sequence[Objective] = (Objective("valid_accuracy", "max"),),
    ) -> None:
        super().__init__(space, seed, objectives)
        members = getattr(space, "members", None)
        if members is None:
            raise ConfigError(
                f"strategy 'loco' needs the 'ablation' space (a fixed list of members), "
                f"got space {getattr(space, 'name', space)!r}"
            )
        self.plan: list[Architecture] = list(members())
        self.next = 0
        self.told = 0

    @property
    def finished(self) -> bool:
        """True once every member has been proposed (the study stops asking then)."""
        return self.next >= len(self.plan)

    def _ask(self, n: int) -> list[Architecture]:
        chosen = self.plan[self.next : self.next + n]
        self.next += len(chosen)
        return chosen

    def _tell(self, arch: Architecture, values: Sequence[float] | None) -> None:
        self.told += 1  # the list is fixed: results only count

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "next": self.next, "told": self.told}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.next, self.told = int(state["next"]), int(state["told"])

