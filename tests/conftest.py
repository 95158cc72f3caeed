"""Shared fixtures: the benchmark tables from ../shared/data (skipped with a reason if absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _shared_data() -> Path | None:
    env = os.environ.get("NASFORGE_DATA")
    for path in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "data"]:
        if (path / "nb201").is_dir():
            return path
    return None


SHARED_DATA = _shared_data()
needs_data = pytest.mark.skipif(
    SHARED_DATA is None,
    reason="benchmark tables not found: put the shared data at ../shared/data or set NASFORGE_DATA",
)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if SHARED_DATA is None:
        pytest.skip("benchmark tables not found: put them at ../shared/data or set NASFORGE_DATA")
    return SHARED_DATA
