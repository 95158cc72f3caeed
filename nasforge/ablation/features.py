"""Which parts of the input a feature ablation removes, for any input the loaders give.

Loaders give channels-first examples: (C, L) for sequences and tables, (C, H, W) for images. A
feature is one position along one axis of that shape: a channel (an image's colour plane, a
sequence's channel, a column of a scikit-learn table, which loads as F channels of length 1), a
time step or a column (the last axis), or an image row. Components are single positions, equal
contiguous windows (``windows: 4`` over 40 time steps gives 0-9, 10-19, ...) and named groups of
positions given by index or by name. Pure Python: the evaluator applies the mask in torch.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..errors import ConfigError

AXES = ("channel", "row", "column", "time")


def axis_dim(axis: str, input_shape: Sequence[int]) -> int:
    """Index of ``axis`` in an example's shape (without the batch dimension)."""
    ndim = len(input_shape)
    if axis == "channel":
        return 0
    if axis == "row":
        if ndim != 3:
            raise ConfigError(f"axis 'row' needs images (C, H, W), the input has shape {tuple(input_shape)}")
        return 1
    if axis == "time" and ndim != 2:
        raise ConfigError(
            f"axis 'time' needs sequences (C, L), the input has shape {tuple(input_shape)}; "
            "use 'row' or 'column' for images"
        )
    if axis in ("column", "time"):
        return ndim - 1
    raise ConfigError(f"parameter axis must be one of {', '.join(AXES)}, got {axis!r}")


def default_axis(input_shape: Sequence[int]) -> str:
    """Channels when there are several (tables, colour images), else the last axis."""
    if input_shape[0] > 1:
        return "channel"
    return "time" if len(input_shape) == 2 else "column"


def feature_components(
    input_shape: Sequence[int],
    axis: str | None = None,
    each: Sequence[Any] | str | None = None,
    windows: int | None = None,
    groups: Mapping[str, Sequence[Any]] | None = None,
    names: Sequence[str] | None = None,
) -> tuple[str, dict[str, list[int]]]:
    """(axis, component name -> indices along it) for the given settings.

    ``each`` is 'all' or a list of positions (names or indices), each its own component; it
    defaults to 'all' unless ``windows`` or ``groups`` are given. ``names`` label the positions
    (scikit-learn tables supply their column names); unnamed positions are called '<axis> <i>'.
    """
    axis = default_axis(input_shape) if axis is None else axis
    size = int(input_shape[axis_dim(axis, input_shape)])
    labels = list(names) if names is not None else [f"{axis} {i}" for i in range(size)]
    if len(labels) != size:
        raise ConfigError(f"{len(labels)} names given for {size} positions along axis {axis!r}")

    def index(item: Any) -> int:
        if isinstance(item, bool):
            pass
        elif isinstance(item, int) and 0 <= item < size:
            return item
        elif isinstance(item, str) and item in labels:
            return labels.index(item)
        shown = ", ".join(labels) if len(labels) <= 40 else f"{labels[0]}, ..., {labels[-1]}"
        raise ConfigError(
            f"no feature {item!r} along axis {axis!r}: use an index in 0..{size - 1} or a name ({shown})"
        )

    if each is None:
        each = "all" if not windows and not groups else []
    if each == "all":
        chosen = list(range(size))
    elif isinstance(each, (list, tuple)):
        chosen = [index(i) for i in each]
    else:
        raise ConfigError(f"parameter each must be 'all' or a list of features, got {each!r}")
    components = {labels[i]: [i] for i in chosen}
    if windows is not None:
        if isinstance(windows, bool) or not isinstance(windows, int) or not 1 < windows <= size:
            raise ConfigError(
                f"parameter windows must be an integer in 2..{size} (positions along {axis!r}), got {windows!r}"
            )
        bounds = [round(k * size / windows) for k in range(windows + 1)]
        for lo, hi in zip(bounds, bounds[1:]):
            components[f"{axis} {lo}-{hi - 1}"] = list(range(lo, hi))
    if groups is not None and not isinstance(groups, Mapping):
        raise ConfigError(f"parameter groups must map a group name to features, got {groups!r}")
    for group, members in (groups or {}).items():
        if isinstance(members, (str, int)) or not members:
            raise ConfigError(f"group {group!r} must list features (names or indices), got {members!r}")
        components[f"group:{group}"] = sorted({index(m) for m in members})
    if not components:
        raise ConfigError("nothing to ablate: give features (each, windows and/or groups)")
    for name, removed in components.items():
        if len(removed) == size:
            raise ConfigError(f"component {name!r} removes every position along axis {axis!r}")
    return axis, components
