"""The chain space with per-layer precision: an operation and (weight, activation) bits per layer.

A fixed-length chain of positions (a supernet's layers). Each position holds either one pooling
function or a set of candidate convolutions with the same filter count, optionally with ``no_op``
(a skip, allowed only where the channel count does not change). Every convolution position also
carries a weight bit-width and an activation bit-width from ``bits`` (default 2, 4, 8, 32; 32 means
float). The classifier (global average pooling + linear) runs at ``head_bits`` (fixed, not searched,
as is common for the last layer)::

    conv_3_16@w4a8>no_op>max_pool>conv_5_32@w2a4>conv_1_32@w8a8>max_pool

Genes, in order: ``op_<i>`` for positions with more than one candidate, then ``w_<i>`` and
``a_<i>`` for every position with a convolution candidate. Canonical form: a position whose chosen
op is ``no_op`` or pooling has no bits, so its bit genes are set to the last choice (float) and the
string omits them. Residual blocks are left out: the one-shot supernet mixes candidates that must
produce the same shape, and a precision per block would be two layers' worth of genes.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from ..architecture import Architecture, Categorical, Gene, GeneValue, LabelledDAG
from ..errors import ArchitectureError, ConfigError
from .base import SearchSpace
from .chain import NO_OP, POOLS, parse_function

BITS: tuple[int, ...] = (2, 4, 8, 32)

#: searchable backbones: digits (8x8 images, two reductions) and MNIST-1D (40 samples, three)
PRESETS: dict[str, list[list[str]]] = {
    "digits": [
        ["conv_3_16", "conv_5_16", "conv_1_16"],
        ["conv_3_16", "conv_5_16", "conv_1_16", NO_OP],
        ["max_pool"],
        ["conv_3_32", "conv_5_32", "conv_1_32"],
        ["conv_3_32", "conv_5_32", "conv_1_32", NO_OP],
        ["max_pool"],
    ],
    "mnist1d": [
        ["conv_5_16", "conv_3_16", "conv_1_16"],
        ["max_pool"],
        ["conv_5_32", "conv_3_32", "conv_1_32"],
        ["conv_5_32", "conv_3_32", "conv_1_32", NO_OP],
        ["max_pool"],
        ["conv_5_32", "conv_3_32", "conv_1_32", NO_OP],
        ["max_pool"],
    ],
}

_TOKEN = re.compile(r"^([a-z_0-9]+?)(?:@w(\d+)a(\d+))?$")


def parse_precision_chain(text: str) -> list[tuple[str, int | None, int | None]]:
    """``[(function, w_bits, a_bits)]`` of a chain_precision string (bits None for pool / no_op)."""
    if not isinstance(text, str) or not text.strip():
        raise ArchitectureError(f"chain_precision architecture must be a non-empty string, got {text!r}")
    out = []
    for token in text.strip().split(">"):
        match = _TOKEN.match(token.strip())
        if match is None:
            raise ArchitectureError(
                f"chain_precision token {token!r}: expected <function>@w<bits>a<bits>, a pool or no_op"
            )
        name, wb, ab = match.groups()
        fn = parse_function(name)
        if fn.kind == "conv" and wb is None:
            raise ArchitectureError(f"chain_precision token {token!r}: a convolution needs @w<bits>a<bits>")
        if fn.kind != "conv" and wb is not None:
            raise ArchitectureError(f"chain_precision token {token!r}: only convolutions carry bits")
        if fn.kind in ("res", "res_proj"):
            raise ArchitectureError(f"chain_precision token {token!r}: residual blocks are not in this space")
        out.append((name, None if wb is None else int(wb), None if ab is None else int(ab)))
    return out


class ChainPrecisionSpace(SearchSpace):
    """Fixed positions, each an op choice, with searchable bit-widths for every convolution."""

    name = "chain_precision"

    def __init__(
        self,
        layers: Sequence[Sequence[str]] | None = None,
        preset: str | None = "digits",
        bits: Sequence[int] = BITS,
        head_bits: int = 8,
    ) -> None:
        if layers is None:
            if preset not in PRESETS:
                raise ConfigError(
                    f"parameter preset of ChainPrecisionSpace must be one of {', '.join(PRESETS)} "
                    f"(or give layers), got {preset!r}"
                )
            layers = PRESETS[preset]
        self.layers = _layers(layers)
        self.bits = _bits(bits)
        if head_bits not in (2, 4, 8, 16, 32) or isinstance(head_bits, bool):
            raise ConfigError(f"parameter head_bits of ChainPrecisionSpace must be 2, 4, 8, 16 or 32, got {head_bits!r}")
        self.head_bits = int(head_bits)
        genes: list[Gene] = [
            Categorical(f"op_{i}", tuple(c)) for i, c in enumerate(self.layers) if len(c) > 1
        ]
        for i, c in enumerate(self.layers):
            if self.has_conv(i):
                genes += [Categorical(f"w_{i}", self.bits), Categorical(f"a_{i}", self.bits)]
        self._genes = tuple(genes)
        self._index = {g.name: k for k, g in enumerate(self._genes)}

    def has_conv(self, position: int) -> bool:
        return any(parse_function(n).kind == "conv" for n in self.layers[position])

    # --- SearchSpace ---------------------------------------------------------------------------

    def genes(self) -> Sequence[Gene]:
        return self._genes

    def from_genes(self, values: Sequence[GeneValue]) -> Architecture:
        values = list(values)
        if len(values) != len(self._genes):
            raise ArchitectureError(f"chain_precision space expects {len(self._genes)} gene values, got {len(values)}")
        idx = [_index(v, g.size, g.name) for v, g in zip(values, self._genes)]
        tokens = []
        last = len(self.bits) - 1
        for i, choices in enumerate(self.layers):
            op = choices[idx[self._index[f"op_{i}"]]] if len(choices) > 1 else choices[0]
            if self.has_conv(i):
                kw, ka = self._index[f"w_{i}"], self._index[f"a_{i}"]
                if parse_function(op).kind == "conv":
                    tokens.append(f"{op}@w{self.bits[idx[kw]]}a{self.bits[idx[ka]]}")
                else:
                    idx[kw] = idx[ka] = last
                    tokens.append(op)
            else:
                tokens.append(op)
        return self._make(">".join(tokens), idx)

    def from_string(self, text: str) -> Architecture:
        parsed = parse_precision_chain(text)
        if len(parsed) != len(self.layers):
            raise ArchitectureError(
                f"chain_precision architecture {text!r} has {len(parsed)} positions, this space {len(self.layers)}"
            )
        genes: list[GeneValue] = [0] * len(self._genes)
        for i, ((name, wb, ab), choices) in enumerate(zip(parsed, self.layers)):
            if name not in choices:
                raise ArchitectureError(
                    f"chain_precision position {i}: {name!r} not allowed; choose one of {', '.join(choices)}"
                )
            if len(choices) > 1:
                genes[self._index[f"op_{i}"]] = choices.index(name)
            if wb is not None:
                for key, b in (("w", wb), ("a", ab)):
                    if b not in self.bits:
                        raise ArchitectureError(
                            f"chain_precision position {i}: {b} bits not allowed; choose one of "
                            f"{', '.join(map(str, self.bits))}"
                        )
                    genes[self._index[f"{key}_{i}"]] = self.bits.index(b)
        return self.from_genes(genes)

    def to_graph(self, arch: Architecture) -> LabelledDAG:
        self._check_space(arch)
        labels = ("input",) + tuple(arch.string.split(">")) + ("output",)
        return LabelledDAG(labels, tuple((i, i + 1) for i in range(len(labels) - 1)))

    def size(self) -> int:
        total = 1
        for i, choices in enumerate(self.layers):
            convs = sum(1 for n in choices if parse_function(n).kind == "conv")
            total *= convs * len(self.bits) ** 2 + (len(choices) - convs)
        return total

    # --- queries -------------------------------------------------------------------------------

    def uniform(self, arch: Architecture, bits: int) -> Architecture:
        """The same operations with every convolution at ``bits`` (the uniform-precision baseline)."""
        self._check_space(arch)
        tokens = [
            f"{name}@w{bits}a{bits}" if wb is not None else name
            for name, wb, _ in parse_precision_chain(arch.string)
        ]
        return self.from_string(">".join(tokens))

    def __repr__(self) -> str:
        return f"ChainPrecisionSpace(positions={len(self.layers)}, bits={self.bits}, head_bits={self.head_bits})"


def _layers(layers: Any) -> tuple[tuple[str, ...], ...]:
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or not layers:
        raise ConfigError(f"parameter layers of ChainPrecisionSpace must be a non-empty list of lists, got {layers!r}")
    out = []
    width = None  # channels after the previous position (None: the input's, unknown here)
    for i, choices in enumerate(layers):
        if isinstance(choices, str) or not isinstance(choices, Sequence) or not choices:
            raise ConfigError(f"parameter layers of ChainPrecisionSpace: position {i} must be a non-empty list, got {choices!r}")
        kinds = []
        for name in choices:
            try:
                kinds.append(parse_function(name))
            except ArchitectureError:
                raise ConfigError(
                    f"parameter layers of ChainPrecisionSpace: unknown function {name!r} at position {i}; "
                    "expected conv_<k>_<f>, max_pool, avg_pool or no_op"
                ) from None
        if any(k.kind in ("res", "res_proj") for k in kinds):
            raise ConfigError(f"parameter layers of ChainPrecisionSpace: position {i} has a residual block; not supported")
        convs = {k.filters for k in kinds if k.kind == "conv"}
        pools = [n for n in choices if n in POOLS]
        if pools and len(choices) > 1:
            raise ConfigError(f"parameter layers of ChainPrecisionSpace: position {i} mixes pooling with other ops; a pool stands alone")
        if len(convs) > 1:
            raise ConfigError(f"parameter layers of ChainPrecisionSpace: position {i} mixes filter counts {sorted(convs)}; one per position")
        if NO_OP in choices and (not convs or width != next(iter(convs))):
            raise ConfigError(
                f"parameter layers of ChainPrecisionSpace: no_op at position {i} needs convolutions keeping "
                "the previous position's channel count"
            )
        if convs:
            width = next(iter(convs))
        out.append(tuple(dict.fromkeys(choices)))
    if not any(parse_function(n).kind == "conv" for c in out for n in c):
        raise ConfigError("parameter layers of ChainPrecisionSpace needs at least one convolution")
    return tuple(out)


def _bits(bits: Any) -> tuple[int, ...]:
    ok = isinstance(bits, Sequence) and not isinstance(bits, str) and bits and all(
        isinstance(b, int) and not isinstance(b, bool) and b in (2, 4, 8, 16, 32) for b in bits
    )
    if not ok:
        raise ConfigError(f"parameter bits of ChainPrecisionSpace must be a list from 2, 4, 8, 16, 32, got {bits!r}")
    return tuple(sorted(set(bits)))


def _index(value: Any, size: int, gene: str) -> int:
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        raise ArchitectureError(f"chain_precision gene {gene} must be an index, got {value!r}") from None
    if not as_float.is_integer() or not 0 <= as_float < size:
        raise ArchitectureError(f"chain_precision gene {gene} must be an index in 0..{size - 1}, got {value!r}")
    return int(as_float)
