"""Argument checks shared by every component, so messages read the same everywhere."""

from __future__ import annotations

from typing import Any

import numpy as np


def is_integer(value: Any) -> bool:
    """True for Python and NumPy integers, but not for ``bool``."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_int(owner: str, name: str, value: Any, minimum: int) -> int:
    """``value`` as an int, or a ConfigError naming parameter ``name`` of ``owner``."""
    from .options import Int

    return Int(low=minimum).check(owner, name, value)
