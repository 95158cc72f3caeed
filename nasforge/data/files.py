"""Data a practitioner already has on disk: an image folder, or a CSV / Parquet table.

Both read into :class:`~nasforge.data.dataset.RawData`, so they get the same seeded splits and
train-statistics normalisation as every other source (``split_and_normalise``), and the trainer
caches them once per worker process (``load_dataset``).

- **Image folder**: one sub-folder per class (``root/cat/1.png``), as torchvision's ImageFolder;
  or ``train/``, ``valid/``, ``test/`` sub-folders each laid out that way, which are then used as
  given splits. Images are decoded with Pillow, converted to one mode (grey ``L`` or ``RGB``: the
  mode most files have) and must share one size (resize them beforehand; a wrong size names the
  file). Classes are the sorted folder names.
- **Table** (``.csv``, ``.csv.gz``, ``.parquet``): one row per example, a label column named
  ``label``, ``target``, ``class`` or ``y`` (text labels become classes in sorted order), every other
  column numeric. A table of F feature columns becomes F channels of length 1, so per-channel
  normalisation is per-column standardisation and a feature ablation removes a column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DataError, require
from ..paths import READ_ERRORS
from .dataset import RawData

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
SPLITS = ("train", "valid", "test")
LABEL_COLUMNS = ("label", "target", "class", "y")
TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet")


def is_image_folder(path: Path) -> bool:
    """A folder whose sub-folders (or whose train/ sub-folders) hold image files."""
    base = path / "train" if (path / "train").is_dir() else path
    return any(_images(sub) for sub in _class_dirs(base))


def is_table(path: Path) -> bool:
    return path.name.lower().endswith(TABLE_SUFFIXES)


# --- image folders -----------------------------------------------------------------------------


def load_image_folder_raw(path: str | Path) -> RawData:
    root = Path(path)
    if (root / "train").is_dir():
        classes = [d.name for d in _class_dirs(root / "train")]
        splits = {s: _read_images(root / s, classes) for s in SPLITS if (root / s).is_dir()}
    else:
        classes = [d.name for d in _class_dirs(root)]
        splits = {"train": _read_images(root, classes)}
    if len(classes) < 2:
        raise DataError(
            f"image folder {str(root)!r} needs one sub-folder per class (at least 2), found "
            f"{classes or 'none'}"
        )
    shapes = {s: x.shape[1:] for s, (x, _) in splits.items()}
    if len(set(shapes.values())) > 1:
        raise DataError(f"image folder {str(root)!r}: the splits hold images of different shapes {shapes}")
    x_valid, y_valid = splits.get("valid", (None, None))
    x_test, y_test = splits.get("test", (None, None))
    return RawData(
        x_train=splits["train"][0], y_train=splits["train"][1], x_test=x_test, y_test=y_test,
        x_valid=x_valid, y_valid=y_valid, origin=str(root), num_classes=len(classes),
    )  # fmt: skip


def image_folder_classes(path: str | Path) -> list[str]:
    """Class names in label order (the sorted sub-folder names)."""
    root = Path(path)
    base = root / "train" if (root / "train").is_dir() else root
    return [d.name for d in _class_dirs(base)]


def _class_dirs(base: Path) -> list[Path]:
    if not base.is_dir():
        return []
    return sorted(d for d in base.iterdir() if d.is_dir() and not d.name.startswith("."))


def _images(folder: Path) -> list[Path]:
    return sorted(
        f for f in folder.iterdir()
        if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES and not f.name.startswith(".")
    )  # fmt: skip


def _read_images(base: Path, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    image_module = require("PIL.Image", "data")
    found = [d.name for d in _class_dirs(base)]
    if found != classes:
        raise DataError(f"image folder {str(base)!r} has classes {found}, expected {classes} as in train/")
    files = [(f, label) for label, name in enumerate(classes) for f in _images(base / name)]
    if not files:
        raise DataError(f"image folder {str(base)!r} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    pictures = []
    for file, _ in files:
        try:
            with image_module.open(file) as image:
                image.load()
                pictures.append(image.copy())
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read image {str(file)!r}: {exc}") from None
    modes = [p.mode for p in pictures]
    mode = "L" if modes.count("L") + modes.count("1") > len(modes) / 2 else "RGB"
    size = pictures[0].size
    arrays = []
    for (file, _), picture in zip(files, pictures):
        if picture.size != size:
            raise DataError(
                f"image {str(file)!r} is {picture.size[0]}x{picture.size[1]}, the folder's first "
                f"image is {size[0]}x{size[1]}: resize the images to one size"
            )
        arrays.append(np.asarray(picture.convert(mode)))
    # one vectorised conversion to channels-first floats in [0, 1] (not one per image)
    stacked = np.stack(arrays).astype(np.float32) / np.float32(255.0)
    x = stacked[:, None] if mode == "L" else np.ascontiguousarray(stacked.transpose(0, 3, 1, 2))
    return x, np.array([label for _, label in files], dtype=np.int64)


# --- tables ------------------------------------------------------------------------------------


def load_table_file_raw(path: str | Path, target: str | None = None, regression: bool = False) -> RawData:
    """The table's feature columns as (N, F, 1) and its label column (``target``, else the first of
    LABEL_COLUMNS present) as class codes, or as float targets with ``regression``."""
    pandas = require("pandas", "data")
    file = Path(path)
    try:
        if file.name.lower().endswith(".parquet"):
            frame = pandas.read_parquet(file)
        else:
            frame = pandas.read_csv(file, encoding="utf-8")
    except ImportError as exc:  # parquet needs pyarrow or fastparquet
        raise DataError(f"cannot read {str(file)!r}: {exc} (pip install pyarrow)") from None
    except (*READ_ERRORS, ValueError) as exc:
        raise DataError(f"cannot read table {str(file)!r}: {exc}") from None
    if target is not None and target not in frame.columns:
        raise DataError(
            f"table {str(file)!r} has no column {target!r} (option target); its columns: "
            f"{', '.join(map(str, frame.columns[:20]))}"
        )
    label = target if target is not None else next((c for c in LABEL_COLUMNS if c in frame.columns), None)
    if label is None:
        raise DataError(
            f"table {str(file)!r} has no label column ({', '.join(LABEL_COLUMNS)}); its columns: "
            f"{', '.join(map(str, frame.columns[:20]))}"
        )
    features = frame.drop(columns=[label])
    text = [str(c) for c in features.columns if not pandas.api.types.is_numeric_dtype(features[c])]
    if text:
        raise DataError(f"table {str(file)!r}: feature column(s) {', '.join(text)} are not numeric")
    if features.isna().to_numpy().any():
        raise DataError(f"table {str(file)!r} has empty cells in its feature columns")
    if regression:
        values = pandas.to_numeric(frame[label], errors="coerce")
        if values.isna().any():
            row = int(values.isna().to_numpy().argmax())
            raise DataError(
                f"table {str(file)!r}: target column {label!r} needs numbers for regression, row {row} "
                f"holds {frame[label].iloc[row]!r}"
            )
        return RawData(
            x_train=features.to_numpy(dtype=np.float32)[:, :, None], y_train=values.to_numpy(np.float32),
            x_test=None, y_test=None, origin=str(file), num_classes=1,
        )  # fmt: skip
    text_labels = frame[label].astype(str)
    names = sorted(text_labels.unique())
    if all(n.lstrip("-").isdigit() for n in names):  # integer labels keep their numeric order
        names = sorted(names, key=int)
    codes = {name: i for i, name in enumerate(names)}
    labels = text_labels.map(codes).to_numpy(dtype=np.int64)
    return RawData(
        x_train=features.to_numpy(dtype=np.float32)[:, :, None], y_train=labels, x_test=None,
        y_test=None, origin=str(file), num_classes=len(names),
    )  # fmt: skip
