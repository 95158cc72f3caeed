"""Data already in Python: NumPy arrays and torch Datasets train for real and travel to workers."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from nasforge.data import from_arrays, from_torch, load_dataset
from nasforge.errors import ConfigError, DataError
from nasforge.evaluators.trainer import TrainerEvaluator
from nasforge.spaces.chain import ChainSpace

ARCH = "conv_3_8>max_pool>conv_3_16|lr=0.05,mom=0.9,wd=0.0005,opt=sgd"
COMMON = {"epochs": 3, "batch_size": 16, "latency_repeats": 1}


@pytest.fixture(scope="module")
def digits():
    bunch = load_digits()
    keep = slice(0, 600)
    return (bunch.images[keep] / 16.0).astype(np.float32)[:, None], bunch.target[keep]


class Pairs(torch.utils.data.Dataset):
    """A user's own map-style Dataset: tensors made on access."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        return torch.from_numpy(self.x[i]), int(self.y[i])


def test_arrays_and_a_torch_dataset_give_the_same_splits(digits) -> None:
    x, y = digits
    a = load_dataset(from_arrays(x, y, name="d"), seed=3)
    b = load_dataset(from_torch(Pairs(x, y), name="d"), seed=3)
    assert a.input_shape == (1, 8, 8) and a.num_classes == 10
    assert np.array_equal(a.x_valid, b.x_valid) and np.array_equal(a.y_test, b.y_test)
    flat = load_dataset(from_arrays(x.reshape(len(x), -1), y), seed=3)
    assert flat.input_shape == (64, 1)  # a feature matrix becomes channels of length 1


def test_trainer_takes_arrays_or_a_dataset_and_pickles_them_to_workers(digits) -> None:
    x, y = digits
    space = ChainSpace(max_nodes=3, filters=(8, 16), kernels=(3,))
    arch = space.from_string(ARCH)
    by_arrays = TrainerEvaluator(space, dataset=(x, y), **COMMON)
    by_dataset = TrainerEvaluator(space, dataset=Pairs(x, y), **COMMON)
    first = by_arrays.evaluate(arch, seed=0)
    assert first["valid_accuracy"] > 40.0  # chance is 10 %
    second = by_dataset.evaluate(arch, seed=0)
    assert first["valid_accuracy"] == second["valid_accuracy"]
    worker = pickle.loads(pickle.dumps(by_arrays))  # what a spawned pool / Ray worker receives
    assert worker.evaluate(arch, seed=0)["valid_loss"] == first["valid_loss"]
    assert by_arrays.dataset == "memory:arrays"


def test_regression_on_arrays(digits) -> None:
    x, y = digits
    space = ChainSpace(max_nodes=2, filters=(8,), kernels=(3,), numeric_genes=False)
    arch = space.sample(np.random.default_rng(0))
    values = y.astype(np.float32) * 2.5 + 1.0  # predict the digit's value as a number
    metrics = TrainerEvaluator(space, dataset=(x, values), task="regression", **COMMON).evaluate(arch, seed=0)
    assert 0 < metrics["valid_mae"] < 2.5 * 2.5  # predicting the mean would be ~ 2.5 * 2.5


def test_bad_in_memory_data_fails_in_one_line(digits) -> None:
    x, y = digits
    with pytest.raises(DataError, match="x_train has 600 examples but y_train has 599"):
        load_dataset(from_arrays(x, y[:-1]))
    with pytest.raises(DataError, match="train item 0 must be an \\(input, label\\) pair"):
        from_torch([x[0], x[1]])
    with pytest.raises(ConfigError, match="parameter dataset of TrainerEvaluator must be a dataset name or path"):
        TrainerEvaluator(ChainSpace(), dataset=3)
