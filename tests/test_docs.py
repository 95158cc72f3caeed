"""The documentation site builds strictly (broken links, missing pages, bad references fail) and
every snippet marked runnable (a fenced bash / python block right after ``<!-- test -->``) runs."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MARKED = re.compile(r"<!-- test -->\s*\n```(bash|python)\n(.*?)\n```", re.DOTALL)


def _snippets() -> list[tuple[str, str, str]]:
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        for i, match in enumerate(MARKED.finditer(page.read_text(encoding="utf-8"))):
            found.append((f"{page.relative_to(DOCS)}#{i}", match.group(1), match.group(2)))
    return found


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["NO_MKDOCS_2_WARNING"] = "1"
    return env


def test_every_marker_precedes_a_runnable_block_and_there_are_several() -> None:
    markers = sum(p.read_text(encoding="utf-8").count("<!-- test -->") for p in DOCS.rglob("*.md"))
    assert markers == len(_snippets()) >= 4


def test_site_builds_strictly(tmp_path) -> None:
    missing = [m for m in ("mkdocs", "material", "mkdocstrings_handlers.python") if importlib.util.find_spec(m.split(".")[0]) is None]
    if missing:
        pytest.skip(f"the docs extra is not installed ({', '.join(missing)}): pip install -e '.[docs]'")
    site = tmp_path / "site"
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site), "-f", str(ROOT / "mkdocs.yml")],
        check=False, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "nasforge doctor" in cli and "nasforge search" in cli  # generated from --help
    assert "Options of strategy <code>qnas</code>" in (site / "methods" / "qnas" / "index.html").read_text()
    assert "from_arrays" in (site / "reference" / "api" / "index.html").read_text()
    assert not (site / "hooks.py").exists()


@pytest.mark.parametrize(("where", "language", "code"), _snippets(), ids=[s[0] for s in _snippets()])
def test_snippet_runs(where, language, code, tmp_path) -> None:
    if language == "bash":
        prelude = (f'set -euo pipefail\nnasforge() {{ "{sys.executable}" -m nasforge "$@"; }}\n'
                   f'python() {{ "{sys.executable}" "$@"; }}\n')
        command = ["bash", "-c", prelude + code]
    else:
        command = [sys.executable, "-c", code]
    run = subprocess.run(command, check=False, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, f"{where} failed:\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
