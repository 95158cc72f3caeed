"""REINFORCE over a space's genes: one independent softmax policy per gene (Williams 1992).

As in N2N learning (Ashok et al. 2018; ``anubhavashok/N2N`` ``rl.py``), the policy is updated
after every ``rollouts`` results with the score-function gradient of the reward, using as baseline
the running mean of earlier batches' mean rewards. N2N's controllers are LSTMs over layers; the
reduction space has a handful of genes per stage, so a factorised policy (a logit vector per gene)
is enough and has no network to train. Advantages are divided by the standard deviation of all
rewards so far, so one learning rate fits rewards of any scale. The reward is the first
objective (``n2n_reward:max`` for the reduction scheme); a failed trial earns
``failure_reward``, and a sample the space rejects (e.g. over its parameter budget) earns
``invalid_reward`` at once without being trained (N2N's constraint penalty, made hard).

Architectures already told are not re-trained: their cached reward joins the batch and the
policy samples again (up to ``max_resamples`` times, then the repeat is asked anyway).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..architecture import Architecture, Categorical, Integer
from ..errors import ArchitectureError, ConfigError
from ..objectives import Objective
from ..options import Float, Int, validated
from ..spaces.base import SearchSpace
from .base import Strategy


class Reinforce(Strategy):
    """Options: ``rollouts`` per update (N2N: 5), ``lr`` on the logits, ``failure_reward``,
    ``invalid_reward``, ``max_resamples``."""

    name = "reinforce"
    options = {"rollouts": Int(low=1), "lr": Float(low=0, low_open=True), "failure_reward": Float(),
               "invalid_reward": Float(), "max_resamples": Int(low=0)}

    @validated
    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        objectives: Sequence[Objective] = (Objective("n2n_reward", "max"),),
        rollouts: int = 5,
        lr: float = 0.5,
        failure_reward: float = 0.0,
        invalid_reward: float = -1.0,
        max_resamples: int = 50,
    ) -> None:
        super().__init__(space, seed, objectives)
        self._sizes = []
        for gene in space.genes():
            if isinstance(gene, Categorical):
                self._sizes.append(gene.size)
            elif isinstance(gene, Integer):
                self._sizes.append(gene.high - gene.low + 1)
            else:
                raise ConfigError(f"strategy reinforce needs categorical / integer genes; {gene.name!r} is a float")
        self.rollouts, self.lr, self.max_resamples = rollouts, lr, max_resamples
        self.failure_reward, self.invalid_reward = failure_reward, invalid_reward
        self._logits = [np.zeros(size) for size in self._sizes]
        self._batch: list[tuple[list[int], float]] = []  # (choice indices, reward) awaiting an update
        self._pending: dict[str, list[list[int]]] = {}  # asked string -> choice indices, FIFO
        self._rewards: dict[str, float] = {}  # told string -> reward
        self._batch_means: list[float] = []  # earlier batches' mean rewards (the baseline)
        self._moments = [0, 0.0, 0.0]  # count, sum, sum of squares of all rewards

    # --- policy ------------------------------------------------------------------------------------

    def probabilities(self) -> list[np.ndarray]:
        """The current policy: one probability vector per gene."""
        return [_softmax(logits) for logits in self._logits]

    def _sample(self) -> list[int]:
        return [int(self.rng.choice(len(p), p=p)) for p in self.probabilities()]

    def _values(self, choices: list[int]) -> list[int]:
        out = []
        for gene, choice in zip(self.space.genes(), choices):
            out.append(choice + gene.low if isinstance(gene, Integer) else choice)
        return out

    def _choices(self, arch: Architecture) -> list[int]:
        out = []
        for gene, value in zip(self.space.genes(), self.space.to_genes(arch)):
            out.append(int(value) - gene.low if isinstance(gene, Integer) else int(value))
        return out

    # --- ask / tell --------------------------------------------------------------------------------

    def _ask_one(self) -> Architecture:
        for attempt in range(self.max_resamples + 1):
            choices = self._sample()
            try:
                arch = self.space.from_genes(self._values(choices))
            except ArchitectureError:
                self._add(choices, self.invalid_reward)
                continue
            if arch.string in self._rewards and attempt < self.max_resamples:
                self._add(self._choices(arch), self._rewards[arch.string])
                continue
            break
        else:  # every draw was rejected by the space: fall back to a uniform valid sample
            arch = self.space.sample(self.rng)
        self._pending.setdefault(arch.string, []).append(self._choices(arch))
        return arch

    def _tell(self, arch: Architecture, values: list[float] | None) -> None:
        queue = self._pending.get(arch.string)
        choices = queue.pop(0) if queue else self._choices(arch)
        if queue is not None and not queue:
            del self._pending[arch.string]
        reward = self.failure_reward if values is None else self.score(values)
        if values is not None:
            self._rewards[arch.string] = reward
        self._add(choices, reward)

    def _add(self, choices: list[int], reward: float) -> None:
        self._batch.append((list(choices), float(reward)))
        count, total, squares = self._moments
        self._moments = [count + 1, total + reward, squares + reward * reward]
        if len(self._batch) >= self.rollouts:
            self._update()

    def _update(self) -> None:
        rewards = np.array([r for _, r in self._batch])
        baseline = float(np.mean(self._batch_means)) if self._batch_means else float(rewards.mean())
        count, total, squares = self._moments
        variance = max(squares / count - (total / count) ** 2, 0.0)
        scale = math.sqrt(variance) if variance > 1e-12 else 1.0
        advantages = (rewards - baseline) / scale
        probabilities = self.probabilities()
        for g, p in enumerate(probabilities):
            gradient = np.zeros_like(p)
            for (choices, _), advantage in zip(self._batch, advantages):
                one_hot = np.zeros_like(p)
                one_hot[choices[g]] = 1.0
                gradient += advantage * (one_hot - p)
            self._logits[g] = self._logits[g] + self.lr * gradient / len(self._batch)
        self._batch_means.append(float(rewards.mean()))
        self._batch = []

    # --- state -------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state.update(
            logits=[[float(v) for v in logits] for logits in self._logits],
            batch=[[choices, reward] for choices, reward in self._batch],
            pending={k: [list(c) for c in v] for k, v in self._pending.items()},
            rewards=dict(self._rewards), batch_means=list(self._batch_means), moments=list(self._moments),
        )
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._logits = [np.asarray(v, dtype=float) for v in state["logits"]]
        self._batch = [(list(c), float(r)) for c, r in state["batch"]]
        self._pending = {k: [list(c) for c in v] for k, v in state["pending"].items()}
        self._rewards = {k: float(v) for k, v in state["rewards"].items()}
        self._batch_means = [float(v) for v in state["batch_means"]]
        count, total, squares = state["moments"]
        self._moments = [int(count), float(total), float(squares)]


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()

