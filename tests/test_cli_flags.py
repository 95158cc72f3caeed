"""CLI flags a new user reaches for: overrides, --workers alone, printed next steps, --help with
every component, --version, `trials --csv`, old metric names, and bad input leaving nothing behind.
Real CLI runs on the NB201 table and real SQLite files."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nasforge import __version__
from nasforge.cli.app import main
from nasforge.store import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]


def _nb201(db: Path, data_dir: Path, *extra: str) -> int:
    return main(["search", "--space", "nb201", "--strategy", "random", "--dataset", "cifar10",
                 "--data", str(data_dir), "--storage", str(db), "--seed", "0", *extra])  # fmt: skip


def test_executor_flag_overrides_the_configs_executor_and_its_workers(tmp_path, capsys):
    """`--executor serial` on the README's digits.yaml (executor local, workers 2) used to fail."""
    db = tmp_path / "d.db"
    code = main(["search", "-c", str(ROOT / "examples" / "digits.yaml"), "--executor", "serial",
                 "--trials", "1", "-o", "evaluator.epochs=1", "-o", "evaluator.max_train=100",
                 "--storage", str(db)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    config = SQLiteStore(db).get_study("digits-qnas").config
    assert config["executor"] == "serial" and config["workers"] == 1
    assert config["space"] == "chain" and config["strategy_options"]["preset"] == "small_budget"


def test_workers_alone_means_the_local_pool(tmp_path, data_dir, capsys):
    db = tmp_path / "w.db"
    assert _nb201(db, data_dir, "--name", "pool", "--trials", "4", "--workers", "2") == 0
    store = SQLiteStore(db)
    record = store.get_study("pool")
    assert record.config["executor"] == "local" and record.config["workers"] == 2
    assert store.counts(record.study_id)["COMPLETE"] == 4


def test_search_prints_the_commands_that_read_the_study(tmp_path, data_dir, capsys):
    db = tmp_path / "my runs.db"  # a space in the path: the printed command must still work
    assert _nb201(db, data_dir, "--name", "printed", "--trials", "3") == 0
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("report:"))
    assert line == f"report:  nasforge report printed --storage '{db}'"
    import shlex

    args = shlex.split(line.split(":", 1)[1])[1:]  # drop the program name
    assert main(args + ["--json"]) == 0
    assert '"COMPLETE": 3' in capsys.readouterr().out
    assert "export:" not in err  # tabular evaluator: no trained weights to export


def test_help_lists_every_component_with_defaults_and_version(capsys):
    assert main(["search", "--help"]) == 0
    out = capsys.readouterr().out
    for text in ("evolution", "population=20", "nsga2", "pareto_local", "trainer", "epochs=10",
                 "nb201", "chain", "max_nodes=8", "asha", "eta=3", "local", "trial_timeout=None"):
        assert text in out, text
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"nasforge {__version__}"


def test_trials_csv_and_dataframe_hold_every_trial(tmp_path, data_dir, capsys):
    db = tmp_path / "t.db"
    assert _nb201(db, data_dir, "--name", "t", "--trials", "6",
                  "--objectives", "valid_accuracy,params_m:min") == 0  # fmt: skip
    capsys.readouterr()
    assert main(["trials", "t", "--storage", str(db), "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [int(r["number"]) for r in rows] == list(range(6))  # numbered from 0, as everywhere
    first = rows[0]
    assert first["state"] == "COMPLETE" and float(first["duration_s"]) >= 0
    assert float(first["value_params_m"]) == float(first["metric_params_m"])
    genes = [k for k in first if k.startswith("gene_")]
    assert len(genes) == 6 and all(first[g].isdigit() for g in genes)

    from nasforge.study.api import load_study

    frame = load_study("t", str(db), {"data": str(data_dir)}).trials_dataframe()
    assert list(frame["number"]) == list(range(6)) and frame.shape[0] == 6
    assert list(frame["arch"]) == [r["arch"] for r in rows]


def test_old_metric_names_get_a_one_line_pointer_to_the_new_one(tmp_path, data_dir, capsys):
    db = tmp_path / "old.db"
    assert _nb201(db, data_dir, "--objectives", "valid_accuracy,params") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown metric 'params'; did you mean 'params_m'?" in err
    assert _nb201(db, data_dir, "--constraint", "latency<=5") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown constraint metric 'latency'" in err
    assert not db.exists()


@pytest.mark.parametrize(
    "options, message",
    [
        (["-o", "executor.address=127.0.0.1:9"], "no Ray cluster answers at '127.0.0.1:9'"),
        (["-o", "executor.address=nohost"], "must be 'auto', 'host:port' or 'ray://host:port'"),
        (["-o", "executor.gpus_per_trial=1"], "asks for 1 GPU(s) but this machine has 0"),
    ],
)
def test_bad_ray_settings_fail_in_seconds_and_leave_no_study(tmp_path, data_dir, capsys, options, message):
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    db = tmp_path / "ray.db"
    started = time.monotonic()
    assert _nb201(db, data_dir, "--executor", "ray", *options) == 2
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not db.exists()


def test_a_command_module_that_fails_to_import_is_not_hidden():
    code = "import sys; sys.modules['nasforge.cli.export'] = None; import nasforge.cli.app"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert run.returncode != 0 and "nasforge.cli.export" in run.stderr
    assert main(["export", "--help"]) == 0 and main(["ablate", "--help"]) == 0


def test_a_gpu_trainer_without_a_gpu_fails_before_the_study_exists(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    db = tmp_path / "gpu.db"
    code = main(["search", "--space", "chain", "--strategy", "random", "--dataset", "digits",
                 "-o", "evaluator.device=cuda", "--trials", "1", "--storage", str(db)])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "device" in err and "no CUDA device" in err
    assert not db.exists()


def test_list_names_studies_without_a_space(tmp_path, capsys):
    """Ablation studies recorded before they ran through Study carry no space/strategy."""
    db = tmp_path / "mixed.db"
    store = SQLiteStore(db)
    store.create_study("loco", {"kind": "features", "dataset": "wine"})
    store.create_study("evo", {"space": "nb201", "strategy": "evolution"})
    store.close()
    assert main(["list", "--storage", str(db)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert sorted(out) == ["evo\tnb201/evolution\tempty", "loco\tablation/features\tempty"]
