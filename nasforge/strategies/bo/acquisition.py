"""Acquisition functions on predictive means and stds (larger is better; targets are 'larger is
better' scores). ``its`` is independent Thompson sampling (BANANAS): one draw from N(mean, std^2)
per candidate, independently, so a batch of picks spreads out without a joint posterior."""

from __future__ import annotations

import numpy as np

from ...errors import ConfigError

ACQUISITIONS = ("ei", "ucb", "its")


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    """E[max(f - best - xi, 0)] under N(mean, std^2); where std is 0 it is the plain improvement."""
    from scipy.stats import norm

    improvement = mean - best - xi
    safe = np.where(std > 1e-12, std, 1.0)
    z = improvement / safe
    ei = improvement * norm.cdf(z) + safe * norm.pdf(z)
    if not (std > 1e-12).any():  # a model without uncertainty: rank by the mean itself
        return improvement
    return np.where(std > 1e-12, ei, np.maximum(improvement, 0.0))


def upper_confidence_bound(mean: np.ndarray, std: np.ndarray, beta: float = 2.0) -> np.ndarray:
    return mean + beta * std


def thompson(mean: np.ndarray, std: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return mean + std * rng.standard_normal(len(mean))


def acquire(name: str, mean: np.ndarray, std: np.ndarray, best: float, beta: float = 2.0,
            rng: np.random.Generator | None = None) -> np.ndarray:  # fmt: skip
    if name == "its":
        if rng is None:
            raise ConfigError("acquisition 'its' needs a random generator")
        return thompson(mean, std, rng)
    if name == "ei":
        return expected_improvement(mean, std, best)
    if name == "ucb":
        return upper_confidence_bound(mean, std, beta)
    raise ConfigError(f"acquisition must be one of {ACQUISITIONS}, got {name!r}")
