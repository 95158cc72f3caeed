"""Data already in Python: NumPy arrays or any ``torch.utils.data.Dataset``, as :class:`RawData`.

The trainer accepts the result (or the arrays / dataset themselves) as its ``dataset``; the arrays
travel with the evaluator to worker processes (spawned pools and Ray workers cannot see a name
registered in the parent), and get the same seeded splits and normalisation as files do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DataError
from ..options import Constraint
from .dataset import RawData


def from_arrays(
    x_train: Any, y_train: Any, x_valid: Any = None, y_valid: Any = None, x_test: Any = None,
    y_test: Any = None, name: str = "arrays", num_classes: int | None = None,
) -> RawData:
    """Arrays (anything ``np.asarray`` takes) as RawData; missing splits are carved when loading.

    x is channels-first, (N, C, L) or (N, C, H, W); a 2-D (N, F) feature matrix becomes F channels
    of length 1, as tables do. y holds integer labels, or numbers for ``task: regression``.
    """

    def x_of(value: Any, split: str) -> np.ndarray | None:
        if value is None:
            return None
        array = np.asarray(value)
        if array.ndim == 2:
            array = array[:, :, None]
        if array.ndim not in (3, 4):
            raise DataError(
                f"{name}: x_{split} must be (N, F), (N, C, L) or (N, C, H, W), got shape {array.shape}"
            )
        return array

    def y_of(value: Any) -> np.ndarray | None:
        return None if value is None else np.asarray(value).reshape(-1)

    return RawData(
        x_train=x_of(x_train, "train"), y_train=y_of(y_train), x_valid=x_of(x_valid, "valid"),
        y_valid=y_of(y_valid), x_test=x_of(x_test, "test"), y_test=y_of(y_test), origin=f"memory:{name}",
        num_classes=num_classes,
    )  # fmt: skip


def from_torch(train: Any, valid: Any = None, test: Any = None, name: str = "torch-dataset") -> RawData:
    """Any map-style ``torch.utils.data.Dataset`` of ``(input, label)`` pairs as RawData.

    Every item is read once (its own transforms run then, so they should be deterministic) and
    stacked into arrays; the training loop then slices tensors, with no DataLoader per batch.
    """

    def read(dataset: Any, split: str) -> tuple[np.ndarray | None, np.ndarray | None]:
        if dataset is None:
            return None, None
        try:
            count = len(dataset)
        except TypeError:
            raise DataError(f"{name}: the {split} dataset has no len(); give a map-style Dataset") from None
        xs, ys = [], []
        for i in range(count):
            item = dataset[i]
            if not isinstance(item, (tuple, list)) or len(item) < 2:
                raise DataError(f"{name}: {split} item {i} must be an (input, label) pair, got {type(item).__name__}")
            xs.append(_numpy(item[0]))
            ys.append(_numpy(item[1]))
        if not xs:
            raise DataError(f"{name}: the {split} dataset is empty")
        shapes = {x.shape for x in xs}
        if len(shapes) > 1:
            raise DataError(f"{name}: {split} inputs have different shapes {sorted(shapes)[:3]}; they must match")
        return np.stack(xs), np.stack(ys).reshape(-1)

    x_train, y_train = read(train, "train")
    x_valid, y_valid = read(valid, "valid")
    x_test, y_test = read(test, "test")
    if x_train is not None and x_train.ndim == 1:
        raise DataError(f"{name}: inputs must have at least one feature axis, got scalars")
    return from_arrays(x_train, y_train, x_valid, y_valid, x_test, y_test, name=name)


def _numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def as_raw(source: Any) -> RawData:
    """RawData as is, a torch Dataset through :func:`from_torch`, an (x, y) pair of arrays
    through :func:`from_arrays`."""
    if isinstance(source, RawData):
        return source
    if isinstance(source, (tuple, list)) and len(source) == 2:
        return from_arrays(*source)
    if hasattr(source, "__getitem__") and hasattr(source, "__len__"):
        return from_torch(source)
    raise DataError(f"cannot use {type(source).__name__} as a dataset: give RawData, (x, y) arrays or a torch Dataset")


def is_in_memory(source: Any) -> bool:
    """Whether ``source`` is data itself rather than a name or path."""
    return source is not None and not isinstance(source, (str, bytes)) and not hasattr(source, "__fspath__")


@dataclass(frozen=True)
class DataSource(Constraint):
    """Option constraint: a dataset name / path, or data in memory (RawData, (x, y), torch Dataset)."""

    def accepts(self, value: Any) -> bool:
        if isinstance(value, str) or hasattr(value, "__fspath__") or isinstance(value, RawData):
            return True
        if isinstance(value, (tuple, list)):
            return len(value) == 2
        return hasattr(value, "__getitem__") and hasattr(value, "__len__")

    def normalise(self, value: Any) -> Any:
        return str(value) if hasattr(value, "__fspath__") else value

    def text(self) -> str:
        return "a dataset name or path, RawData, an (x, y) pair of arrays or a torch Dataset"


__all__: Sequence[str] = ("DataSource", "as_raw", "from_arrays", "from_torch", "is_in_memory")
