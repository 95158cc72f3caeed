"""Bayesian optimisation over architectures with graph-kernel GPs (NAS-BOWL style)."""

from .strategy import GraphBO

__all__ = ["GraphBO"]
