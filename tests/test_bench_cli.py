"""`nasforge bench` on the real NB201 table: tables written, oracle = the table's best-by-valid,
parallel cells give the same figures as serial ones, bad input exits 2."""

from __future__ import annotations

import json

import pytest

from nasforge.bench import run_cell
from nasforge.cli.app import main
from nasforge.evaluators.tabular import NB201Tabular
from nasforge.spaces.nb201 import NB201Space


def test_bench_writes_markdown_html_json(tmp_path, data_dir, capsys):
    stem = tmp_path / "nb"
    args = ["bench", "--strategies", "random,evolution,oracle", "--seeds", "3", "--budgets", "20,40",
            "--data", str(data_dir), "--out", str(stem)]
    assert main(args) == 0
    assert "| oracle |" in capsys.readouterr().out
    report = json.loads((tmp_path / "nb.json").read_text())
    evaluator = NB201Tabular(NB201Space(), "cifar10", data_dir=str(data_dir), hardware=False)
    valid = evaluator.column("valid_accuracy", 200)
    oracle = float(evaluator.column("test_accuracy", 200)[int(valid.argmax())])
    assert report["results"]["cifar10"]["oracle"]["40"]["mean"] == pytest.approx(oracle, abs=1e-9)
    random = report["results"]["cifar10"]["random"]
    assert random["20"]["mean"] <= oracle and random["40"]["std"] >= 0
    md = (tmp_path / "nb.md").read_text()
    assert "| random | " in md and "93.84" in md  # our figures beside the reference
    html = (tmp_path / "nb.html").read_text()
    assert "<td>evolution</td>" in html and "reference @150" in html
    # the same seeded cells in two processes give the same numbers
    assert main(args + ["--workers", "2", "--out", str(tmp_path / "par")]) == 0
    parallel = json.loads((tmp_path / "par.json").read_text())
    assert parallel["results"] == report["results"]


def test_run_cell_is_deterministic(data_dir):
    a, _ = run_cell("evolution", {"population": 10}, "cifar10", [0, 1], 30, str(data_dir))
    b, _ = run_cell("evolution", {"population": 10}, "cifar10", [0, 1], 30, str(data_dir))
    assert (a == b).all() and a.shape == (2, 30) and (a[:, 1:] >= 0).all()


def test_bench_bad_input_exits_2(tmp_path, capsys):
    assert main(["bench", "--strategies", "annealing"]) == 2
    assert "unknown strategy annealing" in capsys.readouterr().err
    assert main(["bench", "--budgets", "10,x"]) == 2
    assert main(["bench", "--datasets", "mnist"]) == 2
    assert main(["bench", "--out", str(tmp_path / "no" / "x")]) == 2
