"""Datasets for real training: digits, MNIST-1D, a user's .npz, CIFAR python batches.

Only NumPy (plus scikit-learn / mnist1d for the built-ins) is needed; tensors are made by the
trainer.
"""

from __future__ import annotations

from .dataset import Dataset, RawData
from .load import CIFAR, load_dataset, resolve_source
from .memory import from_arrays, from_torch

__all__ = ["CIFAR", "Dataset", "RawData", "from_arrays", "from_torch", "load_dataset", "resolve_source"]
