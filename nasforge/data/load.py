"""``load_dataset``: one entry point from a name or path to a ready :class:`Dataset`.

Results are cached per process (keyed by the resolved source and split settings) so an evaluator
shipped to a worker loads its data once, however many trials the worker runs.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from .. import registry
from ..errors import ConfigError, DataError
from .dataset import Dataset, RawData, split_and_normalise

TASKS = ("classification", "regression")

CIFAR = ("cifar10", "cifar100")
_CIFAR_FOLDERS = {"cifar10": "cifar-10-batches-py", "cifar100": "cifar-100-python"}


def resolve_source(
    name_or_path: str | os.PathLike, data_dir: str | os.PathLike | None = None
) -> tuple[str, str | None]:
    """(kind, path) for a dataset name or path, checking only that files exist (cheap).

    kind is a registered dataset name, 'npz', 'table-file', 'image-folder', 'cifar10' or
    'cifar100'. Used up front by constructors so
    a typo fails at configuration time rather than in every trial.
    """
    text = str(name_or_path)
    if text in registry.names("dataset"):  # in-memory datasets, registered as kind "dataset"
        return text, None
    if text in CIFAR:
        if data_dir is None:
            raise ConfigError(
                f"dataset {text!r} needs data_dir: the folder of the official CIFAR python "
                f"batches (e.g. {_CIFAR_FOLDERS[text]})"
            )
        folder = Path(data_dir).expanduser()
        if (folder / _CIFAR_FOLDERS[text]).is_dir():
            folder = folder / _CIFAR_FOLDERS[text]
        from .cifar import detect

        found = detect(folder) if folder.is_dir() else None
        if found != text:
            raise DataError(
                f"data_dir {str(folder)!r} is not a {text} python-version folder "
                f"({'it looks like ' + found if found else 'batch files not found'})"
            )
        return text, str(folder)
    path = Path(text).expanduser()
    if not path.is_absolute() and data_dir is not None and not path.exists():
        path = Path(data_dir).expanduser() / path
    if path.suffix == ".npz":
        if not path.is_file():
            raise DataError(f"data file {str(path)!r} not found")
        return "npz", str(path)
    from .files import is_image_folder, is_table

    if is_table(path):
        if not path.is_file():
            raise DataError(f"data file {str(path)!r} not found")
        return "table-file", str(path)
    if path.is_dir():
        from .cifar import detect

        found = detect(path)
        if found is not None:
            return found, str(path)
        if is_image_folder(path):
            return "image-folder", str(path)
        raise DataError(
            f"folder {str(path)!r} holds neither an image folder (one sub-folder of images per "
            "class) nor CIFAR python batches (data_batch_1..5 + test_batch, or train + test)"
        )
    raise ConfigError(
        f"dataset must be one of {', '.join(registry.names('dataset') + list(CIFAR))}, a .npz file, "
        f"a .csv / .parquet table, an image folder or a CIFAR batch folder, "
        f"got {text!r}"
    )


def load_dataset(
    name_or_path: str | os.PathLike = "digits",
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    valid_fraction: float = 0.2,
    test_fraction: float = 0.2,
    max_train: int | None = None,
    task: str = "classification",
    target: str | None = None,
) -> Dataset:
    """Load, split (deterministically from ``seed``) and normalise a dataset.

    ``task`` is ``classification`` (integer labels) or ``regression`` (numeric targets);
    ``target`` names a table's label / target column (default: the first of label, target, class,
    y). A :class:`RawData` (e.g. from :func:`nasforge.data.from_arrays`) is split as it is.

    ``valid_fraction`` / ``test_fraction`` apply only to splits the source lacks (they are carved
    from its train split); ``max_train`` keeps the first N training examples (quick runs, tests).
    """
    for label, value in (("valid_fraction", valid_fraction), ("test_fraction", test_fraction)):
        if not isinstance(value, (int, float)) or not 0.0 < float(value) < 1.0:
            raise ConfigError(f"parameter {label} of load_dataset must be in (0, 1), got {value!r}")
    if max_train is not None and (not isinstance(max_train, int) or max_train < 1):
        raise ConfigError(
            f"parameter max_train of load_dataset must be a positive integer or None, got {max_train!r}"
        )
    if not isinstance(seed, int):
        raise ConfigError(f"parameter seed of load_dataset must be an integer, got {seed!r}")
    if task not in TASKS:
        raise ConfigError(f"parameter task of load_dataset must be one of {', '.join(TASKS)}, got {task!r}")
    if isinstance(name_or_path, RawData):
        return split_and_normalise(
            name_or_path, name_or_path.origin, int(seed), float(valid_fraction), float(test_fraction),
            max_train, task,
        )
    kind, path = resolve_source(name_or_path, data_dir)
    # a rewritten .npz must not be served from the cache: key on its size and modification time
    stamp = None
    if kind in ("npz", "table-file"):
        info = os.stat(path)  # type: ignore[arg-type]
        stamp = (info.st_size, info.st_mtime_ns)
    if target is not None and kind != "table-file":
        raise ConfigError(f"option target names a table column; dataset {str(name_or_path)!r} is not a table")
    return _cached(
        kind, path, stamp, int(seed), float(valid_fraction), float(test_fraction), max_train, task, target
    )


@functools.lru_cache(maxsize=4)
def _cached(
    kind: str, path: str | None, stamp: tuple | None, seed: int, valid_fraction: float,
    test_fraction: float, max_train: int | None, task: str = "classification", target: str | None = None,
) -> Dataset:
    raw = _read(kind, path, target, task == "regression")
    name = kind if path is None else f"{kind}:{path}"
    return split_and_normalise(raw, name, seed, valid_fraction, test_fraction, max_train, task)


def _read(kind: str, path: str | None, target: str | None = None, regression: bool = False) -> RawData:
    if path is None:
        return registry.resolve("dataset", kind)()
    if kind == "npz":
        from .npz import load_npz_raw

        return load_npz_raw(path)  # type: ignore[arg-type]
    if kind == "image-folder":
        from .files import load_image_folder_raw

        return load_image_folder_raw(path)  # type: ignore[arg-type]
    if kind == "table-file":
        from .files import load_table_file_raw

        return load_table_file_raw(path, target, regression)  # type: ignore[arg-type]
    from .cifar import load_cifar_raw

    return load_cifar_raw(path, kind)  # type: ignore[arg-type]
