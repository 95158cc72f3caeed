"""The Dataset value the trainer consumes, and the split / normalisation steps every source shares.

Sources (digits, MNIST-1D, .npz, CIFAR batches) only read arrays and say which splits they ship;
carving the missing splits and normalising with train statistics happens once, here, so every
source gets the same deterministic, seed-driven treatment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DataError


@dataclass(frozen=True)
class RawData:
    """Arrays as a source read them: x channels-first, (N, C, L) or (N, C, H, W); y int labels.

    ``x_valid`` / ``x_test`` are None when the source has no such split (they are carved from the
    train split then). ``origin`` names the file or generator, for error messages and reports.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    origin: str
    x_valid: np.ndarray | None = None
    y_valid: np.ndarray | None = None
    num_classes: int | None = None


@dataclass(frozen=True, eq=False)
class Dataset:
    """Normalised float32 inputs and int64 labels (float32 targets for regression) in fixed splits.

    ``mean`` / ``std`` are the per-channel train statistics already applied to every split; export
    writes them out so an exported model can be fed raw inputs.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    origin: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one example without the batch dimension, e.g. (1, 8, 8) or (1, 40)."""
        return tuple(int(d) for d in self.x_train.shape[1:])

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "valid": len(self.y_valid), "test": len(self.y_test)}

    def describe(self) -> dict[str, Any]:
        return {
            "dataset": self.name,
            "origin": self.origin,
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            **{f"n_{k}": v for k, v in self.sizes().items()},
        }


def check_arrays(raw: RawData, regression: bool = False) -> int:
    """Validate shapes, dtypes and labels; return the number of classes (1 for regression).

    One-line DataErrors. With ``regression`` the targets must be finite numbers instead of labels.
    """
    where = raw.origin
    splits = [("train", raw.x_train, raw.y_train)]
    for split, x, y in (("valid", raw.x_valid, raw.y_valid), ("test", raw.x_test, raw.y_test)):
        if (x is None) != (y is None):
            missing = f"y_{split}" if y is None else f"x_{split}"
            raise DataError(f"{where}: {missing} is missing while its x/y partner is present")
        if x is not None:
            splits.append((split, x, y))
    example_shape = None
    for split, x, y in splits:
        if x.ndim not in (3, 4):
            raise DataError(
                f"{where}: x_{split} must be channels-first (N, C, L) or (N, C, H, W), "
                f"got shape {tuple(x.shape)}"
            )
        if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
            raise DataError(f"{where}: x_{split} must be a real numeric array, got dtype {x.dtype}")
        if y.ndim != 1:
            raise DataError(
                f"{where}: y_{split} must be a 1-D array of class labels, got shape {tuple(y.shape)}"
            )
        if len(x) != len(y):
            raise DataError(
                f"{where}: x_{split} has {len(x)} examples but y_{split} has {len(y)}; they must match"
            )
        if len(y) == 0:
            raise DataError(f"{where}: x_{split} is empty; every split needs at least one example")
        if example_shape is None:
            example_shape = x.shape[1:]
        elif x.shape[1:] != example_shape:
            raise DataError(
                f"{where}: x_{split} examples have shape {tuple(x.shape[1:])} but x_train examples "
                f"have {tuple(example_shape)}; all splits must match"
            )
        if not np.all(np.isfinite(x)):
            raise DataError(f"{where}: x_{split} contains NaN or infinite values")
        if regression:
            if not np.issubdtype(y.dtype, np.number) or not np.all(np.isfinite(y)):
                raise DataError(f"{where}: y_{split} must hold finite numeric targets for regression")
            continue
        if not (np.issubdtype(y.dtype, np.integer) or _integral_floats(y)):
            raise DataError(f"{where}: y_{split} must hold integer class labels, got dtype {y.dtype}")
    if regression:
        return 1
    num_classes = raw.num_classes
    if num_classes is None:
        num_classes = int(np.max(raw.y_train)) + 1
    for split, _, y in splits:
        low, high = int(np.min(y)), int(np.max(y))
        if low < 0 or high >= num_classes:
            raise DataError(
                f"{where}: y_{split} has label {low if low < 0 else high} outside 0..{num_classes - 1} "
                f"(labels must be integers in [0, num_classes) with classes taken from y_train)"
            )
    if num_classes < 2:
        raise DataError(f"{where}: y_train holds a single class; classification needs at least 2")
    return num_classes


def _integral_floats(y: np.ndarray) -> bool:
    return np.issubdtype(y.dtype, np.floating) and bool(np.all(np.isfinite(y))) and bool(
        np.all(np.floor(y) == y)
    )


def split_and_normalise(
    raw: RawData,
    name: str,
    seed: int,
    valid_fraction: float,
    test_fraction: float,
    max_train: int | None = None,
    task: str = "classification",
) -> Dataset:
    """Carve missing splits with a seeded permutation, normalise with train stats, cast types.

    The permutation depends only on ``seed`` (not on the trial seed) so every trial of a study is
    scored on the same validation examples. For ``task="regression"`` the targets are float32,
    standardised with the training targets' mean / std (kept in ``info`` as ``target_mean`` /
    ``target_std``, which turn predictions back into the target's unit).
    """
    regression = task == "regression"
    num_classes = check_arrays(raw, regression)
    label_type = np.float32 if regression else np.int64
    rng = np.random.default_rng(seed)
    x_train = np.asarray(raw.x_train)
    y_train = np.asarray(raw.y_train).astype(label_type)
    order = rng.permutation(len(y_train))
    x_train, y_train = x_train[order], y_train[order]

    def carve(fraction: float, what: str) -> tuple[np.ndarray, np.ndarray]:
        nonlocal x_train, y_train
        n = int(round(len(y_train) * fraction))
        if n < 1 or n >= len(y_train):
            raise DataError(
                f"{raw.origin}: cannot carve a {what} split of fraction {fraction} from "
                f"{len(y_train)} training examples"
            )
        part = (x_train[:n], y_train[:n])
        x_train, y_train = x_train[n:], y_train[n:]
        return part

    if raw.x_test is not None:
        x_test, y_test = np.asarray(raw.x_test), np.asarray(raw.y_test)
    else:
        x_test, y_test = carve(test_fraction, "test")
    if raw.x_valid is not None:
        x_valid, y_valid = np.asarray(raw.x_valid), np.asarray(raw.y_valid)
    else:
        x_valid, y_valid = carve(valid_fraction, "validation")
    if max_train is not None:
        x_train, y_train = x_train[:max_train], y_train[:max_train]

    x_train = x_train.astype(np.float32)
    axes = (0,) + tuple(range(2, x_train.ndim))
    mean = x_train.mean(axis=axes, dtype=np.float64)
    std = x_train.std(axis=axes, dtype=np.float64)
    std = np.where(std > 1e-12, std, 1.0)
    shape = (1, -1) + (1,) * (x_train.ndim - 2)
    m, s = mean.reshape(shape), std.reshape(shape)

    m32, s32 = m.astype(np.float32), s.astype(np.float32)
    info: dict[str, Any] = {"split_seed": seed, "task": task}
    if regression:
        t_mean, t_std = float(np.mean(y_train, dtype=np.float64)), float(np.std(y_train, dtype=np.float64))
        t_std = t_std if t_std > 1e-12 else 1.0
        info.update(target_mean=t_mean, target_std=t_std)

        def target(y: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray((np.asarray(y, dtype=np.float64) - t_mean) / t_std, dtype=np.float32)
    else:

        def target(y: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(y, dtype=np.int64)

    def norm(x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray((x.astype(np.float32) - m32) / s32, dtype=np.float32)

    return Dataset(
        name=name,
        x_train=norm(x_train),
        y_train=target(y_train),
        x_valid=norm(x_valid),
        y_valid=target(y_valid),
        x_test=norm(x_test),
        y_test=target(y_test),
        num_classes=num_classes,
        mean=tuple(float(v) for v in mean),
        std=tuple(float(v) for v in std),
        origin=raw.origin,
        info=info,
    )
