"""Progress callback on real NB201 table studies: sparse plain lines off a terminal (with
failures named), a rich bar on one, ETA from this session's rate."""

from __future__ import annotations

import io
import re

from nasforge.objectives import Objective
from nasforge.registry import resolve
from nasforge.spaces.nb201 import NB201Space
from nasforge.study import create_study
from nasforge.study.progress import ProgressBar
from tests.helpers.evaluators import FlakyTabular

OBJ = [Objective("valid_accuracy", "max")]


def _study(tmp_path, data_dir, name="p"):
    space = NB201Space()
    evaluator = FlakyTabular(space, dataset="cifar10", data_dir=str(data_dir))
    strategy = resolve("strategy", "random")(space, seed=1, objectives=OBJ)
    return create_study(name=name, space=space, strategy=strategy, evaluator=evaluator,
                        objectives=OBJ, storage=tmp_path / "p.db", seed=1)  # fmt: skip


def test_plain_lines_are_sparse_and_name_failures(tmp_path, data_dir):
    study = _study(tmp_path, data_dir)
    out = io.StringIO()
    with ProgressBar(40, 0, "valid_accuracy", 1.0, stream=out, interactive=False) as bar:
        study.optimize(n_trials=40, callbacks=[bar])
    lines = out.getvalue().splitlines()
    counts = study.counts()
    failed = [l for l in lines if "FAILED:" in l]
    assert counts["FAILED"] > 0 and len(failed) == counts["FAILED"]  # every failure, with its reason
    errors = [t.error for t in study.trials if t.error]
    assert all(any(e in l for e in errors) for l in failed) and any("deliberate" in l for l in failed)
    assert len(lines) <= 10 + counts["FAILED"] + 1  # one line per tenth of the budget at most
    last = lines[-1]
    assert last.startswith("trials 40/40") and f"failed {counts['FAILED']}" in last
    best = max(t.values[0] for t in study.trials if t.values)
    assert f"best valid_accuracy={best:.4g}" in last and "eta 0:00" in last


def test_rich_bar_on_a_terminal_and_resume_counts(tmp_path, data_dir):
    study = _study(tmp_path, data_dir)
    study.optimize(n_trials=10)
    out = io.StringIO()
    bar = ProgressBar(25, 10, "valid_accuracy", 1.0, stream=out, interactive=True)
    with bar:
        study.optimize(n_trials=25, callbacks=[bar])
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "25/25" in text and "running 0" in text and "eta" in text
    assert bar.count == 25 and bar.eta() == 0.0
