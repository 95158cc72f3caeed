"""The SegQNAS space: U-Nets described by a chain of encoder cells.

After "Quantum-inspired neural architecture search applied to semantic segmentation" (SegQNAS,
slynrick/segqnas). A network is ``max_nodes`` encoder cells; each gene is one cell = cell type x
block::

    down_vgg_3>non_res_5>down_mobile>non_attn>non_identity

- cell type ``down`` (the block, then a 3x3 stride-2 conv: half the size, twice the filters) or
  ``non`` (the block only);
- blocks ``vgg``, ``res``, ``dense``, ``inception`` with kernel 3, 5 or 7; ``mobile`` (depthwise
  separable) and ``effnet`` (MBConv with squeeze-excitation), kernel 3, in both cell types;
  ``attn`` (self-attention) and ``identity``, non-scaling only.

The decoder mirrors the encoder (genes reversed, ``down`` -> transposed-conv upscaling) with U-Net
skips; the model builder is :mod:`nasforge.models.unet`. Every gene is meaningful (an identity cell
still fuses a skip in the decoder), so the string lists all cells and there is no canonicalisation.

Priors. Q-NAS starts each gene from the published distribution: 1/48 for each of the 24 VGG / ResNet
/ Dense / Inception options, 1/16 for each MobileNet / EfficientNet option, 1/8 for self-attention
and 1/8 for identity. That is exactly "uniform over the 8 block kinds, then uniform within a kind",
which :meth:`UNetSpace.gene_groups` tells Q-NAS (no change to Q-NAS needed).

:meth:`UNetSpace.reductions` counts downscaling cells, so Q-NAS's ``reduction_limit`` / ``penalty``
can steer the search away from networks the input size cannot hold; the builder rejects them anyway
(:func:`check_feasible`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..architecture import Architecture, Categorical, Gene, GeneValue, LabelledDAG
from ..errors import ArchitectureError, ConfigError
from ..validation import check_int
from .base import SearchSpace

CELLS = ("down", "non")
KERNEL_BLOCKS = ("vgg", "res", "dense", "inception")
LIGHT_BLOCKS = ("mobile", "effnet")
NONSCALING_ONLY = ("attn", "identity")
BLOCKS = KERNEL_BLOCKS + LIGHT_BLOCKS + NONSCALING_ONLY
KERNELS = (3, 5, 7)

_CELL = re.compile(r"^(down|non)_(vgg|res|dense|inception|mobile|effnet|attn|identity)(?:_(\d+))?$")


@dataclass(frozen=True)
class Cell:
    """A parsed gene: ``kind`` is down or non; ``kernel`` is 3 for the kernel-less blocks."""

    kind: str
    block: str
    kernel: int = 3

    @property
    def downscaling(self) -> bool:
        return self.kind == "down"


def parse_cell(name: str) -> Cell:
    """Parse ``down_vgg_3`` / ``non_attn``; ArchitectureError naming what is allowed otherwise."""
    match = _CELL.match(name) if isinstance(name, str) else None
    ok = match is not None
    if ok:
        kind, block, kernel = match.groups()
        if block in KERNEL_BLOCKS:
            ok = kernel is not None and int(kernel) in KERNELS
        else:
            ok = kernel is None and not (kind == "down" and block in NONSCALING_ONLY)
    if not ok:
        raise ArchitectureError(
            f"unknown unet cell {name!r}; expected <down|non>_<vgg|res|dense|inception>_<3|5|7>, "
            f"<down|non>_<mobile|effnet>, non_attn or non_identity"
        )
    return Cell(kind, block, int(kernel) if kernel else 3)


def parse_unet(text: str) -> tuple[Cell, ...]:
    """The cells of a unet string (builders use this; the space adds the membership checks)."""
    if not isinstance(text, str) or not text.strip():
        raise ArchitectureError(f"unet architecture must be a non-empty string, got {text!r}")
    return tuple(parse_cell(t.strip()) for t in text.strip().split(">"))


def all_cells() -> tuple[str, ...]:
    """Every cell name, grouped by block kind (the order of the gene's choices)."""
    names = [f"{c}_{b}_{k}" for b in KERNEL_BLOCKS for c in CELLS for k in KERNELS]
    names += [f"{c}_{b}" for b in LIGHT_BLOCKS for c in CELLS]
    names += [f"non_{b}" for b in NONSCALING_ONLY]
    return tuple(names)


def check_feasible(cells: Sequence[Cell], spatial: Sequence[int]) -> None:
    """ArchitectureError unless every side of ``spatial`` is divisible by 2 ** downscalings.

    The mirrored decoder must come back to exactly the input size, and a side must not shrink
    below 1; both hold iff each side is a multiple of 2 ** d.
    """
    d = sum(1 for c in cells if c.downscaling)
    bad = [int(s) for s in spatial if int(s) % (2**d) != 0]
    if bad:
        size = "x".join(str(int(s)) for s in spatial)
        raise ArchitectureError(
            f"{d} downscaling cells need input sides divisible by {2**d}, got {size}: "
            f"use at most {max_downscalings(spatial)} downscaling cells or another slice size"
        )


def max_downscalings(spatial: Sequence[int]) -> int:
    """The most downscaling cells an input of size ``spatial`` allows."""
    d = 0
    while all(int(s) % (2 ** (d + 1)) == 0 for s in spatial):
        d += 1
    return d


class UNetSpace(SearchSpace):
    """``max_nodes`` encoder cells (genes ``cell_0 ..``), each a Categorical over :func:`all_cells`.

    ``blocks`` restricts the block kinds (e.g. drop ``attn`` on large slices); ``max_down`` makes
    gene vectors with more downscaling cells invalid (Q-NAS then observes again), which is how to
    match the space to a slice size up front.
    """

    name = "unet"

    def __init__(
        self,
        max_nodes: int = 5,
        blocks: Sequence[str] = BLOCKS,
        max_down: int | None = None,
    ) -> None:
        self.max_nodes = check_int("UNetSpace", "max_nodes", max_nodes, 1)
        if isinstance(blocks, str) or not isinstance(blocks, Sequence) or not blocks or any(
            b not in BLOCKS for b in blocks
        ):
            raise ConfigError(
                f"parameter blocks of UNetSpace must be a non-empty list from {', '.join(BLOCKS)}, "
                f"got {blocks!r}"
            )
        self.blocks = tuple(b for b in BLOCKS if b in blocks)
        self.max_down = None if max_down is None else check_int("UNetSpace", "max_down", max_down, 0)
        self.cells = tuple(n for n in all_cells() if parse_cell(n).block in self.blocks)
        self._genes = tuple(Categorical(f"cell_{i}", self.cells) for i in range(self.max_nodes))

    def genes(self) -> Sequence[Gene]:
        return self._genes

    def gene_groups(self, gene_name: str) -> dict[str, list[str]]:
        """Block kind -> its cells: Q-NAS's initial probabilities are then the published priors."""
        groups: dict[str, list[str]] = {}
        for name in self.cells:
            groups.setdefault(parse_cell(name).block, []).append(name)
        return groups

    def from_genes(self, values: Sequence[GeneValue]) -> Architecture:
        values = list(values)
        if len(values) != self.max_nodes:
            raise ArchitectureError(f"unet space expects {self.max_nodes} gene values, got {len(values)}")
        index = [_index(v, len(self.cells), f"cell_{i}") for i, v in enumerate(values)]
        names = [self.cells[i] for i in index]
        down = sum(1 for n in names if parse_cell(n).downscaling)
        if self.max_down is not None and down > self.max_down:
            raise ArchitectureError(
                f"unet {'>'.join(names)!r} has {down} downscaling cells, more than max_down={self.max_down}"
            )
        return self._make(">".join(names), index)

    def from_string(self, text: str) -> Architecture:
        cells = [c.strip() for c in text.strip().split(">")] if isinstance(text, str) else []
        parse_unet(text)
        if len(cells) != self.max_nodes:
            raise ArchitectureError(
                f"unet {text!r} has {len(cells)} cells; this space has max_nodes={self.max_nodes}"
            )
        for name in cells:
            if name not in self.cells:
                raise ArchitectureError(
                    f"unet cell {name!r} is not in this space (blocks: {', '.join(self.blocks)})"
                )
        return self.from_genes([self.cells.index(n) for n in cells])

    def to_graph(self, arch: Architecture) -> LabelledDAG:
        """``input -> encoder cells -> output`` (the decoder is implied by the encoder)."""
        labels = ("input",) + tuple(self.cells[g] for g in arch.genes) + ("output",)
        return LabelledDAG(labels, tuple((i, i + 1) for i in range(len(labels) - 1)))

    def size(self) -> int | None:
        return len(self.cells) ** self.max_nodes

    def reductions(self, arch: Architecture) -> int:
        """Downscaling cells (each halves the slice): Q-NAS's reduction penalty counts these."""
        self._check_space(arch)
        return sum(1 for g in arch.genes if parse_cell(self.cells[g]).downscaling)

    def __repr__(self) -> str:
        return (
            f"UNetSpace(max_nodes={self.max_nodes}, blocks={list(self.blocks)}, "
            f"max_down={self.max_down})"
        )


def _index(value: Any, size: int, gene: str) -> int:
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        raise ArchitectureError(f"unet gene {gene} must be an index, got {value!r}") from None
    if not as_float.is_integer() or not 0 <= as_float < size:
        raise ArchitectureError(f"unet gene {gene} must be an index in 0..{size - 1}, got {value!r}")
    return int(as_float)
