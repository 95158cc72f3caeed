"""The Strategy extension point: ask/tell, seeded, serialisable, storage-free.

Modelled on Optuna samplers (a strategy is a small class) and syne-tune schedulers (who proposes is
not who runs): the study asks for architectures, runs them through an executor, and tells results
back in completion order, which may differ from ask order when trials run in parallel.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Sequence

import numpy as np

from ..architecture import Architecture
from ..errors import ConfigError
from ..objectives import Objective
from ..spaces.base import SearchSpace
from ..validation import check_int, is_integer  # noqa: F401 - re-exported for strategies


class Strategy(ABC):
    """Base class; subclasses implement ``_ask_one`` (or ``ask``), ``tell`` and their state."""

    name: str = "strategy"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        objectives: Sequence[Objective] = (Objective("valid_accuracy", "max"),),
    ) -> None:
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
        self.space = space
        self.seed = int(seed)
        self.objectives = list(objectives)
        self.rng = np.random.default_rng(self.seed)

    # --- the interface -------------------------------------------------------------------------

    def ask(self, n: int = 1) -> list[Architecture]:
        """Propose up to ``n`` architectures to evaluate next (fewer when waiting on results)."""
        return [self._ask_one() for _ in range(n)]

    def _ask_one(self) -> Architecture:  # pragma: no cover - overridden
        raise NotImplementedError

    @abstractmethod
    def tell(self, arch: Architecture, values: Sequence[float] | None) -> None:
        """Report objective values (in objective order) for ``arch``; None means the trial failed."""

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable state: the base part is the RNG; subclasses add theirs."""
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]

    # --- helpers for single-objective strategies ---------------------------------------------------

    def score(self, values: Sequence[float] | None) -> float:
        """Larger-is-better scalar of the first objective; failures score -inf."""
        if values is None:
            return float("-inf")
        return self.objectives[0].sign * float(values[0])

    @property
    def multi_objective(self) -> bool:
        return len(self.objectives) > 1

    def __repr__(self) -> str:
        return f"{type(self).__name__}(space={self.space.name!r}, seed={self.seed})"
