"""`nasforge report` reads the study file alone: no evaluator, no data folder, no user code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from nasforge.evaluators.base import Evaluator
from nasforge.spaces.nb201 import NB201Space
from nasforge.strategies.random import RandomSearch
from nasforge.study import create_study

ROOT = Path(__file__).resolve().parents[1]


class CountingConvEvaluator(Evaluator):
    """A user's own evaluator, defined where no other process can import it: score = number of
    3x3 convolutions, ties broken by the store's notion of best."""

    name = "count-conv"

    def evaluate(self, arch, fidelity, seed, context=None):
        return {"valid_accuracy": float(arch.string.count("conv_3x3")), "params_m": 0.1}


def test_report_of_a_python_built_study_needs_neither_its_evaluator_nor_data(tmp_path):
    space = NB201Space()
    storage = tmp_path / "own.db"
    study = create_study(name="own", space=space, strategy=RandomSearch(space, seed=0),
                         evaluator=CountingConvEvaluator(), storage=storage)
    study.optimize(n_trials=12)
    best = study.best_trial
    # a fresh interpreter that cannot import the evaluator's module (it lives only in tests/)
    run = subprocess.run([sys.executable, "-m", "nasforge", "report", "own", "--storage", str(storage),
                          "--json"], capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "NASFORGE_DATA": str(tmp_path / "gone")})  # fmt: skip
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["best"]["number"] == best.number and summary["counts"]["COMPLETE"] == 12
    text = subprocess.run([sys.executable, "-m", "nasforge", "report", "--storage", str(storage)],
                          capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(ROOT)})
    assert text.returncode == 0, text.stderr
    # the headline's best is the first row of the top table (one notion of best)
    rows = [line for line in text.stdout.splitlines() if best.arch in line]
    assert rows and f"best trial #{best.number}" in text.stdout
