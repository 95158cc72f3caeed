"""2-D segmentation data: slices of volumes, split by volume (or slab) so no volume leaks.

Sources (``dataset`` of the segmentation evaluator):

- ``synthetic``: seeded shapes (discs, squares, triangles...) on a drifting, noisy background, as
  small "volumes" of slices -- fast tests;
- ``mni152``: nilearn's bundled MNI152 T1 template (1 mm; 2 mm with ``resolution: 2``) with its grey / white-matter probability
  maps as a 3-class tissue segmentation (background / GM / WM) of axial slices. There is one
  volume, so slices are grouped into slabs of ``slab`` slices and ``gap`` slices are dropped at
  the start of every slab: neighbouring slices never sit on both sides of a split;
- a folder in the Medical Segmentation Decathlon layout (``dataset.json``, ``imagesTr/``,
  ``labelsTr/``, ``.nii.gz`` read with nibabel; AppleDouble ``._*`` files skipped).

Preprocessing (:func:`preprocess_volume`, also used by ``nasforge segment``): slices along the last
spatial axis; per slice and channel, CT channels are clipped to ``ct_window`` and min-max scaled
to [0, 1], other channels are z-scored (a constant slice becomes zeros instead of dividing by
zero); slices are resized to ``size`` x ``size`` (bilinear, labels nearest).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError, require
from .dataset import Dataset

SOURCES = ("synthetic", "mni152")
DEFAULT_CT_WINDOW = (-57.0, 164.0)  # SegQNAS's spleen window (HU)


@dataclass(frozen=True)
class SliceData:
    """Preprocessed slices (N, C, H, W) float32, labels (N, H, W) int64 and each slice's group
    (volume or slab): splits are made over groups."""

    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    num_classes: int
    class_names: tuple[str, ...]
    origin: str
    preprocessing: dict[str, Any] = field(default_factory=dict)
    #: each slice's index along the slicing axis of its volume (checks that splits keep a gap)
    positions: np.ndarray | None = None


# --- preprocessing shared with `nasforge segment` ------------------------------------------------


def preprocess_volume(
    volume: np.ndarray, channels: Sequence[str], size: int, ct_window: Sequence[float] = DEFAULT_CT_WINDOW
) -> np.ndarray:
    """(X, Y, Z[, M]) array -> (Z, M, size, size) float32 slices along the last spatial axis."""
    v = np.asarray(volume, dtype=np.float32)
    if v.ndim == 3:
        v = v[..., None]
    if v.ndim != 4 or v.shape[3] != len(channels):
        raise DataError(f"expected a 3-D volume with {len(channels)} channel(s), got shape {tuple(volume.shape)}")
    slices = np.transpose(v, (2, 3, 0, 1)).copy()  # (Z, M, X, Y)
    for m, kind in enumerate(channels):
        s = slices[:, m]
        if kind == "ct":
            s = np.clip(s, ct_window[0], ct_window[1])
            low = s.min(axis=(1, 2), keepdims=True)
            ptp = s.max(axis=(1, 2), keepdims=True) - low
            slices[:, m] = np.where(ptp > 0, (s - low) / np.where(ptp > 0, ptp, 1.0), 0.0)
        else:
            mean = s.mean(axis=(1, 2), keepdims=True)
            std = s.std(axis=(1, 2), keepdims=True)
            slices[:, m] = np.where(std > 1e-8, (s - mean) / np.where(std > 1e-8, std, 1.0), 0.0)
    return resize_slices(slices, size, labels=False)


def resize_slices(slices: np.ndarray, size: int, labels: bool) -> np.ndarray:
    """(N, C, H, W) images (bilinear, antialiased) or (N, H, W) labels (nearest) to size x size."""
    import torch
    import torch.nn.functional as F

    if slices.shape[-2:] == (size, size):
        return np.ascontiguousarray(slices)
    t = torch.from_numpy(np.ascontiguousarray(slices))
    if labels:
        out = F.interpolate(t[:, None].float(), size=(size, size), mode="nearest")[:, 0]
        return out.numpy().astype(np.int64)
    return F.interpolate(t, size=(size, size), mode="bilinear", antialias=True, align_corners=False).numpy()


# --- sources -----------------------------------------------------------------------------------


def synthetic_shapes(
    volumes: int = 12, slices: int = 8, size: int = 32, num_classes: int = 3, seed: int = 0
) -> SliceData:
    """Seeded shapes per class (1 disc, 2 square, 3 triangle, 4 ring ...) with Gaussian noise and a
    per-volume intensity drift (offset, gain and a linear ramp), labelled pixel-wise."""
    if not 2 <= num_classes <= 5:
        raise ConfigError(f"synthetic shapes support num_classes 2..5, got {num_classes!r}")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    x = np.zeros((volumes * slices, 1, size, size), np.float32)
    y = np.zeros((volumes * slices, size, size), np.int64)
    for v in range(volumes):
        gain, offset = rng.uniform(0.7, 1.3), rng.uniform(-0.3, 0.3)
        ramp = rng.uniform(-0.4, 0.4, size=2)
        for s in range(slices):
            i = v * slices + s
            label = np.zeros((size, size), np.int64)
            for c in range(1, num_classes):
                for _ in range(int(rng.integers(1, 3))):
                    cy, cx = rng.uniform(0.2, 0.8, size=2)
                    r = rng.uniform(0.07, 0.16)
                    if c == 1:
                        mask = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
                    elif c == 2:
                        mask = (np.abs(yy - cy) < r) & (np.abs(xx - cx) < r)
                    elif c == 3:
                        mask = (yy - cy > -r) & (np.abs(xx - cx) < (yy - cy + r) / 2)
                    else:
                        d = (yy - cy) ** 2 + (xx - cx) ** 2
                        mask = (d < r**2) & (d > (0.5 * r) ** 2)
                    mask &= (yy - cy) < r
                    label[mask] = c
            image = 0.5 * label.astype(np.float32)
            image = gain * image + offset + ramp[0] * yy + ramp[1] * xx
            image += rng.normal(0.0, 0.08, size=(size, size)).astype(np.float32)
            x[i, 0], y[i] = image, label
    names = ("background",) + tuple(f"shape{c}" for c in range(1, num_classes))
    groups = np.repeat(np.arange(volumes), slices)
    return SliceData(x, y, groups, num_classes, names, f"synthetic(seed={seed})",
                     {"channels": ["mr"], "size": size, "axis": "last"})


def mni152_tissue(
    size: int = 64, resolution: int = 1, slab: int = 10, gap: int = 2, min_brain: float = 0.05
) -> SliceData:
    """Axial slices of the MNI152 T1 template (``resolution`` 1 or 2 mm), labels from its GM / WM probability maps.

    A voxel is background when P(GM) + P(WM) < 0.5, otherwise the likelier of GM (1) and WM (2).
    Slices whose brain covers less than ``min_brain`` of the slice are dropped; the rest are
    grouped into slabs of ``slab`` consecutive slices, the first ``gap`` of each dropped.
    """
    require("nilearn", "segmentation")
    from nilearn.datasets import (
        load_mni152_gm_template,
        load_mni152_template,
        load_mni152_wm_template,
    )

    if resolution not in (1, 2):
        raise ConfigError(f"mni152 resolution must be 1 or 2 (mm), got {resolution!r}")
    if slab <= gap or gap < 0:
        raise ConfigError(f"mni152 needs 0 <= gap < slab, got slab={slab!r}, gap={gap!r}")
    # these read the files bundled in the nilearn wheel (nilearn/datasets/data): no download
    t1 = load_mni152_template(resolution=resolution).get_fdata(dtype=np.float32)
    gm = load_mni152_gm_template(resolution=resolution).get_fdata(dtype=np.float32)
    wm = load_mni152_wm_template(resolution=resolution).get_fdata(dtype=np.float32)
    label = np.where(gm + wm < 0.5, 0, np.where(gm >= wm, 1, 2)).astype(np.int64)
    brain = (label > 0).mean(axis=(0, 1))
    keep = np.flatnonzero(brain >= min_brain)
    z0 = int(keep.min())
    groups_all = (keep - z0) // slab
    inside = (keep - z0) % slab >= gap
    keep, groups = keep[inside], groups_all[inside]
    x = preprocess_volume(t1[:, :, keep], ["mr"], size)
    y = resize_slices(np.transpose(label[:, :, keep], (2, 0, 1)), size, labels=True)
    return SliceData(x, y, groups, 3, ("background", "grey_matter", "white_matter"),
                     f"nilearn MNI152 {resolution}mm (bundled)", {"channels": ["mr"], "size": size, "axis": "last"},
                     positions=keep)


def decathlon(root: str | os.PathLike, size: int = 64, ct_window: Sequence[float] = DEFAULT_CT_WINDOW) -> SliceData:
    """Every training case of a Decathlon task folder; one group per volume."""
    require("nibabel", "segmentation")
    import nibabel as nib

    root = Path(root)
    meta_path = root / "dataset.json"
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{meta_path}: cannot read dataset.json ({exc})") from None
    try:
        modality = {int(k): str(v) for k, v in meta["modality"].items()}
        labels = {int(k): str(v) for k, v in meta["labels"].items()}
        entries = list(meta["training"])
    except (KeyError, TypeError, ValueError, AttributeError):
        raise DataError(f"{meta_path}: needs 'modality', 'labels' and 'training' entries as in the Decathlon layout") from None
    channels = ["ct" if modality[k].upper() == "CT" else "mr" for k in sorted(modality)]
    num_classes = max(labels) + 1
    xs, ys, gs = [], [], []
    for entry in entries:
        try:
            image_path, label_path = root / entry["image"], root / entry["label"]
        except (KeyError, TypeError):
            raise DataError(f"{meta_path}: training entry {entry!r} needs 'image' and 'label'") from None
        if image_path.name.startswith("._") or label_path.name.startswith("._"):
            continue  # AppleDouble metadata shipped in MSD tarballs
        for p in (image_path, label_path):
            if not p.is_file():
                raise DataError(f"{p}: listed in {meta_path.name} but missing")
        image = np.asanyarray(nib.load(str(image_path)).dataobj, dtype=np.float32)
        label = np.asanyarray(nib.load(str(label_path)).dataobj)
        if image.shape[:3] != label.shape or label.ndim != 3:
            raise DataError(f"{image_path}: image shape {image.shape} does not match label shape {label.shape} ({label_path.name})")
        values = np.unique(label)
        bad = [v for v in values if v != int(v) or not 0 <= v < num_classes]
        if bad:
            raise DataError(f"{label_path}: label value {bad[0]:g} outside the declared classes 0..{num_classes - 1}")
        if (image.ndim == 3 and len(channels) != 1) or (image.ndim == 4 and image.shape[3] != len(channels)):
            raise DataError(f"{image_path}: shape {image.shape} does not have the {len(channels)} modalities of dataset.json")
        xs.append(preprocess_volume(image, channels, size, ct_window))
        ys.append(resize_slices(np.transpose(label.astype(np.int64), (2, 0, 1)), size, labels=True))
        gs.append(np.full(label.shape[2], len(gs)))
    if len(xs) < 3:
        raise DataError(f"{meta_path}: {len(xs)} usable training volumes; a train / valid / test split needs >= 3")
    names = tuple(labels.get(c, f"class{c}") for c in range(num_classes))
    return SliceData(np.concatenate(xs), np.concatenate(ys), np.concatenate(gs), num_classes, names,
                     str(root), {"channels": channels, "ct_window": list(ct_window), "size": size, "axis": "last"})


# --- splits by group, and the Dataset the trainer consumes ---------------------------------------


def group_split(
    groups: np.ndarray, seed: int, valid_fraction: float, test_fraction: float, folds: int | None = None, fold: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boolean masks (train, valid, test) over slices; every group lies on one side only.

    Test groups come first from a seeded permutation; the rest are split by ``valid_fraction``,
    or, with ``folds``, fold ``fold`` of a k-fold partition of the non-test groups is validation.
    """
    unique = np.unique(groups)
    if len(unique) < 3:
        raise DataError(f"{len(unique)} volumes / slabs: a train / valid / test split needs >= 3")
    order = np.random.default_rng(seed).permutation(unique)
    n_test = min(max(1, round(len(order) * test_fraction)), len(order) - 2)
    test, rest = order[:n_test], order[n_test:]
    if folds is not None:
        if not 2 <= folds <= len(rest) or not 0 <= fold < folds:
            raise ConfigError(f"folds must be in 2..{len(rest)} and fold in 0..folds-1, got folds={folds}, fold={fold}")
        valid = np.array_split(rest, folds)[fold]
    else:
        n_valid = min(max(1, round(len(order) * valid_fraction)), len(rest) - 1)
        valid = rest[:n_valid]
    return ~np.isin(groups, np.concatenate([test, valid])), np.isin(groups, valid), np.isin(groups, test)


def load_segmentation(
    source: str,
    data_dir: str | None = None,
    size: int = 64,
    seed: int = 0,
    valid_fraction: float = 0.2,
    test_fraction: float = 0.2,
    folds: int | None = None,
    fold: int = 0,
    options: dict[str, Any] | None = None,
) -> Dataset:
    """The split Dataset of a source (cached per process); x keeps its per-slice preprocessing and
    is then normalised with train channel statistics, like every nasforge dataset."""
    key = json.dumps(options or {}, sort_keys=True)
    return _cached(str(resolve_segmentation(source, data_dir)), int(size), int(seed), float(valid_fraction),
                   float(test_fraction), folds, int(fold), key)


def resolve_segmentation(source: str, data_dir: str | None = None) -> str:
    """A built-in source name or the path of a Decathlon folder; one-line errors otherwise."""
    text = str(source)
    if text in SOURCES:
        return text
    path = Path(text).expanduser()
    if not path.is_absolute() and data_dir is not None and not path.exists():
        path = Path(data_dir).expanduser() / path
    if (path / "dataset.json").is_file():
        return str(path)
    raise ConfigError(
        f"segmentation dataset must be one of {', '.join(SOURCES)} or a Decathlon task folder "
        f"holding dataset.json, got {text!r}"
    )


@functools.lru_cache(maxsize=4)
def _cached(source: str, size: int, seed: int, valid_fraction: float, test_fraction: float,
            folds: int | None, fold: int, options_json: str) -> Dataset:
    options = json.loads(options_json)
    if size < 4:
        raise ConfigError(f"slice size must be >= 4, got {size}")
    if source == "synthetic":
        data = synthetic_shapes(size=size, **options)
    elif source == "mni152":
        data = mni152_tissue(size=size, **options)
    else:
        data = decathlon(source, size=size, **options)
    train, valid, test = group_split(data.groups, seed, valid_fraction, test_fraction, folds, fold)
    x_train = data.x[train]
    mean = x_train.mean(axis=(0, 2, 3), dtype=np.float64)
    std = x_train.std(axis=(0, 2, 3), dtype=np.float64)
    std = np.where(std > 1e-12, std, 1.0)
    shape = (1, -1, 1, 1)

    def norm(x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray((x - mean.reshape(shape)) / std.reshape(shape), dtype=np.float32)

    return Dataset(
        name=source if source in SOURCES else f"decathlon:{source}",
        x_train=norm(x_train), y_train=np.ascontiguousarray(data.y[train]),
        x_valid=norm(data.x[valid]), y_valid=np.ascontiguousarray(data.y[valid]),
        x_test=norm(data.x[test]), y_test=np.ascontiguousarray(data.y[test]),
        num_classes=data.num_classes, mean=tuple(float(v) for v in mean), std=tuple(float(v) for v in std),
        origin=data.origin,
        info={"split_seed": seed, "class_names": list(data.class_names), "preprocessing": data.preprocessing,
              "groups": {k: sorted(int(g) for g in np.unique(data.groups[m]))
                         for k, m in (("train", train), ("valid", valid), ("test", test))}},
    )
