"""The Strategy extension point: ask/tell, seeded, serialisable, storage-free.

Modelled on Optuna samplers (a strategy is a small class) and syne-tune schedulers (who proposes is
not who runs): the study asks for architectures, runs them through an executor, and tells results
back in completion order, which may differ from ask order when trials run in parallel.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Sequence, final

import numpy as np

from ..architecture import Architecture
from ..errors import ConfigError
from ..objectives import Objective
from ..options import Component, Int, validated
from ..spaces.base import SearchSpace
from ..validation import check_int, is_integer  # noqa: F401 - re-exported for strategies

_POSITIVE = Int(low=1)


class Strategy(Component, ABC):
    """Base class; subclasses implement ``_ask`` (or ``_ask_one``), ``_tell`` and their state.

    ``ask`` and ``tell`` are final: they check their arguments once for every strategy (``n`` an
    integer >= 1, one value per objective or None for a failed trial) and call the hooks, so a
    strategy's own code never sees malformed input.
    """

    kind = "strategy"
    name: str = "strategy"
    options = {"seed": Int(low=0)}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for method in ("ask", "tell"):
            if method in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} overrides Strategy.{method}; implement _{method} instead "
                    f"(ask/tell validate their arguments for every strategy)"
                )

    @validated
    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        objectives: Sequence[Objective] = (Objective("valid_accuracy", "max"),),
    ) -> None:
        self.space = space
        self.seed = seed
        self.objectives = list(objectives)
        self.rng = np.random.default_rng(self.seed)

    # --- the interface -------------------------------------------------------------------------

    @final
    def ask(self, n: int = 1) -> list[Architecture]:
        """Propose up to ``n`` architectures to evaluate next (fewer when waiting on results)."""
        if not (type(n) is int and n >= 1):  # the common case stays a cheap test
            n = _POSITIVE.check(f"{type(self).__name__}.ask", "n", n)
        return list(self._ask(n))

    @final
    def tell(self, arch: Architecture, values: Sequence[float] | None) -> None:
        """Report objective values (in objective order) for ``arch``; None means the trial failed."""
        if values is not None:
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
                raise ConfigError(
                    f"{type(self).__name__}.tell needs a list of {len(self.objectives)} objective "
                    f"value(s) or None, got {values!r}"
                )
            if len(values) != len(self.objectives):
                names = ", ".join(str(o) for o in self.objectives)
                raise ConfigError(
                    f"{type(self).__name__}.tell needs {len(self.objectives)} objective value(s) "
                    f"({names}), got {len(values)}: {list(values)!r}"
                )
            values = [float(v) for v in values]
        self._tell(arch, values)

    def _ask(self, n: int) -> list[Architecture]:
        return [self._ask_one() for _ in range(n)]

    def _ask_one(self) -> Architecture:  # pragma: no cover - overridden
        raise NotImplementedError

    @abstractmethod
    def _tell(self, arch: Architecture, values: list[float] | None) -> None:
        """Record a result: ``values`` has one float per objective, or is None (failed trial)."""

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
