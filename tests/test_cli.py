"""The CLI end to end on the NB201 table: search, report --json, list, resume, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nasforge.cli.app import main
from nasforge.store import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]


def _search(db, data_dir, *extra):
    return main(["search", "--space", "nb201", "--strategy", "evolution", "--dataset", "cifar10",
                 "--trials", "30", "--seed", "0", "--storage", str(db), "--data", str(data_dir),
                 *extra])  # fmt: skip


def test_search_then_report_json(tmp_path, data_dir, capsys):
    db = tmp_path / "s.db"
    assert _search(db, data_dir, "--name", "evo") == 0
    out = capsys.readouterr()
    assert "best trial #" in out.out and "test_accuracy=" in out.out
    assert main(["report", "evo", "--storage", str(db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["study"] == "evo" and report["space"] == "nb201"
    assert report["strategy"] == "evolution" and report["dataset"] == "cifar10"
    assert report["counts"]["COMPLETE"] == 30
    best = report["best"]
    assert best["arch"].startswith("|") and best["metrics"]["valid_accuracy"] == best["values"][0]
    assert "test_accuracy" in best["metrics"]
    assert main(["report", "--storage", str(db)]) == 0  # text, single study picked by default
    assert "top 10 trials" in capsys.readouterr().out


def test_list_and_resume_with_larger_budget(tmp_path, data_dir, capsys):
    db = tmp_path / "s.db"
    assert _search(db, data_dir, "--name", "a") == 0
    assert _search(db, data_dir, "--name", "b", "-o", "strategy.population=10") == 0
    capsys.readouterr()
    assert main(["list", "--storage", str(db)]) == 0
    listed = capsys.readouterr().out
    assert "a\tnb201/evolution\tCOMPLETE=30" in listed and "b\t" in listed
    assert main(["resume", "a", "--storage", str(db), "--trials", "45"]) == 0
    store = SQLiteStore(db)
    assert store.counts(store.get_study("a").study_id)["COMPLETE"] == 45


@pytest.mark.parametrize(
    "args, message",
    [
        (["--strategy", "annealing"], "unknown strategy 'annealing'"),
        (["--dataset", "cifar11"], "cifar11"),
        (["--trials", "-1"], "'trials'"),
        (["--objective", "nope:max"], "objective metric 'nope'"),
        (["--fidelity", "13"], "fidelity 13"),
        (["-o", "strategy.tournament=3"], "no option 'tournament'"),
        (["--data", "/definitely/not/here"], "/definitely/not/here"),
        (["--bogus-flag"], "--bogus-flag"),
        (["-o", "constraints=[latency_ms<<5]"], "latency_ms<<5"),
        (["-o", "constraints=[lat<=5]"], "constraint metric 'lat'"),
    ],
)
def test_bad_input_one_line_exit_2_store_untouched(tmp_path, data_dir, capsys, args, message):
    db = tmp_path / "s.db"
    assert _search(db, data_dir, "--name", "keep") == 0
    before = db.stat().st_size, SQLiteStore(db).counts(1)
    capsys.readouterr()
    base = ["search", "--space", "nb201", "--storage", str(db), "--name", "other"]
    if "--data" not in args:
        base += ["--data", str(data_dir)]
    assert main(base + args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err
    assert SQLiteStore(db).study_names() == ["keep"]
    assert SQLiteStore(db).counts(1) == before[1]


def test_bad_config_file_and_duplicate_name(tmp_path, data_dir, capsys):
    db = tmp_path / "s.db"
    cfg = tmp_path / "c.yaml"
    cfg.write_text("space: nb201\nstrategy: random\ntrails: 10\n")
    assert main(["search", "--config", str(cfg), "--storage", str(db)]) == 2
    assert "unknown config field 'trails'" in capsys.readouterr().err
    assert main(["search", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "not found" in capsys.readouterr().err
    assert _search(db, data_dir, "--name", "x") == 0
    assert _search(db, data_dir, "--name", "x") == 2
    assert "already exists" in capsys.readouterr().err


def test_real_binary_exit_code_and_no_traceback(tmp_path):
    env = {**os.environ, "NASFORGE_DATA": str(tmp_path / "missing")}
    proc = subprocess.run([sys.executable, "-m", "nasforge", "search", "--storage",
                           str(tmp_path / "s.db"), "--trials", "3"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "NASFORGE_DATA" in proc.stderr
    assert not (tmp_path / "s.db").exists()


def test_import_nasforge_does_not_import_torch():
    code = "import sys, nasforge, nasforge.study, nasforge.cli.app; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "False", out.stderr


def test_asha_from_the_cli_prunes_at_12_epochs(tmp_path, data_dir, capsys):
    db = tmp_path / "s.db"
    assert _search(db, data_dir, "--name", "asha", "--strategy", "random", "--scheduler", "asha",
                   "--trials", "60") == 0  # fmt: skip
    capsys.readouterr()
    assert main(["report", "asha", "--storage", str(db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["PRUNED"] > 0 and report["counts"]["COMPLETE"] > 0
    store = SQLiteStore(db)
    trials = store.trials(store.get_study("asha").study_id)
    assert {t.fidelity for t in trials if t.state.value == "PRUNED"} == {12}
    assert {t.fidelity for t in trials if t.state.value == "COMPLETE"} == {200}
    assert main(["search", "--space", "nb201", "--storage", str(db), "--data", str(data_dir),
                 "--scheduler", "hyperband"]) == 2  # fmt: skip
    assert "unknown scheduler 'hyperband'" in capsys.readouterr().err


def test_resume_of_a_missing_file_does_not_create_it(tmp_path):
    missing = tmp_path / "nope.db"
    assert main(["resume", "x", "--storage", str(missing)]) == 2
    assert not missing.exists()
