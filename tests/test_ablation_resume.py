"""kill -9 a real `nasforge ablate`, resume it with `nasforge resume`, get the uninterrupted study;
then report it with `nasforge report` after its data file is gone."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np

from nasforge.study.api import load_study
from tests.helpers.kill import kill_after_first_trial, nasforge, stored

ROOT = Path(__file__).resolve().parents[1]
NAME = "table-loco"
TRIALS = 12  # base + 5 columns, times 2 seeds


def _trials(db: Path) -> list[tuple]:
    study = load_study(NAME, str(db))
    return [(t.number, t.arch, t.values, t.state) for t in study.trials]


def test_killed_ablation_resumes_to_the_uninterrupted_result_and_reports_without_data(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 5)).astype(np.float32)
    y = (x[:, 1] + 0.5 * x[:, 3] > 0).astype(np.int64)
    data = tmp_path / "table.npz"
    np.savez(data, x_train=x[:450], y_train=y[:450], x_test=x[450:], y_test=y[450:])
    config = tmp_path / "ablation.yaml"
    config.write_text(f"name: {NAME}\nkind: features\ndataset: {data}\nmodel: mlp\nhidden: 8\n"
                      "features: {axis: column, names: [a, b, c, d, e]}\nseeds: [0, 1]\nepochs: 15\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    reference = tmp_path / "ref.db"
    subprocess.run(nasforge("ablate", "-c", str(config), "--storage", str(reference)), env=env, check=True,
                   capture_output=True, timeout=240)
    assert stored(reference) == TRIALS

    crashed = kill_after_first_trial(nasforge("ablate", "-c", str(config), "--storage", "{db}"),
                                     lambda i: tmp_path / f"crash{i}.db", TRIALS, env)
    listed = subprocess.run(nasforge("list", "--storage", str(crashed)), env=env, check=True,
                            capture_output=True, text=True, timeout=120).stdout
    assert listed.startswith(f"{NAME}\tablation/loco\t") and "COMPLETE=" in listed
    subprocess.run(nasforge("resume", NAME, "--storage", str(crashed)), env=env, check=True,
                   capture_output=True, timeout=240)
    assert _trials(crashed) == _trials(reference)

    data.unlink()  # the report reads the store only
    text = subprocess.run(nasforge("report", NAME, "--storage", str(crashed)), env=env, check=True,
                          capture_output=True, text=True, timeout=120).stdout
    assert "change vs base" in text and "base" in text
    report = json.loads(subprocess.run(
        nasforge("report", NAME, "--storage", str(crashed), "--json"), env=env, check=True,
        capture_output=True, text=True, timeout=120).stdout)
    assert len(report["base"]["values"]) == 2 and len(report["components"]) == 5
    # column b carries most of the label: removing it hurts most
    assert report["components"][0]["component"] == "b" and report["components"][0]["delta"] < -10
    # the best trial's network (its feature mask included) exports from the weights saved in the run
    exported = subprocess.run(nasforge("export", NAME, "--storage", str(crashed), "--output", str(tmp_path / "x")),
                              env=env, check=True, capture_output=True, text=True, timeout=120).stdout
    assert "saved weights, not retrained" in exported and (tmp_path / "x" / "model.pt2").is_file()
