"""Ablation studies with real torch training on digits / sklearn tables, real store, real CLI."""

from __future__ import annotations

import json
import math

import pytest

from nasforge.ablation import AblationReport, FeatureAblation, ModelAblation
from nasforge.errors import ConfigError
from nasforge.objectives import Objective
from nasforge.trial import Trial, TrialState

ZOO = "nasforge.ablation.zoo:digits_cnn"


def test_modules_whose_removal_breaks_shapes_are_named_in_one_error():
    with pytest.raises(ConfigError) as info:
        ModelAblation(ZOO, modules=["features.conv1", "features.conv2", "classifier.out"],
                      seeds=[0])
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


def test_model_ablation_trains_each_component_over_seeds_and_records_trials(tmp_path):
    from nasforge.store.sqlite import SQLiteStore

    ablation = ModelAblation(ZOO, modules=["features.conv2"], groups=["classifier.relu"],
                             seeds=[0, 1], epochs=2)
    db = tmp_path / "ablation.db"
    report = ablation.run(storage=db, name="digits-loco")
    assert report.base.component == "base" and len(report.base.values) == 2
    assert {r.component for r in report.rows} == {"features.conv2", "group:classifier.relu"}
    for row in report.rows:
        assert len(row.values) == 2 and not row.errors
        assert row.delta == pytest.approx(row.mean - report.base.mean)
        assert 30 < row.mean <= 100  # real training on digits gets far above chance (10 %)
    store = SQLiteStore(db)
    trials = store.trials(store.get_study("digits-loco").study_id)
    assert [(t.arch, t.seed) for t in trials] == [
        ("base", 0), ("base", 1), ("features.conv2", 0), ("features.conv2", 1),
        ("group:classifier.relu", 0), ("group:classifier.relu", 1),
    ]
    assert all(t.state == TrialState.COMPLETE for t in trials)
    # removing conv2 (16*16*9 + 16 weights) shrinks the trained model accordingly
    params = {t.arch: t.metrics["params_m"] for t in trials}
    assert params["base"] - params["features.conv2"] == pytest.approx((16 * 16 * 9 + 16) / 1e6)
    # the same seed gives the same base result (trials are pure functions of their seed)
    again = ablation.run()
    assert again.base.values == report.base.values
    with pytest.raises(ConfigError, match="a study named 'digits-loco' already exists"):
        ablation.run(storage=db, name="digits-loco")


def test_feature_ablation_on_a_two_worker_pool_drops_the_features():
    from nasforge.study.pool import LocalPoolExecutor

    ablation = FeatureAblation("wine", features=["proline"],
                               groups={"colour": ["color_intensity", "hue"]}, seeds=[0, 1],
                               epochs=20)
    report = ablation.run(executor=LocalPoolExecutor(workers=2))
    rows = {r.component: r for r in report.rows}
    assert set(rows) == {"proline", "group:colour"}
    assert all(len(r.values) == 2 for r in rows.values())
    assert report.base.mean > 80  # logistic regression on standardised wine is easy
    # a logistic model on 13 features has 14 * 3 parameters; one fewer feature, 3 fewer
    assert report.base.values and ablation.evaluator.evaluate(
        _arch("proline"), None, 0)["params_m"] == pytest.approx(13 * 3 / 1e6)
    text = report.to_text()
    assert text.splitlines()[0].startswith("component") and "group:colour" in text


def test_feature_ablation_rejects_unknown_features():
    with pytest.raises(ConfigError, match="dataset 'wine' has no feature\\(s\\) 'colour'"):
        FeatureAblation("wine", features=["colour"])
    with pytest.raises(ConfigError, match="parameter dataset of a feature ablation must be one of"):
        FeatureAblation("titanic")



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

    pool = build_executor(parse_ablation_config({"kind": "features", "executor": "local",
                                                 "workers": 2}))
    assert isinstance(pool, LocalPoolExecutor) and pool.capacity == 2
    with pytest.raises(ConfigError, match=message):
        build_executor(parse_ablation_config({"kind": "features", **fields}))


def test_a_non_finite_metric_fails_the_trial_as_in_a_search():
    from nasforge.ablation.study import _finish
    from nasforge.study.executors import Outcome

    outcome = Outcome(0, {"valid_accuracy": float("nan")}, None, 0.0, 1.0)
    trial = _finish(Trial(0, "base", 0, None), outcome, Objective.parse("valid_accuracy"))
    assert trial.state == TrialState.FAILED and "is nan" in trial.error

def _arch(component):
    from nasforge.ablation.evaluators import component_arch

    return component_arch(component)


def _trial(number, arch, value, state=TrialState.COMPLETE):
    ok = value is not None
    return Trial(number, arch, 0, None, state=state, metrics={"valid_loss": value} if ok else {},
                 error=None if ok else "worker process died (exit code -9)")


def test_report_sorts_by_harm_for_the_objective_direction_and_keeps_failures_last():
    trials = [_trial(0, "base", 1.0), _trial(1, "base", 1.2), _trial(2, "a", 1.5),
              _trial(3, "b", 0.9), _trial(4, "c", 3.0), _trial(5, "d", None, TrialState.FAILED)]
    report = AblationReport.from_trials(
        trials, {c: [c] for c in "abcd"}, Objective("valid_loss", "min"), [0, 1])
    assert [r.component for r in report.rows] == ["c", "a", "b", "d"]
    assert report.base.mean == pytest.approx(1.1)
    assert report.base.std == pytest.approx(0.1414, abs=1e-4)
    assert report.rows[0].delta == pytest.approx(1.9)
    assert math.isnan(report.rows[-1].delta) and report.rows[-1].errors
    data = json.loads(json.dumps(report.to_dict(), allow_nan=True))
    assert data["components"][0]["component"] == "c"


def test_cli_ablates_a_user_model_next_to_its_config(tmp_path, capsys):
    from nasforge.cli.app import main

    (tmp_path / "my_tiny_model.py").write_text(
        "from torch import nn\n"
        "def build(hidden=16):\n"
        "    return nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(),\n"
        "                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 10))\n"
    )
    config = tmp_path / "ablation.yaml"
    config.write_text("kind: model\nmodel: my_tiny_model:build\nmodules: ['3', '4']\n"
                      "seeds: [0]\nepochs: 1\n")
    out = tmp_path / "report.json"
    assert main(["ablate", "--config", str(config), "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "change vs base" in printed and "base" in printed
    data = json.loads(out.read_text())
    assert {c["component"] for c in data["components"]} == {"3", "4"}

    config.write_text("kind: model\nmodel: my_tiny_model:build\nmodules: ['1']\nseeds: [0]\n")
    assert main(["ablate", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot remove '1'") and "\n" not in err

    config.write_text("kind: model\nmodel: my_tiny_model:build\nlayers: ['1']\n")
    assert main(["ablate", "--config", str(config)]) == 2
    assert "unknown ablation config field 'layers'" in capsys.readouterr().err
