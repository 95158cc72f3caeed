"""nasforge: neural architecture search on your data or on tabular NAS benchmarks.

Importing this package is cheap: torch, pymoo, grakel and ray load only when a feature needs them.
"""

from __future__ import annotations

from .architecture import Architecture, Categorical, Float, Integer, LabelledDAG
from .errors import (
    ArchitectureError,
    ConfigError,
    DataError,
    MissingDependencyError,
    NasforgeError,
    TrialFailed,
)
from .objectives import Objective
from .trial import Trial, TrialState

__version__ = "0.1.0"

__all__ = [
    "Architecture",
    "ArchitectureError",
    "Categorical",
    "ConfigError",
    "DataError",
    "Float",
    "Integer",
    "LabelledDAG",
    "MissingDependencyError",
    "NasforgeError",
    "Objective",
    "Trial",
    "TrialFailed",
    "TrialState",
    "__version__",
]
