"""Per-trial artifact folders beside the study file: ``<storage>.artifacts/<study>/<trial>/``.

Checkpoints and trained weights are files, not rows: they are large, written by the worker that
trains (the study process stays the only writer of the SQLite file), and read back by ASHA
promotion, resume and export. An in-memory study gets a temporary folder that lives as long as
the store object.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class ArtifactStore:
    """Folders for the trials of the studies in one storage file."""

    def __init__(self, storage_path: str) -> None:
        self._tmp: tempfile.TemporaryDirectory | None = None
        if storage_path == ":memory:":
            self._tmp = tempfile.TemporaryDirectory(prefix="nasforge-artifacts-")
            self.root = Path(self._tmp.name)
        else:
            self.root = Path(storage_path + ".artifacts")

    def study_dir(self, study: str) -> Path:
        """The study's folder; the name is made filesystem-safe (``/`` and spaces become ``_``)."""
        safe = _UNSAFE.sub("_", study) or "_"
        return self.root / ("_" + safe if safe in (".", "..") else safe)

    def trial_dir(self, study: str, number: int) -> Path:
        """Where trial ``number`` keeps its files (created by whoever writes first)."""
        return self.study_dir(study) / str(int(number))

    def remove_study(self, study: str) -> None:
        shutil.rmtree(self.study_dir(study), ignore_errors=True)
