"""Ablation studies as ordinary studies: real torch training on tiny data, real store, real CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nasforge.ablation import AblationReport, AblationSpace, FeatureAblation, ModelAblation
from nasforge.errors import ConfigError, StorageError
from nasforge.objectives import Objective
from nasforge.trial import Trial, TrialState

ZOO = "nasforge.ablation.zoo:digits_cnn"
SMALL = {"width": 4, "hidden": 16}  # digits_cnn options: a model that trains in a blink


# --- components and their checks -------------------------------------------------------------------


def test_modules_whose_removal_breaks_shapes_are_named_in_one_error():
    with pytest.raises(ConfigError) as info:
        ModelAblation(ZOO, modules=["features.conv1", "features.conv2", "classifier.out"], seeds=[0])
    message = str(info.value)
    assert "'features.conv1'" in message and "'classifier.out'" in message
    assert "'features.conv2'" not in message.split(":")[0]
    assert "\n" not in message


def test_unknown_modules_and_empty_groups_list_what_exists():
    expected = "model has no module\\(s\\) 'features.conv9'; its modules are: features, features.c"
    with pytest.raises(ConfigError, match=expected):
        ModelAblation(ZOO, modules=["features.conv9"], seeds=[0])
    with pytest.raises(ConfigError, match="group prefix 'head' matches no module"):
        ModelAblation(ZOO, groups=["head"], seeds=[0])
    with pytest.raises(ConfigError, match="parameter seeds must be a non-empty list"):
        ModelAblation(ZOO, modules=["features.conv2"], seeds=[1, 1])


def test_all_keeps_removable_parametrised_leaves_and_reports_the_rest():
    ablation = ModelAblation(ZOO, modules="all", groups=["classifier.relu"], seeds=[0])
    assert set(ablation.components) == {"features.conv2", "classifier.fc2", "group:classifier.relu"}
    assert ablation.components["group:classifier.relu"] == ["classifier.relu1", "classifier.relu2"]
    assert set(ablation.skipped) == {"features.conv1", "classifier.fc1", "classifier.out"}


def test_feature_components_by_index_name_window_and_group_on_every_input_layout():
    from nasforge.ablation.features import feature_components

    # a sequence (C, L): four equal time windows, plus a named group of steps
    axis, comps = feature_components((1, 40), windows=4, groups={"start": [0, 1]})
    assert axis == "time" and list(comps)[:2] == ["time 0-9", "time 10-19"]
    assert comps["time 30-39"] == list(range(30, 40)) and comps["group:start"] == [0, 1]
    # an image (C, H, W): channels by default when there are several, rows and columns on request
    assert feature_components((3, 8, 8))[1] == {"channel 0": [0], "channel 1": [1], "channel 2": [2]}
    axis, comps = feature_components((1, 8, 8), axis="column", groups={"left half": [0, 1, 2, 3]})
    assert comps == {"group:left half": [0, 1, 2, 3]}
    # a table with column names: by name
    names = ["a", "b", "c"]
    assert feature_components((3, 1), each=["c"], names=names)[1] == {"c": [2]}
    for kwargs, message in [
        ({"each": ["d"], "names": names}, "no feature 'd' along axis 'channel'"),
        ({"windows": 9}, "parameter windows must be an integer in 2..3"),
        ({"groups": {"all": [0, 1, 2]}}, "removes every position"),
    ]:
        with pytest.raises(ConfigError, match=message):
            feature_components((3, 1), **kwargs)
    with pytest.raises(ConfigError, match="axis 'time' needs sequences"):
        feature_components((1, 8, 8), axis="time")


def test_ablation_space_and_loco_pass_the_conformance_suites():
    from nasforge.strategies.loco import LOCO
    from nasforge.testing.conformance import check_space, check_strategy

    space = AblationSpace({"a": ["x"], "b": ["y"], "group:c": ["x", "y"]}, seeds=[0, 5])
    check_space(space)
    check_strategy(lambda seed: LOCO(space, seed=seed), space, lambda arch: [float(arch.genes[0])])
    strategy = LOCO(space)
    asked = [a.string for a in strategy.ask(100)]
    assert asked[:3] == ["base@seed0", "base@seed5", "a@seed0"] and len(asked) == 8
    assert strategy.finished and strategy.ask(1) == []
    with pytest.raises(ConfigError, match="component name 'base' is not allowed"):
        AblationSpace({"base": ["x"]})


# --- running through Study ---------------------------------------------------------------------------


def test_model_ablation_runs_as_a_study_with_paired_seeds_and_leaves_the_global_rng_alone(tmp_path):
    import torch

    from nasforge.store.sqlite import SQLiteStore
    from nasforge.study.api import load_study

    ablation = ModelAblation(ZOO, modules=["features.conv2"], groups=["classifier.relu"], seeds=[0, 1],
                             factory_options=SMALL, epochs=2)
    db = tmp_path / "ablation.db"
    rng_before = torch.random.get_rng_state()
    report = ablation.run(storage=db, name="digits-loco")
    assert torch.equal(torch.random.get_rng_state(), rng_before)
    assert report.base.component == "base" and len(report.base.values) == 2
    assert {r.component for r in report.rows} == {"features.conv2", "group:classifier.relu"}
    for row in report.rows:
        assert len(row.values) == 2 and not row.errors
        assert row.delta == pytest.approx(row.mean - report.base.mean)
        assert 20 < row.mean <= 100  # real training on digits is far above chance (10 %)
    study = load_study("digits-loco", str(db))  # an ordinary, loadable study
    trials = study.trials
    assert [t.arch for t in trials] == ["base@seed0", "base@seed1", "features.conv2@seed0",
                                        "features.conv2@seed1", "group:classifier.relu@seed0",
                                        "group:classifier.relu@seed1"]
    assert all(t.state == TrialState.COMPLETE for t in trials) and study.strategy.finished
    assert [t.metrics["ablation_seed"] for t in trials] == [0, 1] * 3
    # removing conv2 (4*4*9 + 4 weights) shrinks the trained model accordingly
    params = {t.arch: t.metrics.get("params_m", t.metrics.get("params")) for t in trials}  # millions
    assert params["base@seed0"] - params["features.conv2@seed0"] == pytest.approx((4 * 4 * 9 + 4) / 1e6)
    # a trial is a pure function of its replicate seed, whatever the study around it
    again = ModelAblation(ZOO, modules=["features.conv2"], seeds=[1], factory_options=SMALL, epochs=2).run()
    assert again.base.values == report.base.values[1:]
    with pytest.raises(StorageError, match="study 'digits-loco' already exists"):
        ablation.run(storage=db, name="digits-loco")
    assert SQLiteStore(db).study_names() == ["digits-loco"]


def test_a_nan_loss_fails_the_trial_and_the_report_stays_valid_json():
    ablation = ModelAblation("tests.helpers.ablation_models:with_nan_layer", modules=["poison"],
                             seeds=[0], epochs=1)
    report = ablation.run()
    assert report.base.values == [] and "loss became nan" in report.base.errors[0]
    (poison,) = report.rows
    assert poison.values and poison.values[0] > 20 and not poison.errors
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["base"]["mean"] is None and data["components"][0]["delta"] is None


def test_feature_ablation_of_image_channels_finds_the_one_that_carries_the_label(tmp_path):
    """Synthetic 3-channel 4x4 images: only channel 1 says the class, the others are noise."""
    from nasforge.study.pool import LocalPoolExecutor

    rng = np.random.default_rng(0)

    def split(n):
        y = rng.integers(0, 3, n)
        x = rng.normal(size=(n, 3, 4, 4)).astype(np.float32)
        x[:, 1] += 2.0 * (y[:, None, None] - 1)
        return x, y

    (x_train, y_train), (x_test, y_test) = split(300), split(100)
    path = tmp_path / "images.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    ablation = FeatureAblation(str(path), axis="channel", seeds=[0], epochs=5, model="mlp", hidden=16)
    report = ablation.run(executor=LocalPoolExecutor(workers=2))
    rows = {r.component: r for r in report.rows}
    assert report.base.mean > 90
    assert rows["channel 1"].mean < 60  # chance is 33 %
    assert rows["channel 0"].mean > 85 and rows["channel 2"].mean > 85
    assert report.rows[0].component == "channel 1"  # sorted by harm


def test_feature_ablation_over_sequence_windows_and_digit_image_columns():
    sequence = FeatureAblation("mnist1d", windows=2, seeds=[0], epochs=1, model="logistic",
                               max_train=800)
    assert set(sequence.components) == {"time 0-19", "time 20-39"}
    report = sequence.run()
    assert all(r.values and r.values[0] > 15 for r in [report.base, *report.rows])  # chance 10 %
    image = FeatureAblation("digits", axis="column", groups={"left half": [0, 1, 2, 3]}, each=[],
                            seeds=[0], epochs=3, model="logistic")
    report = image.run()
    assert [r.component for r in report.rows] == ["group:left half"]
    assert report.base.mean > 85 and 20 < report.rows[0].mean < report.base.mean


def test_feature_ablation_of_table_columns_by_name_and_index(tmp_path):
    """A table in an .npz you write yourself (N, F): only column 2 decides the class."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 5)).astype(np.float32)
    y = (x[:, 2] > 0).astype(np.int64)
    path = tmp_path / "table.npz"
    np.savez(path, x_train=x[:300], y_train=y[:300], x_test=x[300:], y_test=y[300:])
    ablation = FeatureAblation(str(path), axis="column", names=["a", "b", "c", "d", "e"], each=["c", 0],
                               seeds=[0], epochs=20, lr=0.05)
    report = ablation.run()
    rows = {r.component: r for r in report.rows}
    assert report.base.mean > 90 and rows["a"].mean > 90 and rows["c"].mean < 70
    wine = FeatureAblation("wine", each=["proline"], groups={"colour": ["color_intensity", "hue"]}, seeds=[0])
    assert wine.components == {"proline": [12], "group:colour": [9, 10]}


def test_report_sorts_by_harm_for_the_objective_direction_and_keeps_failures_last():
    def trial(number, arch, value, state=TrialState.COMPLETE):
        ok = value is not None
        return Trial(number, arch, 0, None, state=state, values=[value] if ok else None,
                     error=None if ok else "worker process died (exit code -9)")

    trials = [trial(0, "base@seed0", 1.0), trial(1, "base@seed1", 1.2), trial(2, "a@seed0", 1.5),
              trial(3, "b@seed0", 0.9), trial(4, "c@seed0", 3.0), trial(5, "d@seed0", None, TrialState.FAILED),
              trial(6, "a@seed1", None, TrialState.RUNNING)]
    report = AblationReport.from_trials(trials, {c: [c] for c in "abcd"}, Objective("valid_loss", "min"), [0, 1])
    assert [r.component for r in report.rows] == ["c", "a", "b", "d"]
    assert report.base.mean == pytest.approx(1.1)
    assert report.base.std == pytest.approx(0.1414, abs=1e-4)
    assert report.rows[0].delta == pytest.approx(1.9)
    assert report.rows[1].pending == 1 and "1 running" in report.to_text()
    assert math.isnan(report.rows[-1].delta) and report.rows[-1].errors
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["components"][0]["component"] == "c" and data["components"][-1]["delta"] is None


# --- the CLI ------------------------------------------------------------------------------------------


def test_cli_ablates_a_user_model_beside_its_config_without_importing_other_files_there(tmp_path, capsys):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from nasforge.cli.app import main

    (tmp_path / "my_tiny_model.py").write_text(
        "from torch import nn\n"
        "def build(hidden=16):\n"
        "    return nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(),\n"
        "                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 10))\n"
    )
    # files shadowing installed packages must never be imported in their place (a fresh process,
    # so none of them is imported yet when the config's folder is added to the path)
    for shadow in ("torch", "sklearn", "rich"):
        (tmp_path / f"{shadow}.py").write_text(f"raise SystemExit('the {shadow}.py beside the config ran')\n")
    config = tmp_path / "ablation.yaml"
    config.write_text("kind: model\nmodel: my_tiny_model:build\nmodules: ['3', '4']\nseeds: [0]\nepochs: 1\n")
    out = tmp_path / "report.json"
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run(
        [sys.executable, "-m", "nasforge", "ablate", "--config", str(config), "--output", str(out), "--json"],
        cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout, parse_constant=_no_nan)["base"]["component"] == "base"
    data = json.loads(out.read_text(), parse_constant=_no_nan)
    assert {c["component"] for c in data["components"]} == {"3", "4"}

    config.write_text("kind: model\nmodel: my_tiny_model:build\nmodules: ['1']\nseeds: [0]\n")
    assert main(["ablate", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot remove '1'") and "\n" not in err

    config.write_text("kind: model\nmodel: my_tiny_model:build\nlayers: ['1']\n")
    assert main(["ablate", "--config", str(config)]) == 2
    assert "unknown ablation config field 'layers'" in capsys.readouterr().err


def _no_nan(token: str):
    raise AssertionError(f"invalid JSON constant {token}")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"executor": "serial", "workers": 2}, "the serial executor runs 1 worker"),
        ({"executor": "nope"}, "unknown executor 'nope'"),
        ({"executor": "local", "executor_options": {"bogus": 1}}, "has no option 'bogus'"),
    ],
)
def test_ablation_executors_are_checked_like_a_search_config_s(fields, message):
    from nasforge.ablation.config import build_executor, parse_ablation_config
    from nasforge.study.pool import LocalPoolExecutor

    pool = build_executor(parse_ablation_config({"kind": "features", "executor": "local", "workers": 2}))
    assert isinstance(pool, LocalPoolExecutor) and pool.capacity == 2
    with pytest.raises(ConfigError, match=message):
        build_executor(parse_ablation_config({"kind": "features", **fields}))


@pytest.mark.parametrize(
    "features, message",
    [
        ({"axes": "channel"}, "unknown ablation config field 'features.axes'; allowed: features.axis"),
        ({"axis": "depth"}, "field 'features.axis': Input should be 'channel', 'row', 'column' or 'time'"),
        (5, "field 'features' must be 'all', a list of features, or a mapping with axis, each"),
        ({"windows": 99}, "parameter windows must be an integer in 2..13"),
        (["colour"], "no feature 'colour' along axis 'channel': use an index in 0..12 or a name (alcohol"),
    ],
)
def test_bad_feature_settings_are_one_line_naming_the_value(features, message):
    from nasforge.ablation.config import build_ablation, parse_ablation_config

    with pytest.raises(ConfigError) as info:
        build_ablation(parse_ablation_config({"kind": "features", "dataset": "wine", "features": features}))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_report_reads_an_ablation_file_written_before_ablations_ran_as_studies(tmp_path, capsys):
    """Old files: config with kind (no space), trials named by component, seed = replicate seed."""
    from nasforge.cli.app import main
    from nasforge.store.sqlite import SQLiteStore

    db = tmp_path / "old.db"
    store = SQLiteStore(db)
    record = store.create_study("old", {"kind": "features", "dataset": "wine", "seeds": [0, 1],
                                        "metric": "valid_accuracy"})
    rows = [("base", 0, 90.0), ("base", 1, 92.0), ("proline", 0, 80.0), ("proline", 1, 84.0)]
    trials = [Trial(i, arch, seed, None, started=0.0) for i, (arch, seed, _) in enumerate(rows)]
    store.start_trials(record.study_id, trials, {})
    for trial, (_, _, value) in zip(trials, rows):
        trial.state, trial.values, trial.metrics, trial.finished = (
            TrialState.COMPLETE, [value], {"valid_accuracy": value}, 1.0)
        store.finish_trial(record.study_id, trial, None)
    store.close()
    assert main(["report", "old", "--storage", str(db), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["base"]["mean"] == pytest.approx(91.0)
    assert data["components"][0]["component"] == "proline" and data["components"][0]["delta"] == pytest.approx(-9.0)
