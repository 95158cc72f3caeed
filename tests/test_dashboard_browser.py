"""The HTML report and the dashboard in a real headless Chromium (Selenium): pages load without
console errors, every plot renders, and a trial finished by a study running in another process
appears on the open page without a reload.

Needs the Debian packages chromium and chromium-driver (CI installs them). Set
NASFORGE_SCREENSHOTS=docs/screenshots to refresh the README's screenshots.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from nasforge.cli.app import main
from tests.helpers.dashboard_server import ROOT, dashboard

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="headless Chromium not found: apt-get install -y chromium chromium-driver",
)
SHOTS = os.environ.get("NASFORGE_SCREENSHOTS")


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,2200"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def study_file(tmp_path_factory, data_dir):
    db = tmp_path_factory.mktemp("browser") / "runs.db"
    common = ["--space", "nb201", "--dataset", "cifar10", "--storage", str(db), "--data", str(data_dir)]
    assert main(["search", "--strategy", "evolution", "--trials", "80", "--name", "evolution-asha",
                 "--scheduler", "asha", *common]) == 0  # fmt: skip
    assert main(["search", "--strategy", "nsga2", "--trials", "60", "--name", "nsga2-params",
                 "--objective", "valid_accuracy:max", "--objective", "params_m:min", *common]) == 0
    assert main(["search", "--strategy", "random", "--trials", "20", "--seed", "3", "--name", "live",
                 *common]) == 0  # fmt: skip
    return db


def wait_for(driver, script: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for: {script}")


def console_errors(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def rendered_plots(driver, selector: str) -> tuple[int, int]:
    """(plot divs, plot divs holding a drawn plotly SVG)."""
    return tuple(driver.execute_script(
        f"const d = [...document.querySelectorAll({json.dumps(selector)})];"
        "return [d.length, d.filter(x => x.querySelector('svg.main-svg')).length];"))  # fmt: skip


def api_views(url: str, name: str) -> list[str]:
    """The study's view ids once the background importance fit has landed."""
    deadline = time.monotonic() + 60
    while True:
        payload = json.loads(urllib.request.urlopen(f"{url}api/study/{name}", timeout=30).read())
        ids = [v["id"] for v in payload["figures"]]
        if "importance" in ids or time.monotonic() > deadline:
            return ids
        time.sleep(0.2)


def shot(driver, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(1280, min(max(height + 40, 800), 6000))
        driver.save_screenshot(str(Path(SHOTS) / f"{name}.png"))
        driver.set_window_size(1280, 2200)


def test_html_report_renders_every_plot(browser, study_file, tmp_path):
    out = tmp_path / "report.html"
    assert main(["report", "evolution-asha", "--compare", "nsga2-params", "--storage", str(study_file),
                 "--html", str(out)]) == 0  # fmt: skip
    browser.get_log("browser")
    browser.get(out.as_uri())
    wait_for(browser, "return document.readyState === 'complete'")
    total, drawn = rendered_plots(browser, ".plot")
    assert total >= 12  # 2 comparison views + each study's own
    assert drawn == total
    assert browser.execute_script("return document.querySelectorAll('svg.arch-svg').length") == 6
    assert console_errors(browser) == []
    shot(browser, "report")


def test_dashboard_pages_render_without_errors(browser, study_file):
    with dashboard(study_file) as url:
        browser.get_log("browser")
        browser.get(url)
        links = browser.execute_script("return [...document.querySelectorAll('#studies a')].map(a => a.textContent)")
        assert links == ["evolution-asha", "nsga2-params", "live"]
        shot(browser, "dashboard-studies")
        assert console_errors(browser) == []
        for name in links:
            expected = api_views(url, name)
            browser.get(f"{url}study/{name}")
            wait_for(browser, f"return document.querySelectorAll('#plots .plot').length === {len(expected)}")
            wait_for(browser, "const d = [...document.querySelectorAll('#plots .plot')];"
                              "return d.every(x => x.querySelector('svg.main-svg'))")  # fmt: skip
            ids = browser.execute_script("return [...document.querySelectorAll('#plots .plot')].map(d => d.id)")
            assert ids == [f"plot-{i}" for i in expected]
            assert browser.execute_script("return document.querySelectorAll('#best svg').length") == 3
            assert console_errors(browser) == [], name
            if name != "live":
                shot(browser, f"dashboard-{name}")
        browser.get("about:blank")  # stop polling before the server goes away


def test_trial_from_another_process_appears_without_reload(browser, study_file):
    with dashboard(study_file, poll=0.3) as url:
        browser.get_log("browser")
        browser.get(f"{url}study/live")
        wait_for(browser, "const c = document.querySelector('[data-count=COMPLETE]');"
                          "return c && c.textContent === '20'")  # fmt: skip
        browser.execute_script("window.__sameDocument = 'yes'")  # lost if the page reloads
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        runner = subprocess.Popen(
            [sys.executable, "-m", "nasforge", "resume", "live", "--storage", str(study_file),
             "--trials", "26"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            assert runner.wait(timeout=120) == 0, runner.stderr.read()
        finally:
            if runner.poll() is None:
                runner.kill()
        wait_for(browser, "const c = document.querySelector('[data-count=COMPLETE]');"
                          "return c && c.textContent === '26'", timeout=30)  # fmt: skip
        assert browser.execute_script("return window.__sameDocument") == "yes"
        assert browser.execute_script("return !!document.querySelector('#recent tr[data-trial=\"25\"]')")
        points = browser.execute_script(
            "const d = document.getElementById('plot-best-trials').data; return d[0].x.length")
        assert points == 26  # the plot itself was redrawn with the new trials
        assert console_errors(browser) == []
        browser.get("about:blank")
