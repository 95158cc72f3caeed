"""Helpers for testing nasforge extensions: conformance suites for spaces and strategies."""

from .conformance import check_space, check_strategy, run_strategy

__all__ = ["check_space", "check_strategy", "run_strategy"]
