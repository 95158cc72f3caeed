"""``build_model``: one entry point from (space, architecture) to an untrained ``nn.Module``."""

from __future__ import annotations

import numbers
from typing import Any, Sequence

from .. import registry
from ..architecture import Architecture
from ..errors import ConfigError


def build_model(
    space: Any,
    arch: Architecture,
    input_shape: Sequence[int],
    num_classes: int,
    seed: int | None = None,
    **options: Any,
):
    """The untrained network of ``arch`` for inputs of ``input_shape`` (no batch axis).

    ``space`` is a SearchSpace or its registry name. ``input_shape`` is ``(C, H, W)`` for images or
    ``(C, L)`` for 1-D signals. ``seed`` initialises the weights from a forked torch RNG state (the
    global torch RNG is left as it was); ``None`` draws from the current global state. ``options``
    go to the space's builder (e.g. ``C`` and ``N`` for nb201).
    """
    name = space if isinstance(space, str) else getattr(space, "name", None)
    if name not in registry.names("model"):  # builders are registered as kind "model"
        raise ConfigError(
            f"no model builder for space {name!r}; available: {', '.join(registry.names('model'))}"
        )
    if not isinstance(arch, Architecture) or arch.space != name:
        got = arch.space if isinstance(arch, Architecture) else type(arch).__name__
        raise ConfigError(
            f"build_model for space {name!r} needs an architecture of that space, got {got!r}"
        )
    shape = _shape(input_shape)
    if not _is_int(num_classes) or num_classes < 1:
        raise ConfigError(
            f"parameter num_classes of build_model must be an integer >= 1, got {num_classes!r}"
        )
    if seed is not None and (not _is_int(seed) or seed < 0):
        raise ConfigError(
            f"parameter seed of build_model must be an integer >= 0 or None, got {seed!r}"
        )
    builder = registry.resolve("model", name)
    if seed is None:
        return builder(arch, shape, int(num_classes), **options)
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return builder(arch, shape, int(num_classes), **options)


def _shape(input_shape: Any) -> tuple[int, ...]:
    try:
        shape = tuple(input_shape)
    except TypeError:
        shape = ()
    if len(shape) not in (2, 3) or any(not _is_int(s) or s < 1 for s in shape):
        raise ConfigError(
            "parameter input_shape of build_model must be (channels, length) or "
            f"(channels, height, width) with positive integers, got {input_shape!r}"
        )
    return tuple(int(s) for s in shape)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
