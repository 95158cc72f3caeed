"""Apply an exported segmentation network to a folder of NIfTI volumes (``nasforge segment``).

The network was trained on 2-D slices preprocessed by :func:`nasforge.data.segmentation.
preprocess_volume` (CT window or per-slice z-score, resize); ``architecture.json`` of the export
records that preprocessing, so each volume is sliced and preprocessed the same way. Logits are
resized back to the volume's in-plane size before the argmax, and the mask is written as uint8
``.nii.gz`` with the input's affine and header, so it overlays the input in any viewer.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .errors import ConfigError, DataError, require
from .export import ARCH_FILE, MODEL_FILE


def segment_folder(model_dir: str | Path, inputs: str | Path, out_dir: str | Path, batch_size: int = 32) -> list[Path]:
    """Write ``<out_dir>/<name>.nii.gz`` masks for every ``*.nii.gz`` in ``inputs``; their paths."""
    require("nibabel", "segmentation")
    import nibabel as nib
    import torch
    import torch.nn.functional as F

    from .data.segmentation import DEFAULT_CT_WINDOW, preprocess_volume

    model_dir, inputs, out_dir = Path(model_dir), Path(inputs), Path(out_dir)
    try:
        meta = json.loads((model_dir / ARCH_FILE).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{model_dir}: not an export folder ({ARCH_FILE}: {exc})") from None
    prep = meta.get("preprocessing")
    if not prep:
        raise ConfigError(f"{model_dir / ARCH_FILE}: no 'preprocessing' entry; export a segmentation study")
    channels, size = list(prep["channels"]), int(prep["size"])
    window = prep.get("ct_window", DEFAULT_CT_WINDOW)
    if not inputs.is_dir():
        raise DataError(f"input folder {str(inputs)!r} not found")
    files = sorted(p for p in inputs.glob("*.nii.gz") if not p.name.startswith("._"))
    if not files:
        raise DataError(f"input folder {str(inputs)!r} holds no .nii.gz volumes")
    if batch_size < 1:
        raise ConfigError(f"batch size must be >= 1, got {batch_size}")
    net = torch.export.unflatten(torch.export.load(str(model_dir / MODEL_FILE))).eval()
    step = 1 if "batch = 1" in str(meta.get("model_input", "")) else batch_size
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in files:
        image = nib.load(str(path))
        volume = np.asanyarray(image.dataobj, dtype=np.float32)
        if volume.ndim - 3 != (len(channels) > 1) or (volume.ndim == 4 and volume.shape[3] != len(channels)):
            raise DataError(f"{path}: shape {volume.shape} does not fit a model of {len(channels)} channel(s)")
        slices = torch.from_numpy(preprocess_volume(volume, channels, size, window))
        masks = []
        with torch.no_grad():
            for start in range(0, len(slices), step):
                logits = net(slices[start:start + step])
                logits = F.interpolate(logits, size=volume.shape[:2], mode="bilinear", align_corners=False)
                masks.append(logits.argmax(dim=1).to(torch.uint8))
        mask = np.transpose(torch.cat(masks).numpy(), (1, 2, 0))  # (Z, X, Y) -> (X, Y, Z)
        header = image.header.copy()
        header.set_data_dtype(np.uint8)
        out = nib.Nifti1Image(mask, image.affine, header)
        out.header.set_slope_inter(1, 0)
        target = out_dir / path.name
        nib.save(out, str(target))
        written.append(target)
    return written
