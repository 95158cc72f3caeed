"""Datasets: built-ins, user .npz files and CIFAR python batches written here in the real format."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from nasforge.data import load_dataset
from nasforge.data.load import _cached
from nasforge.errors import ConfigError, DataError


def _channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    axes = (0,) + tuple(range(2, x.ndim))
    return x.mean(axis=axes), x.std(axis=axes)


def test_digits_shapes_splits_and_train_normalisation() -> None:
    data = load_dataset("digits", seed=0)
    assert data.input_shape == (1, 8, 8) and data.num_classes == 10
    sizes = data.sizes()
    assert sum(sizes.values()) == 1797
    assert sizes["test"] == round(1797 * 0.2) and sizes["valid"] == round((1797 - sizes["test"]) * 0.2)
    mean, std = _channel_stats(data.x_train)
    assert np.allclose(mean, 0, atol=1e-5) and np.allclose(std, 1, atol=1e-4)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    # raw pixels are 0..16: undoing the stored normalisation must give that range back
    raw = data.x_test * data.std[0] + data.mean[0]
    assert raw.min() > -1e-3 and raw.max() < 16 + 1e-3


def test_splits_depend_on_seed_only() -> None:
    a, b, c = load_dataset("digits", seed=3), load_dataset("digits", seed=3), load_dataset("digits", seed=4)
    _cached.cache_clear()
    again = load_dataset("digits", seed=3)
    assert np.array_equal(a.x_valid, again.x_valid) and np.array_equal(a.y_test, again.y_test)
    assert a is b  # cached per process
    assert not np.array_equal(a.y_valid, c.y_valid)


def test_max_train_keeps_a_prefix_of_the_train_split() -> None:
    full = load_dataset("digits", seed=1)
    small = load_dataset("digits", seed=1, max_train=100)
    assert len(small.y_train) == 100
    assert np.array_equal(small.y_valid, full.y_valid)


def test_mnist1d_is_built_offline_and_leaves_global_rng_alone() -> None:
    np.random.seed(123)
    expected = np.random.get_state()[1].copy()
    _cached.cache_clear()
    data = load_dataset("mnist1d", seed=0)
    assert np.array_equal(np.random.get_state()[1], expected)
    assert data.input_shape == (1, 40) and data.num_classes == 10
    assert len(data.y_test) == 1000  # the package's own test split is kept
    assert len(data.y_train) + len(data.y_valid) == 4000


def _write_npz(path, n_train=60, n_test=20, shape=(5, 6), classes=3, valid=False, **override):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.normal(3.0, 2.0, (n_train, *shape)),
        "y_train": np.arange(n_train) % classes,
        "x_test": rng.normal(3.0, 2.0, (n_test, *shape)),
        "y_test": np.arange(n_test) % classes,
    }
    if valid:
        arrays["x_valid"] = rng.normal(3.0, 2.0, (10, *shape))
        arrays["y_valid"] = np.arange(10) % classes
    arrays.update(override)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez(path, **arrays)
    return arrays


def test_npz_with_given_valid_split_normalised_by_train_statistics(tmp_path) -> None:
    path = tmp_path / "mine.npz"
    arrays = _write_npz(path, valid=True)
    data = load_dataset(str(path), seed=0)
    assert data.input_shape == (1, 5, 6) and data.num_classes == 3
    assert data.sizes() == {"train": 60, "valid": 10, "test": 20}
    mean, std = arrays["x_train"].mean(), arrays["x_train"].std()
    assert data.mean[0] == pytest.approx(mean, rel=1e-5) and data.std[0] == pytest.approx(std, rel=1e-5)
    np.testing.assert_allclose(data.x_valid[:, 0], (arrays["x_valid"] - mean) / std, rtol=1e-4, atol=1e-5)


def test_npz_signals_get_a_channel_axis_and_valid_is_carved(tmp_path) -> None:
    path = tmp_path / "signals.npz"
    _write_npz(path, n_train=50, shape=(40,))
    data = load_dataset(path, seed=0, valid_fraction=0.2)
    assert data.input_shape == (1, 40)
    assert data.sizes() == {"train": 40, "valid": 10, "test": 20}


@pytest.mark.parametrize(
    "override, expected",
    [
        ({"y_test": None}, "y_test"),
        ({"y_train": np.arange(59) % 3}, "x_train has 60 examples but y_train has 59"),
        ({"y_test": np.full(20, 7)}, "y_test has label 7 outside 0..2"),
        ({"y_train": np.arange(60) % 3 - 1}, "y_train has label -1"),
        ({"x_test": np.zeros((20, 5, 7))}, "x_test examples have shape"),
        ({"y_train": (np.arange(60) % 3).reshape(20, 3)}, "y_train must be a 1-D array"),
        ({"y_train": np.arange(60) % 3 + 0.5}, "integer class labels"),
    ],
)
def test_npz_errors_name_the_file_and_array(tmp_path, override, expected) -> None:
    path = tmp_path / "bad.npz"
    _write_npz(path, **override)
    with pytest.raises(DataError) as info:
        load_dataset(path)
    message = str(info.value)
    assert expected in message and "bad.npz" in message and "\n" not in message


def test_npz_missing_file_and_pickled_objects_are_refused(tmp_path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_dataset(tmp_path / "absent.npz")
    path = tmp_path / "objects.npz"
    np.savez(path, x_train=np.array([{"a": 1}] * 4, dtype=object), y_train=np.zeros(4),
             x_test=np.zeros((2, 3)), y_test=np.zeros(2))
    with pytest.raises(DataError, match="objects.npz"):
        load_dataset(path)


def test_unknown_dataset_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="dataset must be one of breast_cancer, digits, iris, mnist1d, wine"):
        load_dataset("imagenet")
    with pytest.raises(ConfigError, match="valid_fraction"):
        load_dataset("digits", valid_fraction=1.5)


# --- CIFAR python batches, written in the official format ----------------------------------------


def _cifar_images(n: int, offset: int) -> np.ndarray:
    """N x 3072 uint8 rows, channel-major: channel c of image i is filled with (offset+i+40c)."""
    rows = np.zeros((n, 3, 32, 32), dtype=np.uint8)
    for i in range(n):
        for c in range(3):
            rows[i, c] = (offset + i + 40 * c) % 256
    return rows.reshape(n, 3072)


def _dump(path, batch: dict) -> None:
    with open(path, "wb") as handle:
        pickle.dump(batch, handle, protocol=2)


def _write_cifar10(folder, per_batch: int = 4) -> None:
    folder.mkdir(parents=True)
    for b in range(1, 6):
        _dump(folder / f"data_batch_{b}", {
            b"batch_label": f"training batch {b} of 5".encode(),
            b"labels": [(b + i) % 10 for i in range(per_batch)],
            b"data": _cifar_images(per_batch, 10 * b),
            b"filenames": [f"img_{b}_{i}.png".encode() for i in range(per_batch)],
        })
    _dump(folder / "test_batch", {
        b"batch_label": b"testing batch 1 of 1",
        b"labels": list(range(6)),
        b"data": _cifar_images(6, 100),
        b"filenames": [f"test_{i}.png".encode() for i in range(6)],
    })


def test_cifar10_python_batches(tmp_path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    _write_cifar10(folder)
    by_name = load_dataset("cifar10", seed=0, data_dir=tmp_path, valid_fraction=0.25)
    by_path = load_dataset(str(folder), seed=0, valid_fraction=0.25)
    assert np.array_equal(by_name.x_train, by_path.x_train)
    assert by_name.input_shape == (3, 32, 32) and by_name.num_classes == 10
    assert by_name.sizes() == {"train": 15, "valid": 5, "test": 6}
    # channel-major decoding: un-normalised test image i, channel c is the constant 100+i+40c
    raw = by_name.x_test * np.array(by_name.std).reshape(1, 3, 1, 1) + np.array(by_name.mean).reshape(1, 3, 1, 1)
    for i in range(6):
        for c in range(3):
            assert np.allclose(raw[i, c], 100 + i + 40 * c, atol=1e-3)
    assert list(by_name.y_test) == list(range(6))


def test_cifar100_train_test_files(tmp_path) -> None:
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    for name, n in (("train", 12), ("test", 5)):
        _dump(folder / name, {b"data": _cifar_images(n, 0), b"fine_labels": [i * 7 % 100 for i in range(n)],
                              b"coarse_labels": [i % 20 for i in range(n)], b"filenames": [b"x"] * n})
    data = load_dataset("cifar100", data_dir=tmp_path, valid_fraction=0.25)
    assert data.num_classes == 100 and data.sizes() == {"train": 9, "valid": 3, "test": 5}


def test_cifar_errors(tmp_path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    _write_cifar10(folder)
    os.remove(folder / "data_batch_3")
    with pytest.raises(DataError, match="not a cifar10 python-version folder"):
        load_dataset("cifar10", data_dir=tmp_path)
    with pytest.raises(ConfigError, match="needs data_dir"):
        load_dataset("cifar10")
    _dump(folder / "data_batch_3", {b"data": np.zeros((4, 100), np.uint8), b"labels": [0] * 4})
    with pytest.raises(DataError, match="data_batch_3: 'data' must be an N x 3072 array"):
        load_dataset(folder)


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_cifar_batches_cannot_run_code(tmp_path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    _write_cifar10(folder)
    _dump(folder / "test_batch", {b"data": _Exploit(), b"labels": [0]})
    with pytest.raises(DataError, match="refusing to load"):
        load_dataset(folder)


def test_rewritten_npz_is_reloaded_not_served_from_cache(tmp_path) -> None:
    path = tmp_path / "changing.npz"
    _write_npz(path, classes=3)
    assert load_dataset(path).num_classes == 3
    _write_npz(path, classes=4, n_train=80)
    os.utime(path, ns=(1, 10**18))  # make sure the modification time differs on coarse clocks
    assert load_dataset(path).num_classes == 4
