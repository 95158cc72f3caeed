"""MNIST-1D (Greydanus, 2020) generated offline from its procedural definition.

The package can also download a pickle; we never use that path (no network at run time) and build
the default 5,000-example dataset with ``make_dataset`` instead, which is deterministic.
"""

from __future__ import annotations

import random

import numpy as np

from ..errors import require
from .dataset import RawData


def load_mnist1d_raw() -> RawData:
    """Signals as (N, 1, 40) with the package's own 4,000 / 1,000 train / test split."""
    data_module = require("mnist1d.data", "torch")
    # make_dataset reseeds the global `random` and `np.random` generators; put them back so that
    # loading data never changes anyone else's random stream.
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        data = data_module.make_dataset(data_module.get_dataset_args())
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    return RawData(
        x_train=np.asarray(data["x"])[:, None, :],
        y_train=np.asarray(data["y"]),
        x_test=np.asarray(data["x_test"])[:, None, :],
        y_test=np.asarray(data["y_test"]),
        origin="mnist1d.data.make_dataset(get_dataset_args())",
        num_classes=10,
    )
