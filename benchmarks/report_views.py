"""Report and dashboard costs on real NB201 table studies (cifar10, seed 0):

1. HTML report of a 1,000-trial study (evolution + ASHA, so it has learning curves): render time in
   process (imports warm, median of 3) and the whole `nasforge report --html` command (cold).
2. Dashboard page load of a 10,000-trial two-objective study (random architectures with their table
   values and curves, written through the store: see replay_random): the page, its JSON views (first, uncached request), and in headless Chromium the
   time until every plot is drawn.
3. Dashboard CPU on a running study: a study finishing one trial every ~0.5 s (table look-ups
   slowed by a sleep, standing in for training) while Chromium keeps the study page open and polls
   every 2 s; CPU seconds of the dashboard process / wall seconds.

    python benchmarks/report_views.py [--data DIR] [--watch 60]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _common import print_table, uptime, write_json

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nasforge.evaluators.tabular import NB201Tabular  # noqa: E402
from nasforge.objectives import Objective  # noqa: E402
from nasforge.registry import resolve  # noqa: E402
from nasforge.spaces.nb201 import NB201Space  # noqa: E402
from nasforge.study import create_study  # noqa: E402
from nasforge.study.schedulers import ASHA  # noqa: E402
from tests.helpers.dashboard_server import dashboard  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
SLOW_STUDY = """
import sys, time
from nasforge.evaluators.tabular import NB201Tabular
from nasforge.objectives import Objective
from nasforge.spaces.nb201 import NB201Space
from nasforge.store import SQLiteStore
from nasforge.strategies.evolution import RegularizedEvolution
from nasforge.study.study import Study

class Slow(NB201Tabular):
    def evaluate(self, arch, fidelity, seed, context=None):
        time.sleep(float(sys.argv[3]))
        return super().evaluate(arch, fidelity, seed, context)

obj = [Objective("valid_accuracy", "max")]
space = NB201Space()
store = SQLiteStore(sys.argv[1])
study = Study(store.get_study("evo-1000"), store, space,
              RegularizedEvolution(space, seed=0, objectives=obj), Slow(space, data_dir=sys.argv[2] or None), obj)
study.optimize(n_trials=100000)
"""


def make_studies(folder: Path, data: str | None) -> Path:
    db = folder / "views.db"
    space = NB201Space()
    one = [Objective("valid_accuracy", "max")]
    evaluator = NB201Tabular(space, data_dir=data)
    evaluator.prepare()
    create_study(name="evo-1000", space=space, evaluator=evaluator, objectives=one, storage=db,
                 strategy=resolve("strategy", "evolution")(space, seed=0, objectives=one),
                 scheduler=ASHA(min_fidelity=12, max_fidelity=200, eta=3),
                 config={"space": "nb201", "trials": 1000}).optimize(n_trials=1000)  # fmt: skip
    replay_random(db, evaluator, 10000)
    return db


def replay_random(db: Path, evaluator: NB201Tabular, n: int) -> None:
    """A 10,000-trial two-objective random search written through the store directly (real table
    values and 12 -> 200 epoch curves, each trial lasting its table train time on one of two
    workers): the Study loop itself takes ~10 minutes for 10,000 trials on this loaded machine."""
    import numpy as np

    from nasforge.store import SQLiteStore
    from nasforge.trial import Trial, TrialState

    store = SQLiteStore(db)
    record = store.create_study("random-10000", {"space": "nb201", "strategy": "random", "trials": n,
                                                 "objectives": ["valid_accuracy:max", "params_m:min"]})
    rng = np.random.default_rng(0)
    space = evaluator.space
    clock = [time.time() - 3600.0] * 2
    for number in range(n):
        arch = space.sample(rng)
        metrics = evaluator.evaluate(arch, 200, number)
        early = evaluator.evaluate(arch, 12, number)
        lane = int(np.argmin(clock))
        trial = Trial(number, arch.string, number, 200, started=clock[lane])
        store.start_trials(record.study_id, [trial], {})
        clock[lane] += float(metrics.get("train_time", 1.0)) / 1000.0
        trial.finished, trial.state, trial.metrics = clock[lane], TrialState.COMPLETE, metrics
        trial.values = [metrics["valid_accuracy"], metrics["params_m"]]
        store.finish_trial(record.study_id, trial, None, reports=[
            (12, {"valid_accuracy": early["valid_accuracy"]}),
            (200, {"valid_accuracy": metrics["valid_accuracy"]})])  # fmt: skip
    store.close()


def render_times(db: Path, out: Path) -> dict:
    import sklearn.ensemble  # noqa: F401  (the one-time import is timed separately below)

    from nasforge.report import data, html

    store = data.open_read_only(db)
    times = []
    for _ in range(3):
        started = time.perf_counter()
        study = data.load(store, "evo-1000")
        html.write([study], out)
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nasforge", "report", "evo-1000", "--storage", str(db),
                    "--html", str(out)], check=True, env=ENV, capture_output=True)  # fmt: skip
    cold = time.perf_counter() - started
    return {"trials": len(study.trials), "curves": len(study.curves), "warm_median_s": statistics.median(times),
            "warm_all_s": times, "cli_cold_s": cold, "html_mb": out.stat().st_size / 1e6}


def browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,2000"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver), options=options)


def page_load(db: Path) -> dict:
    result: dict = {}
    with dashboard(db, poll=2.0) as url:
        name = "random-10000"
        started = time.perf_counter()
        urllib.request.urlopen(f"{url}study/{name}", timeout=60).read()
        result["page_html_s"] = time.perf_counter() - started
        started = time.perf_counter()
        body = urllib.request.urlopen(f"{url}api/study/{name}", timeout=60).read()
        result["api_first_s"] = time.perf_counter() - started
        result["api_mb"] = len(body) / 1e6
        result["figures"] = [f["id"] for f in json.loads(body)["figures"]]
        started = time.perf_counter()
        urllib.request.urlopen(f"{url}api/study/{name}", timeout=60).read()
        result["api_cached_s"] = time.perf_counter() - started
        driver = browser()
        if driver is not None:
            try:
                for attempt in ("first", "again"):
                    started = time.perf_counter()
                    driver.get(f"{url}study/{name}")
                    while not driver.execute_script(
                            "const d = [...document.querySelectorAll('#plots .plot')];"
                            "return d.length > 0 && d.every(x => x.querySelector('svg.main-svg'))"):
                        time.sleep(0.02)
                    result[f"browser_all_plots_{attempt}_s"] = time.perf_counter() - started
            finally:
                driver.quit()
    return result


def dashboard_cpu(db: Path, data: str | None, watch: float, delay: float) -> dict:
    import psutil

    runner = subprocess.Popen([sys.executable, "-c", SLOW_STUDY, str(db), data or "", str(delay)],
                              env=ENV, stderr=subprocess.PIPE)  # fmt: skip
    try:
        time.sleep(3)
        with dashboard(db, poll=2.0) as url:
            server = [p for p in psutil.Process().children() if "dashboard" in " ".join(p.cmdline())][0]
            driver = browser()
            if driver is not None:  # else poll below, as the page would
                driver.get(f"{url}study/evo-1000")
            before = server.cpu_times()
            cpu0, t0 = before.user + before.system, time.perf_counter()
            n0 = _count(db)
            deadline = time.monotonic() + watch
            while time.monotonic() < deadline:
                if driver is None:
                    urllib.request.urlopen(f"{url}api/study/evo-1000", timeout=60).read()
                time.sleep(2.0)
            after = server.cpu_times()
            wall = time.perf_counter() - t0
            trials = _count(db) - n0
            if driver is not None:
                driver.quit()
        return {"wall_s": wall, "dashboard_cpu_s": after.user + after.system - cpu0,
                "cpu_percent_of_one_core": 100 * (after.user + after.system - cpu0) / wall,
                "trials_finished_while_watched": trials, "client": "chromium" if driver else "urllib"}
    finally:
        runner.terminate()
        runner.wait()


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _count(db: Path) -> int:
    import sqlite3

    con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return con.execute("SELECT COUNT(*) FROM trials WHERE state != 'RUNNING'").fetchone()[0]
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--watch", type=float, default=60.0, help="seconds of CPU measurement")
    parser.add_argument("--delay", type=float, default=0.5, help="seconds per trial of the running study")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        db = make_studies(folder, args.data)
        made = time.perf_counter() - started
        _note(f"studies made in {made:.1f} s")
        render = render_times(db, folder / "r.html")
        _note(f"render: {render}")
        load = page_load(db)
        _note(f"page load: {load}")
        cpu = dashboard_cpu(db, args.data, args.watch, args.delay)
        _note(f"cpu: {cpu}")
    rows = [
        ["HTML report, 1,000 trials, in process (median of 3)", f"{render['warm_median_s']:.2f} s"],
        ["HTML report, 1,000 trials, `nasforge report --html` (cold)", f"{render['cli_cold_s']:.2f} s"],
        ["HTML file size", f"{render['html_mb']:.1f} MB"],
        ["dashboard study page (HTML shell), 10,000 trials", f"{load['page_html_s']:.3f} s"],
        ["dashboard JSON views, 10,000 trials, first request", f"{load['api_first_s']:.2f} s"],
        ["dashboard JSON views, unchanged study (cached)", f"{load['api_cached_s']:.3f} s"],
    ]
    for key in ("first", "again"):
        if f"browser_all_plots_{key}_s" in load:
            rows.append([f"Chromium: page to every plot drawn ({key} visit)",
                         f"{load[f'browser_all_plots_{key}_s']:.2f} s"])  # fmt: skip
    rows.append([f"dashboard CPU on a running study ({cpu['client']} polling every 2 s)",
                 f"{cpu['cpu_percent_of_one_core']:.2f} % of one core"])  # fmt: skip
    print(f"NB201 cifar10 table studies (seed 0), made in {made:.1f} s; load: {uptime()}")
    print_table(["measure", "value"], rows)
    write_json("report_views", {"render_1000": render, "dashboard_10000": load, "dashboard_cpu": cpu,
                                "watch_s": args.watch, "trial_delay_s": args.delay,
                                "load": uptime()})  # fmt: skip


if __name__ == "__main__":
    main()
