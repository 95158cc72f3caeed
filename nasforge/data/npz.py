"""A user's own data as a NumPy ``.npz`` file.

Required arrays: ``x_train``, ``y_train``, ``x_test``, ``y_test``; optional ``x_valid`` /
``y_valid`` (else validation is carved from train). x is (N, L), (N, H, W) or (N, C, H, W).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..errors import DataError
from .dataset import RawData

REQUIRED = ("x_train", "y_train", "x_test", "y_test")
OPTIONAL = ("x_valid", "y_valid")


def load_npz_raw(path: str | Path) -> RawData:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file {str(path)!r} not found (expected a .npz with {', '.join(REQUIRED)})")
    try:
        # allow_pickle=False: a data file must never be able to run code when opened
        with np.load(path, allow_pickle=False) as archive:
            present = set(archive.files)
            missing = [k for k in REQUIRED if k not in present]
            if missing:
                raise DataError(
                    f"{path}: array(s) {', '.join(missing)} missing; the file has "
                    f"{', '.join(sorted(present)) or 'no arrays'} and needs {', '.join(REQUIRED)} "
                    f"(optionally {', '.join(OPTIONAL)})"
                )
            arrays = {k: archive[k] for k in REQUIRED + OPTIONAL if k in present}
        for key in list(arrays):
            if key.startswith("x_"):
                arrays[key] = as_channels_first(arrays[key], f"{path}: {key}")
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable .npz file without pickled objects ({exc})") from exc
    return RawData(
        x_train=arrays["x_train"],
        y_train=arrays["y_train"],
        x_test=arrays["x_test"],
        y_test=arrays["y_test"],
        x_valid=arrays.get("x_valid"),
        y_valid=arrays.get("y_valid"),
        origin=str(path),
    )


def as_channels_first(x: np.ndarray, label: str) -> np.ndarray:
    """(N, L) -> (N, 1, L); (N, H, W) -> (N, 1, H, W); (N, C, H, W) as given.

    A 3-D array is read as single-channel images (what MNIST-like files hold); multi-channel 1-D
    signals have no unambiguous layout here and are not supported.
    """
    x = np.asarray(x)
    if x.ndim == 2:
        return x[:, None, :]
    if x.ndim == 3:
        return x[:, None, :, :]
    if x.ndim == 4:
        return x
    raise DataError(
        f"{label} must have shape (N, L), (N, H, W) or (N, C, H, W), got shape {tuple(x.shape)}"
    )
