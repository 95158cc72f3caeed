"""`nasforge segment`: run an exported segmentation network over a folder of .nii.gz volumes."""

from __future__ import annotations

from pathlib import Path

import typer


def segment(
    model: Path = typer.Argument(..., help="export folder (nasforge export --output) of a segmentation study"),
    inputs: Path = typer.Argument(..., help="folder of .nii.gz volumes (AppleDouble ._* files are skipped)"),
    output: Path = typer.Option(..., "--output", help="folder for the predicted masks (same file names)"),
    batch_size: int = typer.Option(32, help="slices per forward pass"),
) -> None:
    """Write one uint8 mask per volume with the input's affine and header."""
    from ..segment import segment_folder

    written = segment_folder(model, inputs, output, batch_size)
    typer.echo(f"wrote {len(written)} mask(s) to {output}")
