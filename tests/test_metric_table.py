"""User metric tables: CSV keyed by architecture string or NB201 index, merged into an evaluator."""

from __future__ import annotations

import csv
import gzip
import pickle

import pytest

from nasforge.errors import ConfigError, DataError
from nasforge.evaluators.metric_table import MetricTableEvaluator
from nasforge.metrics.metric_table import MetricTable
from nasforge.spaces.nb201 import NB201Space

SPACE = NB201Space()


def _phone_latency(arch) -> float:
    """A made-up device measurement: a different cost model than HW-NAS-Bench's."""
    return round(0.3 + sum({2: 0.4, 3: 1.1, 4: 0.2}.get(g, 0.0) for g in arch.genes), 3)


def _write(path, header, rows, gz=False):
    opener = gzip.open if gz else open
    with opener(path, "wt", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


@pytest.fixture(scope="module")
def full_table(tmp_path_factory):
    """Every NB201 cell keyed by index, gzipped, with two metric columns."""
    path = tmp_path_factory.mktemp("tables") / "phone.csv.gz"
    rows = []
    for index in range(SPACE.size()):
        arch = SPACE.from_index(index)
        rows.append([index, _phone_latency(arch), 2 * _phone_latency(arch)])
    return _write(path, ["index", "phone_latency", "phone_energy"], rows, gz=True)


def test_keyed_by_arch_string_and_by_index(tmp_path):
    a, b = SPACE.from_index(0), SPACE.from_index(123)
    rows = [[f"  {a.string} ", 1.5], [b.string, 2.0]]  # surrounding spaces are tolerated
    by_arch = MetricTable(_write(tmp_path / "a.csv", ["arch", "lat"], rows), SPACE)
    assert by_arch.key == "arch" and by_arch.columns == ("lat",) and len(by_arch) == 2
    assert by_arch.lookup(a) == {"lat": 1.5} and b in by_arch
    by_index = MetricTable(_write(tmp_path / "i.csv", ["index", "lat"], [[123, 7.0]]), SPACE)
    assert by_index.key == "index" and by_index.lookup(b) == {"lat": 7.0}


def test_missing_rows_columns_and_bad_cells_are_clear_errors(tmp_path):
    a, b = SPACE.from_index(0), SPACE.from_index(1)
    path = _write(tmp_path / "t.csv", ["arch", "lat", "energy"], [[a.string, 1.0, ""]])
    table = MetricTable(path, SPACE)
    with pytest.raises(DataError, match=r"is not in metric table .*t\.csv"):
        table.lookup(b)
    with pytest.raises(DataError, match="no column.*'power'.*it has: lat"):
        table.lookup(a, ["power"])
    assert table.lookup(a) == {"lat": 1.0}  # 'energy' has an empty cell: not a metric column
    with pytest.raises(DataError, match="'energy' hold text or empty cells, not numbers"):
        table.lookup(a, ["energy"])
    with pytest.raises(DataError, match="needs a key column \\(arch, arch_str"):
        MetricTable(_write(tmp_path / "k.csv", ["name", "lat"], [["x", 1]]), SPACE)
    with pytest.raises(DataError, match="line 3: architecture .* appears twice"):
        twice = [[a.string, 1], [a.string, 2]]
        MetricTable(_write(tmp_path / "d.csv", ["arch", "lat"], twice), SPACE)
    with pytest.raises(DataError, match="line 2: bad arch 'conv'"):
        MetricTable(_write(tmp_path / "b.csv", ["arch", "lat"], [["conv", 1]]), SPACE)
    with pytest.raises(DataError, match="not found"):
        MetricTable(tmp_path / "nope.csv", SPACE)


def test_evaluator_merges_table_over_the_benchmark(tmp_path, data_dir):
    arch = SPACE.from_index(42)
    header = ["index", "edgegpu_latency", "phone_latency"]
    path = _write(tmp_path / "m.csv", header, [[42, 9.5, 1.25]])
    with pytest.raises(DataError, match="covers 1 of the 15625 architectures"):
        MetricTableEvaluator(SPACE, dataset="cifar10", data_dir=str(data_dir), table=path, base="nb201")
    evaluator = MetricTableEvaluator(
        SPACE, dataset="cifar10", data_dir=str(data_dir), table=path, base="nb201", allow_missing=True
    )
    metrics = evaluator.evaluate(arch, None, 0)
    assert metrics["phone_latency"] == 1.25
    assert metrics["edgegpu_latency"] == 9.5  # the user's measurement replaces the benchmark's
    assert 0 < metrics["valid_accuracy"] < 100 and metrics["nb201_index"] == 42
    assert {"valid_accuracy", "phone_latency", "edgegpu_latency"} <= set(evaluator.metrics())
    assert evaluator.fidelities() == (12, 200)
    clone = pickle.loads(pickle.dumps(evaluator))
    assert clone.evaluate(arch, None, 0) == metrics
    with pytest.raises(DataError, match="is not in metric table"):
        evaluator.evaluate(SPACE.from_index(43), None, 0)


def test_evaluator_options_are_checked_up_front(tmp_path):
    path = _write(tmp_path / "m.csv", ["index", "lat"], [[1, 2.0]])
    with pytest.raises(ConfigError, match="parameter table of MetricTableEvaluator"):
        MetricTableEvaluator(SPACE)
    with pytest.raises(ConfigError, match="unknown evaluator 'tabular'"):
        MetricTableEvaluator(SPACE, table=path, base="tabular")
    with pytest.raises(DataError, match="no column.*'power'"):
        MetricTableEvaluator(SPACE, table=path, columns=["power"], allow_missing=True)
    alone = MetricTableEvaluator(SPACE, table=path, allow_missing=True)
    assert list(alone.metrics()) == ["lat"] and alone.fidelities() is None


def test_multi_objective_study_on_a_user_table(tmp_path, data_dir, full_table):
    from nasforge.report.pareto import pareto_summary
    from nasforge.study.api import create_study_from_config

    config = {
        "name": "phone",
        "strategy": "nsga2",
        "strategy_options": {"population_size": 6},
        "evaluator": "metric_table",
        "evaluator_options": {"table": full_table, "base": "nb201"},
        "dataset": "cifar10",
        "data": str(data_dir),
        "objectives": ["valid_accuracy:max", "phone_latency:min"],
        "storage": str(tmp_path / "s.db"),
        "trials": 24,
    }
    study = create_study_from_config(config)
    study.optimize(n_trials=24)
    summary = pareto_summary(study.trials, config["objectives"], constraints=["phone_latency<=4"])
    assert summary["n_complete"] == 24 and summary["pareto_front"]
    for point in summary["pareto_front"]:
        assert point["values"]["phone_latency"] == _phone_latency(SPACE.from_string(point["arch"]))
        assert point["values"]["phone_latency"] <= 4
    with pytest.raises(ConfigError, match=r"unknown objective metric 'tpu_latency' for evaluator 'metric_table' \(available: .*phone_latency.*\); did you mean 'edgetpu_latency'\?"):
        bad = ["valid_accuracy:max", "tpu_latency:min"]
        create_study_from_config({**config, "name": "bad", "objectives": bad})


def test_text_columns_are_skipped_and_the_key_column_can_be_named(tmp_path):
    a, b = SPACE.from_index(5), SPACE.from_index(6)
    rows = [[a.string, a.string, 5, "pixel", 1.5, 2.0], [b.string, b.string, 6, "pixel", "", 3.0]]
    header = ["arch_str", "arch_copy", "nb201_index", "device", "lat", "energy"]
    path = _write(tmp_path / "hw.csv", header, rows)
    table = MetricTable(path, SPACE)
    assert table.key == "arch_str" and table.columns == ("nb201_index", "energy")
    assert set(table.text_columns) == {"arch_copy", "device", "lat"}
    with pytest.raises(DataError, match="'lat' hold text or empty cells"):
        table.lookup(a, ["lat"])
    by_index = MetricTable(path, SPACE, key="nb201_index")
    assert by_index.by_index and by_index.lookup(b) == {"energy": 3.0}
    with pytest.raises(DataError, match="'lat' hold text"):
        MetricTableEvaluator(SPACE, table=path, columns=["lat"], allow_missing=True)
