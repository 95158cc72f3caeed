"""Random search: uniform samples, no architecture proposed twice (up to the space's identity)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..architecture import Architecture
from ..objectives import Objective
from ..options import AnyOf, Bool, Choice, validated
from ..spaces.base import SearchSpace
from .base import Strategy

#: samples tried for an unseen architecture before accepting a repeat (the space is ~exhausted)
UNSEEN_TRIES = 1000


DEDUPE = ("auto", "identity", "string", "none")
#: metric-name endings that depend only on the function a network computes (isomorphic cells share
#: them); anything else (params, FLOPs, latency, energy) depends on how the cell is written
FUNCTIONAL_SUFFIXES = ("accuracy", "loss", "error")


def functional(objectives: Sequence[Objective]) -> bool:
    """True when every objective is a function of the computed function (e.g. accuracies)."""
    return all(o.name.endswith(FUNCTIONAL_SUFFIXES) for o in objectives)


def sample_unseen(
    space: SearchSpace,
    rng: np.random.Generator,
    seen: set[str],
    tries: int = UNSEEN_TRIES,
    key: Callable[[Architecture], str] | None = None,
) -> Architecture:
    """A uniform sample whose key (default ``space.identity``) is not in ``seen``; a repeat once
    none is found.

    Rejection keeps the distribution uniform over unseen gene vectors, so random search stays the
    honest baseline; the fallback only triggers when nearly every class has been seen.
    """
    key = key or space.identity
    arch = space.sample(rng)
    for _ in range(tries):
        if key(arch) not in seen:
            return arch
        arch = space.sample(rng)
    return arch


class RandomSearch(Strategy):
    """Uniform random search; objectives are irrelevant to it, so any number of them works.

    ``dedupe`` says what counts as a repeat: ``"identity"`` (isomorphic cells compute the same
    function, so accuracy searches waste no query), ``"string"`` (only the exact same cell: right
    for hardware objectives, where isomorphic cells differ in latency and parameters, and skipping
    them makes fronts measurably worse than plain uniform sampling), or ``"none"``. The default
    ``"auto"`` takes ``"identity"`` when every objective ends in accuracy / loss / error and
    ``"string"`` otherwise. ``True`` / ``False`` mean ``"identity"`` / ``"none"``.
    """

    name = "random"
    options = {"dedupe": AnyOf(Bool(), Choice(*DEDUPE))}

    @validated
    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        objectives: Sequence[Objective] = (Objective("valid_accuracy", "max"),),
        dedupe: bool | str = "auto",
    ) -> None:
        super().__init__(space, seed, objectives)
        if isinstance(dedupe, bool):
            dedupe = "identity" if dedupe else "none"
        if dedupe == "auto":
            dedupe = "identity" if functional(self.objectives) else "string"
        self.dedupe = dedupe
        # keys of archs asked or told; a dict keeps insertion order, so the state needs no sorting
        self._seen: dict[str, None] = {}

    def _key(self, arch: Architecture) -> str:
        return self.space.identity(arch) if self.dedupe == "identity" else arch.string

    def _ask_one(self) -> Architecture:
        if self.dedupe != "none":
            arch = sample_unseen(self.space, self.rng, self._seen, key=self._key)
        else:
            arch = self.space.sample(self.rng)
        self._seen[self._key(arch)] = None
        return arch

    def _tell(self, arch: Architecture, values: list[float] | None) -> None:
        # results never change what random search proposes; record foreign archs as seen
        self._seen[self._key(arch)] = None

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["seen"] = list(self._seen)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._seen = dict.fromkeys(state["seen"])
