"""Where benchmark tables live: an explicit path, else $NASFORGE_DATA, else ../shared/data."""

from __future__ import annotations

import csv
import os
import zlib
from pathlib import Path

from .errors import DataError

ENV_VAR = "NASFORGE_DATA"


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Resolve the benchmark data folder; DataError says where we looked and how to set it."""
    candidates: list[tuple[str, Path]] = []
    if explicit:
        candidates.append(("--data", Path(explicit).expanduser()))
    elif os.environ.get(ENV_VAR):
        candidates.append((ENV_VAR, Path(os.environ[ENV_VAR]).expanduser()))
    else:
        for base in (Path.cwd(), Path(__file__).resolve().parents[1]):
            candidates.append(("default", base.parent / "shared" / "data"))
    for _, path in candidates:
        if path.is_dir():
            return path
    tried = ", ".join(f"{path} ({origin})" for origin, path in candidates)
    raise DataError(
        f"benchmark data folder not found (tried {tried}); pass --data DIR or set {ENV_VAR}"
    )


def data_file(relative: str, explicit: str | os.PathLike | None = None) -> Path:
    """A file inside the data folder, e.g. 'nb201/nb201_accuracy.csv.gz'."""
    path = data_dir(explicit) / relative
    if not path.is_file():
        raise DataError(f"data file {str(path)!r} not found")
    return path


#: what reading a damaged table raises: a truncated .gz (EOFError, zlib.error), bytes that are not
#: UTF-8, a broken CSV quote ...; readers turn these into one DataError line naming the file
READ_ERRORS = (OSError, EOFError, UnicodeDecodeError, csv.Error, zlib.error)

