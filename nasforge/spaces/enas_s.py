"""The ENAS-S block space (Du et al., "stability-aware" evolutionary NAS; dxc33linger/NAS_Feb2020).

A network is a 3x3 stem, three modules of ``blocks`` blocks each, and a reduction between
consecutive modules, then a classifier. Every block slot has a type gene
(``mb``: MobileNetV2 inverted residual, expansion 2; ``res``: ResNet basic block; ``dense``:
two DenseNet bottleneck layers + a 1x1 transition; ``id``: identity) and a width gene; every
reduction has a type gene (``mb`` / ``res`` / ``dense`` with stride 2, ``fr``: factorised reduce,
``avg`` / ``max``: 2x2 pooling + BN) and a width gene. Identity and pooling keep the incoming
width, so their width gene is irrelevant and canonicalised to the first width.

The string lists the modules and reductions joined by ``>``; the blocks of a module by ``,``::

    mb_16,res_32,id>max>res_32,res_32,dense_16>fr_64>id,mb_64,mb_32

Sampling repeats module 0's genes in every module, as ENAS-S initialises its population (the
modules diverge under crossover and mutation); ``repeat_modules=False`` samples them freely.
Widths default to small values (8..64) for CPU-sized data; the paper used 32..512.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..architecture import Architecture, Categorical, Gene, GeneValue, LabelledDAG
from ..errors import ArchitectureError, ConfigError
from ..validation import check_int, is_integer
from .base import SearchSpace

BLOCKS = ("mb", "res", "dense", "id")
REDUCTIONS = ("mb", "res", "dense", "fr", "avg", "max")
WIDTHLESS = ("id", "avg", "max")
MODULES = 3


class ENASSSpace(SearchSpace):
    """See the module docstring. Genes: per module and slot ``m<i>_b<j>`` then ``m<i>_b<j>_width``;
    per reduction ``r<i>`` then ``r<i>_width``."""

    name = "enas_s"

    def __init__(
        self, blocks: int = 3, widths: Sequence[int] = (8, 16, 32, 64), repeat_modules: bool = True
    ) -> None:
        self.blocks = check_int("ENASSSpace", "blocks", blocks, 1)
        values = list(widths) if isinstance(widths, (list, tuple)) else []
        if not values or any(not is_integer(w) or w < 1 for w in values) or len(set(values)) != len(values):
            raise ConfigError(f"parameter widths of ENASSSpace must be distinct positive integers, got {widths!r}")
        self.widths = tuple(int(w) for w in values)
        if not isinstance(repeat_modules, bool):
            raise ConfigError(f"parameter repeat_modules of ENASSSpace must be true or false, got {repeat_modules!r}")
        self.repeat_modules = repeat_modules
        genes: list[Gene] = []
        for m in range(MODULES):
            for b in range(self.blocks):
                genes += [Categorical(f"m{m}_b{b}", BLOCKS), Categorical(f"m{m}_b{b}_width", self.widths)]
            if m < MODULES - 1:
                genes += [Categorical(f"r{m}", REDUCTIONS), Categorical(f"r{m}_width", self.widths)]
        self._genes = tuple(genes)

    def genes(self) -> Sequence[Gene]:
        return self._genes

    def from_genes(self, values: Sequence[GeneValue]) -> Architecture:
        values = list(values)
        if len(values) != len(self._genes):
            raise ArchitectureError(f"enas_s space expects {len(self._genes)} gene values, got {len(values)}")
        canonical: list[int] = []
        parts: list[str] = []
        for i in range(0, len(values), 2):
            gene = self._genes[i]
            kind = _index(values[i], gene.size, gene.name)
            width = _index(values[i + 1], len(self.widths), f"{gene.name}_width")
            name = gene.choices[kind]
            if name in WIDTHLESS:
                width = 0
            canonical += [kind, width]
            parts.append(name if name in WIDTHLESS else f"{name}_{self.widths[width]}")
        sections, i = [], 0
        for m in range(MODULES):
            sections.append(",".join(parts[i : i + self.blocks]))
            i += self.blocks
            if m < MODULES - 1:
                sections.append(parts[i])
                i += 1
        return self._make(">".join(sections), canonical)

    def from_string(self, text: str) -> Architecture:
        sections = str(text).split(">")
        if len(sections) != 2 * MODULES - 1:
            raise ArchitectureError(
                f"enas_s architecture {text!r} must be {MODULES} modules and {MODULES - 1} reductions "
                f"joined by '>' (e.g. 'mb_16,res_32,id>max>...')"
            )
        genes: list[int] = []
        for s, section in enumerate(sections):
            reduction = s % 2 == 1
            tokens = [section] if reduction else section.split(",")
            if not reduction and len(tokens) != self.blocks:
                raise ArchitectureError(f"enas_s module {section!r} in {text!r} must have {self.blocks} blocks")
            for token in tokens:
                genes += self._token(token, REDUCTIONS if reduction else BLOCKS, text)
        return self.from_genes(genes)

    def _token(self, token: str, kinds: tuple[str, ...], text: str) -> list[int]:
        name, _, width = token.partition("_")
        if name not in kinds or (name in WIDTHLESS) != (width == ""):
            allowed = ", ".join(k if k in WIDTHLESS else f"{k}_<width>" for k in kinds)
            raise ArchitectureError(f"enas_s token {token!r} in {text!r} is not one of: {allowed}")
        if name in WIDTHLESS:
            return [kinds.index(name), 0]
        if not width.isdigit() or int(width) not in self.widths:
            raise ArchitectureError(
                f"enas_s width {width!r} in {text!r} is not one of {', '.join(map(str, self.widths))}")
        return [kinds.index(name), self.widths.index(int(width))]

    def sample(self, rng: np.random.Generator) -> Architecture:
        values = [int(rng.integers(g.size)) for g in self._genes]  # type: ignore[union-attr]
        if self.repeat_modules:
            module = 2 * self.blocks
            stride = module + 2  # a module's genes plus the reduction after it
            for m in range(1, MODULES):
                values[m * stride : m * stride + module] = values[:module]
        return self.from_genes(values)

    def to_graph(self, arch: Architecture) -> LabelledDAG:
        self._check_space(arch)
        labels = ["input"]
        for section in arch.string.split(">"):
            labels += section.split(",")
        labels.append("output")
        return LabelledDAG(tuple(labels), tuple((i, i + 1) for i in range(len(labels) - 1)))

    def size(self) -> int | None:
        block = len(BLOCKS) - 1
        per_block = block * len(self.widths) + 1
        per_red = (len(REDUCTIONS) - 2) * len(self.widths) + 2
        return per_block ** (self.blocks * MODULES) * per_red ** (MODULES - 1)

    def __repr__(self) -> str:
        return f"ENASSSpace(blocks={self.blocks}, widths={self.widths})"


def _index(value: GeneValue, size: int, gene: str) -> int:
    if not is_integer(value) or not 0 <= int(value) < size:
        raise ArchitectureError(f"gene {gene} must be an index in 0..{size - 1}, got {value!r}")
    return int(value)
