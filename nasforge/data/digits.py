"""scikit-learn's 8x8 handwritten digits (1,797 images, bundled with sklearn: no download)."""

from __future__ import annotations

from ..errors import require
from .dataset import RawData


def load_digits_raw() -> RawData:
    """Images as (N, 1, 8, 8); there is no official test split, so one is carved from train."""
    datasets = require("sklearn.datasets", "torch")
    bunch = datasets.load_digits()
    return RawData(
        x_train=bunch.images[:, None, :, :],
        y_train=bunch.target,
        x_test=None,
        y_test=None,
        origin="sklearn.datasets.load_digits",
        num_classes=10,
    )
