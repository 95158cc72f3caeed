"""CIFAR-10 / CIFAR-100 from the official "python version" folders the user already has.

CIFAR-10 (``cifar-10-batches-py``): ``data_batch_1`` .. ``data_batch_5`` and ``test_batch``, each a
pickled dict with ``data`` (N x 3072 uint8, channel-major 32x32) and ``labels``. CIFAR-100
(``cifar-100-python``): ``train`` and ``test`` with ``fine_labels``. The pickles are read with an
unpickler that only accepts plain containers and NumPy arrays, so a tampered file cannot run code.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from .dataset import RawData

CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST = "test_batch"
CIFAR100_TRAIN, CIFAR100_TEST = "train", "test"

_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("copyreg", "_reconstructor"),
    ("_codecs", "encode"),  # how Python 3 writes bytes in protocol-2 pickles
}


class _ArraysOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR batch")


def detect(folder: Path) -> str | None:
    """'cifar10' / 'cifar100' if ``folder`` holds that layout, else None."""
    if all((folder / name).is_file() for name in CIFAR10_TRAIN + (CIFAR10_TEST,)):
        return "cifar10"
    if (folder / CIFAR100_TRAIN).is_file() and (folder / CIFAR100_TEST).is_file():
        return "cifar100"
    return None


def load_cifar_raw(folder: str | Path, variant: str | None = None) -> RawData:
    """Read a CIFAR folder; ``variant`` ('cifar10' / 'cifar100') must match what is there."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(
            f"CIFAR folder {str(folder)!r} not found (expected the python-version folder, e.g. "
            f"cifar-10-batches-py with {', '.join(CIFAR10_TRAIN)}, {CIFAR10_TEST})"
        )
    found = detect(folder)
    if found is None or (variant is not None and found != variant):
        expected = (
            f"{', '.join(CIFAR10_TRAIN)}, {CIFAR10_TEST}"
            if variant != "cifar100"
            else f"{CIFAR100_TRAIN}, {CIFAR100_TEST}"
        )
        raise DataError(
            f"{folder}: not a {variant or 'CIFAR'} python-version folder; expected files {expected}"
        )
    if found == "cifar10":
        parts = [_read_batch(folder / name, b"labels") for name in CIFAR10_TRAIN]
        x_train = np.concatenate([p[0] for p in parts])
        y_train = np.concatenate([p[1] for p in parts])
        x_test, y_test = _read_batch(folder / CIFAR10_TEST, b"labels")
        classes = 10
    else:
        x_train, y_train = _read_batch(folder / CIFAR100_TRAIN, b"fine_labels")
        x_test, y_test = _read_batch(folder / CIFAR100_TEST, b"fine_labels")
        classes = 100
    return RawData(x_train, y_train, x_test, y_test, origin=str(folder), num_classes=classes)


def _read_batch(path: Path, label_key: bytes) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as handle:
            batch = _ArraysOnlyUnpickler(handle, encoding="bytes").load()
    except (OSError, pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise DataError(f"{path}: not a readable CIFAR python batch ({exc})") from exc
    if not isinstance(batch, dict):
        raise DataError(f"{path}: expected a pickled dict with b'data' and {label_key!r}")
    batch = {k.encode() if isinstance(k, str) else k: v for k, v in batch.items()}
    if b"data" not in batch or label_key not in batch:
        raise DataError(
            f"{path}: expected keys b'data' and {label_key!r}, found {sorted(batch)}"
        )
    data = np.asarray(batch[b"data"])
    labels = np.asarray(batch[label_key])
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DataError(
            f"{path}: 'data' must be an N x 3072 array (3x32x32 images), got shape {tuple(data.shape)}"
        )
    return data.reshape(-1, 3, 32, 32), labels
