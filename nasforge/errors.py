"""Exception hierarchy: every user-facing failure is a NasforgeError with a one-line message."""

from __future__ import annotations


class NasforgeError(Exception):
    """Base class; the CLI turns these into one line on stderr and exit code 2."""


class ConfigError(NasforgeError, ValueError):
    """A configuration value, CLI flag or constructor argument is not allowed."""


class ArchitectureError(NasforgeError, ValueError):
    """An architecture string or gene vector does not describe a valid member of its space."""


class DataError(NasforgeError):
    """A data file or table is missing, malformed, or lacks a requested dataset/metric."""


class MissingDependencyError(NasforgeError, ImportError):
    """An optional dependency is not installed; the message carries the install hint."""


class StorageError(NasforgeError):
    """The study store cannot satisfy a request (unknown study, name clash, ...)."""


class TrialFailed(NasforgeError):
    """Raised by an evaluator when a trial cannot produce metrics (NaN loss, timeout, ...)."""


class TrialPruned(NasforgeError):
    """Raised by an evaluator when ``context.should_prune()`` said stop; the trial is PRUNED.

    ``metrics`` are the last reported ones (the study records them with the trial).
    """

    def __init__(self, message: str = "pruned", metrics: dict | None = None) -> None:
        super().__init__(message)
        self.metrics = dict(metrics or {})


def require(module: str, extra: str):
    """Import an optional dependency lazily, failing with an install hint instead of a traceback."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            f"{module!r} is needed for this feature; install it with: pip install 'nasforge[{extra}]'"
        ) from exc
