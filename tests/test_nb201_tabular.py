"""NB201 tabular evaluator against the real shared tables."""

from __future__ import annotations

import csv
import gzip
import pickle

import numpy as np
import pytest

from nasforge.errors import ConfigError, DataError
from nasforge.evaluators.tabular import NB201Tabular, accuracy_columns, nb201_flops, nb201_params
from nasforge.spaces.nb201 import NB201Space


@pytest.fixture(scope="module")
def space():
    return NB201Space()


def test_cifar10_protocol_and_best_architecture(space, data_dir):
    evaluator = NB201Tabular(space, "cifar10", data_dir=data_dir)
    metrics = evaluator.evaluate(space.from_index(6111), 200, seed=0)
    assert metrics["valid_accuracy"] == pytest.approx(91.6067)  # cifar10-valid/200/valid
    assert metrics["test_accuracy"] == pytest.approx(94.3733)  # cifar10/200/test
    assert "train_accuracy" not in metrics  # the table has no train column for the 50k run
    assert metrics["nb201_index"] == 6111
    assert evaluator.oracle() == (6111, pytest.approx(94.3733))
    low = evaluator.evaluate(space.from_index(6111), 12, seed=0)
    assert low["valid_accuracy"] != metrics["valid_accuracy"]


def test_own_columns_for_other_datasets(space, data_dir):
    with gzip.open(data_dir / "nb201" / "nb201_accuracy.csv.gz", "rt", newline="") as handle:
        rows = {int(r["index"]): r for r in csv.DictReader(handle) if int(r["index"]) in (0, 857, 9930)}
    for dataset in ("cifar10-valid", "cifar100", "ImageNet16-120"):
        evaluator = NB201Tabular(space, dataset, data_dir=data_dir)
        for index, row in rows.items():
            metrics = evaluator.evaluate(space.from_index(index), None, 0)
            for split in ("train", "valid", "test"):
                assert metrics[f"{split}_accuracy"] == pytest.approx(float(row[f"{dataset}/200/{split}"]))
    c10v = NB201Tabular(space, "cifar10-valid", data_dir=data_dir)
    assert set(accuracy_columns("cifar10-valid", 12)) == {"valid_accuracy"}
    assert "test_accuracy" not in c10v.evaluate(space.from_index(0), 12, 0)


def test_hardware_metrics_per_dataset(space, data_dir):
    with gzip.open(data_dir / "nb201" / "nb201_hardware.csv.gz", "rt", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["index"] == "1")
    for dataset, prefix in (("cifar10-valid", "cifar10"), ("cifar100", "cifar100"), ("ImageNet16-120", "ImageNet16-120")):
        metrics = NB201Tabular(space, dataset, data_dir=data_dir).evaluate(space.from_index(1), 200, 0)
        for name in ("edgegpu_latency", "edgegpu_energy", "fpga_energy", "pixel3_latency"):
            assert metrics[name] == pytest.approx(float(row[f"{prefix}/{name}"]))
    evaluator = NB201Tabular(space, "cifar10", data_dir=data_dir)
    missing = np.flatnonzero(np.isnan(evaluator.column("edgetpu_latency")))
    if missing.size:  # missing cells omit the key instead of failing or inventing a value
        assert "edgetpu_latency" not in evaluator.evaluate(space.from_index(int(missing[0])), 200, 0)


def test_analytic_params_and_flops_match_zero_cost_table(space, data_dir):
    checked = 0
    with gzip.open(data_dir / "nb201" / "nb201_zero_cost.csv.gz", "rt", newline="") as handle:
        for row in csv.DictReader(handle):
            ops = space.ops(space.from_string(row["arch"]))
            classes = {"cifar10": 10, "ImageNet16-120": 120}[row["dataset"]]
            assert nb201_params(ops, classes) == pytest.approx(float(row["params"]), abs=1e-6)
            assert nb201_flops(ops, row["dataset"]) == pytest.approx(float(row["flops"]), abs=1e-5)
            checked += 1
    assert checked == 2 * 9445
    evaluator = NB201Tabular(space, "ImageNet16-120", data_dir=data_dir)
    column = evaluator.column("params_m")
    arch = space.from_index(777)
    assert column[777] == pytest.approx(evaluator.evaluate(arch, 200, 0)["params_m"])


def test_bad_requests_name_what_exists(space, data_dir):
    with pytest.raises(ConfigError, match="cifar10-valid, cifar10, cifar100, ImageNet16-120"):
        NB201Tabular(space, "svhn", data_dir=data_dir)
    with pytest.raises(ConfigError, match="unknown option"):
        NB201Tabular(space, "cifar10", data_dir=data_dir, epochs=3)
    evaluator = NB201Tabular(space, "cifar10", data_dir=data_dir)
    with pytest.raises(DataError, match="12, 200"):
        evaluator.evaluate(space.from_index(0), 50, 0)
    with pytest.raises(DataError, match="has no metric 'train_accuracy'"):
        evaluator.column("train_accuracy")
    with pytest.raises(DataError, match="not found"):
        NB201Tabular(space, "cifar10", data_dir=data_dir / "nb101")


def test_pickles_without_tables(space, data_dir):
    evaluator = NB201Tabular(space, "cifar100", data_dir=data_dir)
    before = len(pickle.dumps(evaluator))
    evaluator.evaluate(space.from_index(3), 200, 0)
    blob = pickle.dumps(evaluator)
    assert len(blob) == before < 2000
    clone = pickle.loads(blob)
    assert clone.evaluate(space.from_index(3), 200, 0) == evaluator.evaluate(space.from_index(3), 200, 0)
