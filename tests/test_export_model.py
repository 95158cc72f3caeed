"""Export: retrain deterministically, write model.pt2 / weights.pt / JSON, run it without nasforge."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from nasforge.errors import ConfigError
from nasforge.evaluators.trainer import TrainerEvaluator
from nasforge.export import export_architecture
from nasforge.spaces.chain import ChainSpace

SPACE_OPTIONS = {"max_nodes": 3, "filters": [8, 16], "kernels": [3]}
EVALUATOR_OPTIONS = {"epochs": 2, "max_train": 300, "batch_size": 32, "latency_repeats": 2}
ARCH = "conv_3_8>max_pool>res_16|lr=0.05,mom=0.9,wd=0.0005,opt=sgd"

# Runs in a fresh interpreter that cannot import nasforge (it is blocked even though it is installed).
LOAD_SCRIPT = """
import sys
sys.modules["nasforge"] = None
import numpy as np, torch
try:
    import nasforge
    raise SystemExit("nasforge was importable")
except ImportError:
    pass
model = torch.export.unflatten(torch.export.load("model.pt2")).eval()
with torch.no_grad():
    logits = model(torch.from_numpy(np.load("raw.npy")))
np.save("logits.npy", logits.numpy())
"""


def test_exported_model_runs_without_nasforge_and_matches(tmp_path) -> None:
    space = ChainSpace(**SPACE_OPTIONS)
    evaluator = TrainerEvaluator(space, **EVALUATOR_OPTIONS)
    arch = space.from_string(ARCH)
    out = export_architecture(evaluator, arch, tmp_path / "export", seed=3, fidelity=2)
    assert {p.name for p in out.iterdir()} == {"model.pt2", "weights.pt", "architecture.json", "metrics.json"}

    description = json.loads((out / "architecture.json").read_text())
    data = evaluator.data()
    assert description["arch"] == ARCH and description["space"] == "chain"
    assert description["input_shape"] == [1, 8, 8] and description["num_classes"] == 10
    assert description["normalisation"]["mean"] == pytest.approx(list(data.mean))
    assert description["trained_with"]["hparams"]["optimizer"] == "sgd" and description["seed"] == 3

    # the exported program takes raw pixels: feed un-normalised test images
    raw = (data.x_test * np.float32(data.std[0]) + np.float32(data.mean[0])).astype(np.float32)
    np.save(out / "raw.npy", raw)
    run = subprocess.run([sys.executable, "-I", "-c", LOAD_SCRIPT], cwd=out, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    logits = np.load(out / "logits.npy")

    # same network rebuilt from weights.pt + architecture.json, fed normalised inputs
    net = evaluator.build(space.from_string(description["arch"]), tuple(description["input_shape"]),
                          description["num_classes"])
    net.load_state_dict(torch.load(out / "weights.pt"))
    with torch.no_grad():
        expected = net.eval()(torch.from_numpy(data.x_test)).numpy()
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
    metrics = json.loads((out / "metrics.json").read_text())["retrained"]
    accuracy = 100.0 * float(np.mean(logits.argmax(1) == data.y_test))
    assert accuracy == pytest.approx(metrics["test_accuracy"])


def test_export_refuses_tabular_evaluators(tmp_path) -> None:
    class Tabular:
        name = "nb201"

    with pytest.raises(ConfigError, match="needs a training evaluator"):
        export_architecture(Tabular(), None, tmp_path)


def test_cli_exports_the_best_trial_of_a_stored_study(tmp_path) -> None:
    from nasforge.cli.app import main
    from nasforge.study import create_study_from_config

    storage = tmp_path / "study.db"
    study = create_study_from_config({
        "name": "digits-chain", "space": "chain", "space_options": SPACE_OPTIONS,
        "strategy": "random", "evaluator": "trainer", "dataset": "digits",
        "evaluator_options": EVALUATOR_OPTIONS, "trials": 2, "storage": str(storage), "seed": 1,
    })
    study.optimize(n_trials=2)
    best = study.best_trial
    assert best is not None
    out = tmp_path / "best"
    assert main(["export", "digits-chain", "--storage", str(storage), "--output", str(out)]) == 0
    description = json.loads((out / "architecture.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    assert description["trial"] == best.number and description["arch"] == best.arch
    assert description["seed"] == best.seed and description["retrained"] is False
    assert "retrained" not in metrics and metrics["recorded"] == best.metrics
    assert description["output"] == "logits"
    # one description of the trained network: its learning rate appears once, as trained
    assert "evaluator" not in description and "hparams" not in description
    genes_lr = study.space.training_hparams(study.space.from_string(best.arch))["lr"]
    assert description["trained_with"]["hparams"]["lr"] == genes_lr
    # the saved weights reproduce the trial's recorded validation accuracy: no retraining
    data = study.evaluator.data()
    raw = (data.x_valid * np.float32(data.std[0]) + np.float32(data.mean[0])).astype(np.float32)
    model = torch.export.unflatten(torch.export.load(str(out / "model.pt2"))).eval()
    with torch.no_grad():
        predicted = model(torch.from_numpy(raw)).argmax(1).numpy()
    accuracy = 100.0 * float(np.mean(predicted == data.y_valid))
    assert accuracy == pytest.approx(best.metrics["valid_accuracy"], abs=1e-6)
    assert main(["export", "digits-chain", "--storage", str(storage), "--output", str(out), "--trial", "99"]) == 2


def test_cli_retrains_a_trial_without_saved_weights_and_says_so(tmp_path, capsys) -> None:
    import shutil

    from nasforge.cli.app import main
    from nasforge.study import create_study_from_config

    storage = tmp_path / "study.db"
    study = create_study_from_config({
        "name": "digits-chain", "space": "chain", "space_options": SPACE_OPTIONS,
        "strategy": "random", "evaluator": "trainer", "dataset": "digits",
        "evaluator_options": EVALUATOR_OPTIONS, "trials": 1, "storage": str(storage), "seed": 1,
    })
    study.optimize(n_trials=1)
    shutil.rmtree(tmp_path / "study.db.artifacts")
    out = tmp_path / "best"
    assert main(["export", "digits-chain", "--storage", str(storage), "--output", str(out)]) == 0
    assert "retraining it" in capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["matches_record"] is True
    assert metrics["retrained"]["valid_accuracy"] == study.best_trial.metrics["valid_accuracy"]


def test_export_never_overwrites_without_force_and_never_follows_symlinks(tmp_path) -> None:
    from nasforge.cli.app import main
    from nasforge.study import create_study_from_config

    storage = tmp_path / "study.db"
    create_study_from_config({
        "name": "s", "space": "chain", "space_options": SPACE_OPTIONS, "strategy": "random",
        "evaluator": "trainer", "dataset": "digits", "evaluator_options": EVALUATOR_OPTIONS,
        "trials": 1, "storage": str(storage), "seed": 1,
    }).optimize(n_trials=1)
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / "metrics.json").symlink_to(victim)
    args = ["export", "s", "--storage", str(storage), "--output", str(out)]
    assert main(args) == 2  # an export file (here a symlink) is already there
    assert victim.read_text() == "keep me"
    assert main(args + ["--force"]) == 0
    assert victim.read_text() == "keep me" and not (out / "metrics.json").is_symlink()
    assert main(args) == 2 and main(args + ["--force"]) == 0
