"""Acquisition functions on GP posteriors (larger is better; targets are 'larger is better' scores)."""

from __future__ import annotations

import numpy as np

from ...errors import ConfigError

ACQUISITIONS = ("ei", "ucb")


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    """E[max(f - best - xi, 0)] under N(mean, std^2); where std is 0 it is the plain improvement."""
    from scipy.stats import norm

    improvement = mean - best - xi
    safe = np.where(std > 1e-12, std, 1.0)
    z = improvement / safe
    ei = improvement * norm.cdf(z) + safe * norm.pdf(z)
    return np.where(std > 1e-12, ei, np.maximum(improvement, 0.0))


def upper_confidence_bound(mean: np.ndarray, std: np.ndarray, beta: float = 2.0) -> np.ndarray:
    return mean + beta * std


def acquire(name: str, mean: np.ndarray, std: np.ndarray, best: float, beta: float = 2.0) -> np.ndarray:
    if name == "ei":
        return expected_improvement(mean, std, best)
    if name == "ucb":
        return upper_confidence_bound(mean, std, beta)
    raise ConfigError(f"acquisition must be one of {ACQUISITIONS}, got {name!r}")
