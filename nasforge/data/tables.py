"""scikit-learn's bundled tables (wine, breast_cancer, iris) as datasets, with column names.

A table of F columns is read as F channels of length 1, (N, F, 1): the loaders normalise per
channel with train statistics, which for a table is exactly per-column standardisation, and a
feature ablation removes a column by removing a channel.
The zero-argument loaders at the end are what a dataset registry entry points to.
"""

from __future__ import annotations

import numpy as np

from ..errors import require
from .dataset import RawData

TABLES = {"wine": "load_wine", "breast_cancer": "load_breast_cancer", "iris": "load_iris"}


def _bunch(name: str):
    datasets = require("sklearn.datasets", "torch")
    return getattr(datasets, TABLES[name])()


def load_table_raw(name: str) -> RawData:
    """Rows as (N, F, 1); no official test split, so valid and test are carved from train."""
    bunch = _bunch(name)
    return RawData(
        x_train=np.asarray(bunch.data, dtype=np.float32)[:, :, None],
        y_train=np.asarray(bunch.target),
        x_test=None,
        y_test=None,
        origin=f"sklearn.datasets.{TABLES[name]}",
        num_classes=len(bunch.target_names),
    )


def column_names(name: str) -> list[str]:
    """The table's column names in channel order (e.g. wine: 'alcohol', ..., 'proline')."""
    return [str(n) for n in _bunch(name).feature_names]


def load_wine_raw() -> RawData:
    return load_table_raw("wine")


def load_breast_cancer_raw() -> RawData:
    return load_table_raw("breast_cancer")


def load_iris_raw() -> RawData:
    return load_table_raw("iris")
