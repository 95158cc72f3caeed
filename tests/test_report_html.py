"""HTML report and dashboard API from real study files (NB201 table search, ASHA curves, a
multi-objective NSGA-II study, an ablation-kind study written through the store)."""

from __future__ import annotations

import json
import re
import sqlite3
import time
import urllib.request

import pytest

from nasforge.cli.app import main
from nasforge.report import data, figures, views
from nasforge.store import SQLiteStore
from nasforge.trial import Trial, TrialState
from tests.helpers.dashboard_server import dashboard


@pytest.fixture(scope="module")
def study_file(tmp_path_factory, data_dir):
    db = tmp_path_factory.mktemp("report") / "runs.db"
    common = ["--space", "nb201", "--dataset", "cifar10", "--storage", str(db), "--data", str(data_dir)]
    assert main(["search", "--strategy", "evolution", "--trials", "60", "--name", "evo",
                 "--scheduler", "asha", *common]) == 0  # fmt: skip
    assert main(["search", "--strategy", "nsga2", "--trials", "40", "--name", "mo",
                 "--objective", "valid_accuracy:max", "--objective", "params_m:min", *common]) == 0
    return db


def test_html_report_is_self_contained_with_every_view(study_file, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", "evo", "--storage", str(study_file), "--html", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    page = out.read_text()
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=['\"]?http", page)  # nothing fetched
    assert len(page) > 3_000_000  # plotly.js itself is inlined
    for view in ("s0-best-trials", "s0-best-time", "s0-timeline", "s0-curves", "s0-importance"):
        assert f"id='{view}'" in page, view
    assert page.count("Plotly.newPlot(") == 5
    assert page.count("<svg") >= 3  # the three best cells, drawn with their operations as nodes
    assert re.search(r">(nor_conv_3x3|nor_conv_1x1|skip_connect|avg_pool_3x3)</text>", page)


def test_compare_report_holds_both_studies_and_pareto(study_file, tmp_path):
    out = tmp_path / "cmp.html"
    assert main(["report", "--storage", str(study_file), "--html", str(out), "--compare", "evo", "mo"]) == 0
    page = out.read_text()
    assert "id='cmp-trials'" in page and "id='s1-pareto'" in page and "id='s1-hypervolume'" in page
    assert "<td>evo</td>" in page and "<td>mo</td>" in page


def test_views_match_the_store(study_file):
    store = data.open_read_only(study_file)
    evo = data.load(store, "evo")
    assert len(evo.trials) == 60 and len(evo.curves) > 0  # ASHA rungs reported through the context
    fig = figures.best_so_far([evo])
    best_line = fig["data"][1]["y"]
    assert best_line == sorted(best_line)  # maximised: never decreases
    assert best_line[-1] == max(t.values[0] for t in figures.complete(evo))
    imp = figures.importance(evo, views.space_for(evo))
    genes = imp["data"][0]["y"]
    assert len(genes) == 6 and abs(sum(imp["data"][0]["x"]) - 1.0) < 1e-6  # six NB201 edges
    mo = data.load(store, "mo")
    pareto = figures.pareto(mo)
    front = pareto["data"][1]
    assert all(text.split(" ", 1)[1].startswith("|") for text in front["text"])  # arch on hover
    hv = figures.hypervolume_curve(mo)["data"][0]["y"]
    assert hv == sorted(hv) and hv[-1] > 0  # the front of more trials never covers less


def test_read_only_store_cannot_write(study_file):
    store = data.open_read_only(study_file)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store._db.execute("DELETE FROM trials")


def test_lanes_pack_overlapping_trials():
    def trial(n, start, end):
        return Trial(n, "x", 0, None, TrialState.COMPLETE, [1.0], started=start, finished=end)

    trials = [trial(0, 0, 10), trial(1, 1, 5), trial(2, 5, 8), trial(3, 10, 12), trial(4, 2, 4)]
    lane = figures.lanes(trials, now=20)
    assert lane[0] != lane[1] and lane[1] == lane[2] and lane[0] == lane[3]
    assert len(set(lane.values())) == 3


def test_ablation_study_becomes_a_bar_chart(tmp_path):
    store = SQLiteStore(tmp_path / "abl.db")
    record = store.create_study("abl", {"kind": "model", "metric": "valid_accuracy"})
    values = {"base": [0.9, 0.92], "conv1": [0.6, 0.62], "fc": [0.88, 0.86]}
    number = 0
    for arch, vals in values.items():
        for v in vals:
            t = Trial(number, arch, number, None, started=1.0)
            store.start_trials(record.study_id, [t], {})
            t.state, t.values, t.metrics, t.finished = TrialState.COMPLETE, [v], {"valid_accuracy": v}, 2.0
            store.finish_trial(record.study_id, t, None)
            number += 1
    study = data.load(data.open_read_only(tmp_path / "abl.db"), "abl")
    bar = figures.ablation(study)["data"][0]
    assert bar["x"] == ["base", "conv1", "fc"]  # base, then the most harmful removal
    assert bar["y"][1] == pytest.approx(0.61)


def test_bad_report_options_exit_2(study_file, tmp_path, capsys):
    assert main(["report", "evo", "--storage", str(study_file), "--compare", "mo"]) == 2
    assert "needs --html" in capsys.readouterr().err
    assert main(["report", "nope", "--storage", str(study_file), "--html", str(tmp_path / "x.html")]) == 2
    assert "no study 'nope'" in capsys.readouterr().err
    assert main(["report", "evo", "--storage", str(study_file), "--html", str(tmp_path / "no" / "x.html")]) == 2
    assert main(["dashboard", "--storage", str(study_file), "--host", "0.0.0.0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_dashboard_api_serves_the_same_views(study_file):
    with dashboard(study_file) as url:
        studies = json.loads(urllib.request.urlopen(url + "api/studies", timeout=30).read())
        assert [s["name"] for s in studies] == ["evo", "mo"]
        first = json.loads(urllib.request.urlopen(url + "api/study/mo", timeout=30).read())
        for _ in range(100):  # the forest is fitted in the background; the version then changes
            payload = json.loads(urllib.request.urlopen(url + "api/study/mo", timeout=30).read())
            ids = [v["id"] for v in payload["figures"]]
            if "importance" in ids:
                break
            time.sleep(0.2)
        assert {"best-trials", "timeline", "pareto", "hypervolume", "importance"} <= set(ids)
        assert "importance" in [v["id"] for v in first["figures"]] or first["version"] != payload["version"]
        assert payload["summary"]["counts"]["COMPLETE"] == 40 and payload["best"][0]["svg"].startswith("<svg")
        again = json.loads(urllib.request.urlopen(
            f"{url}api/study/mo?version={payload['version']}", timeout=30).read())
        assert again == {"version": payload["version"], "unchanged": True}
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url + "api/study/none", timeout=30)
        assert err.value.code == 404


def test_dashboard_other_host_needs_flag_and_warns(study_file):
    import os
    import subprocess
    import sys

    from tests.helpers.dashboard_server import ROOT

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "nasforge", "dashboard", "--storage", str(study_file),
                             "--host", "127.0.0.2", "--port", "0", "--allow-remote"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert line.startswith("nasforge dashboard for") and "http://127.0.0.2:" in line
        url = line[line.index("http://"):].strip()
        assert b"evo" in urllib.request.urlopen(url, timeout=30).read()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "without authentication" in err
