"""The Q-NAS chain space: a chain of up to ``max_nodes`` layers plus numeric training genes.

After Szwarcman, Civitarese and Vellasco, "Quantum-Inspired Neural Architecture Search" (IJCNN 2019)
and "Q-NAS Revisited" (BRACIS 2019): every node of the chain is one function from a function set
(conv-BN-ReLU blocks, residual blocks, 2x2 pooling, ``no_op``), and the network ends in a classifier
(global average pooling + linear). Q-NAS evolves the training hyper-parameters together with the
layers, so the space also carries learning rate, momentum, weight decay and optimizer genes.

Canonical form. ``no_op`` is the identity, so a chain with ``no_op`` nodes computes the same network
as the chain without them. The string therefore lists only the active nodes::

    conv_3_32>res_32>max_pool>conv_5_64|lr=0.01,mom=0.9,wd=0.0005,opt=sgd

and the canonical gene vector puts the active nodes first and the ``no_op`` nodes last. Any gene
vector is accepted by :meth:`ChainSpace.from_genes` (Q-NAS samples ``no_op`` anywhere) and mapped to
that canonical vector, so ``space.from_string(arch.string) == arch`` and ``validate`` accepts it.
Numeric genes are rounded to 4 significant digits (the string shows exactly the stored value).
A chain needs at least ``min_active`` (>= 1) non-``no_op`` nodes: a bare classifier is not a
network worth searching, and gene vectors with fewer active nodes raise ArchitectureError.

Pooling and input size. The space does not know the input size. The model builder skips a pooling
node when the spatial size is already below 2 (see :func:`pool_plan`), and
:meth:`ChainSpace.reductions` / :meth:`ChainSpace.skipped_reductions` let strategies penalise chains
that pool too often.

Functions: ``conv_<k>_<f>`` (conv kxk, f filters, 'same' padding, BN, ReLU), ``res_<f>`` (basic
residual block: two 3x3 conv-BN, identity shortcut -- a 1x1 projection is used only when the
incoming channel count differs from f, since an identity cannot change it), ``res_proj_<f>`` (the
same block, always with a 1x1 conv-BN projection shortcut), ``max_pool`` / ``avg_pool`` (2x2,
stride 2), ``no_op``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from ..architecture import Architecture, Categorical, Float, Gene, GeneValue, LabelledDAG
from ..errors import ArchitectureError, ConfigError
from ..options import Bool, Int, validated
from ..training.choices import OPTIMIZERS
from .base import SearchSpace

NO_OP = "no_op"
POOLS = ("max_pool", "avg_pool")
SIGNIFICANT_DIGITS = 4
#: gene names of the numeric genes, in gene order, with their short keys in the string
NUMERIC_KEYS: tuple[tuple[str, str], ...] = (
    ("lr", "lr"),
    ("momentum", "mom"),
    ("weight_decay", "wd"),
    ("optimizer", "opt"),
)
#: the keys (and the trainer's usual values) of the training hyper-parameters a chain can carry
DEFAULT_HPARAMS: dict[str, Any] = {
    "lr": 0.05,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "optimizer": "sgd",
}

#: Hand-designed baselines (members of the default ChainSpace) that benchmarks compare with.
#: ``digits``: a small VGG/LeNet-style CNN for the 8x8 scikit-learn digits (two conv pairs, each
#: followed by 2x2 max pooling: 8x8 -> 4x4 -> 2x2), trained with the common SGD recipe
#: (lr 0.05, momentum 0.9, weight decay 5e-4). ``mnist1d``: modelled on the ConvNet baseline of
#: Greydanus, "Scaling down deep learning" (MNIST-1D, 2020) -- three conv layers each halving the
#: 40-sample signal, trained with Adam lr 0.01 -- with the stride-2 convs written as conv + max
#: pool and a global-pooling classifier as the space requires. Neither is tuned on the test data.
HAND_DESIGNED: dict[str, str] = {
    "digits": "conv_3_32>conv_3_32>max_pool>conv_3_64>conv_3_64>max_pool"
    "|lr=0.05,mom=0.9,wd=0.0005,opt=sgd",
    "mnist1d": "conv_5_32>max_pool>conv_3_32>max_pool>conv_3_64>max_pool"
    "|lr=0.01,mom=0.9,wd=1e-05,opt=adam",
}

_FUNCTION = re.compile(r"^(?:conv_(\d+)_(\d+)|res_(\d+)|res_proj_(\d+)|max_pool|avg_pool|no_op)$")


@dataclass(frozen=True)
class ChainFunction:
    """A parsed function name: ``kind`` is conv, res, res_proj, max_pool, avg_pool or no_op."""

    kind: str
    kernel: Optional[int] = None
    filters: Optional[int] = None


def parse_function(name: str) -> ChainFunction:
    """Parse a function name such as ``conv_3_32``; ArchitectureError for unknown names."""
    match = _FUNCTION.match(name) if isinstance(name, str) else None
    if match is None:
        raise ArchitectureError(
            f"unknown chain function {name!r}; expected conv_<kernel>_<filters>, res_<filters>, "
            f"res_proj_<filters>, max_pool, avg_pool or no_op"
        )
    k, f, r, rp = match.groups()
    if k is not None:
        return ChainFunction("conv", int(k), int(f))
    if r is not None:
        return ChainFunction("res", filters=int(r))
    if rp is not None:
        return ChainFunction("res_proj", filters=int(rp))
    return ChainFunction(name)


def parse_chain(text: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Split a chain string into its active function names and its ``key=value`` training part.

    Torch builders use this directly (the chain string is self-describing); the space adds the
    membership checks. ``no_op`` tokens are accepted and dropped.
    """
    if not isinstance(text, str) or not text.strip():
        raise ArchitectureError(f"chain architecture must be a non-empty string, got {text!r}")
    chain_part, sep, numeric_part = text.strip().partition("|")
    tokens = [t.strip() for t in chain_part.split(">")] if chain_part.strip() else []
    functions = []
    for token in tokens:
        parse_function(token)
        if token != NO_OP:
            functions.append(token)
    values: dict[str, Any] = {}
    if sep:
        for item in numeric_part.split(","):
            key, eq, raw = item.partition("=")
            key, raw = key.strip(), raw.strip()
            if not eq or not key or not raw:
                raise ArchitectureError(
                    f"chain training part {numeric_part!r}: expected key=value, got {item!r}"
                )
            if key in values:
                raise ArchitectureError(f"chain training part {numeric_part!r}: {key!r} twice")
            values[key] = raw
    return tuple(functions), values


def pool_plan(functions: Sequence[str], spatial: Sequence[int]) -> list[bool]:
    """Which pooling nodes really pool (True) for an input of spatial size ``spatial``.

    A 2x2 stride-2 pool needs every spatial side >= 2; otherwise the builder skips it. One rule for
    builder and strategies keeps the penalty honest.
    """
    sizes = [int(s) for s in spatial]
    plan = []
    for name in functions:
        if name in POOLS:
            applies = min(sizes) >= 2
            plan.append(applies)
            if applies:
                sizes = [s // 2 for s in sizes]
    return plan


def round_significant(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``value`` rounded to ``digits`` significant digits (exactly what the string shows)."""
    return float(f"{value:.{digits}g}")


def _fmt(value: float) -> str:
    return f"{value:.{SIGNIFICANT_DIGITS}g}"


class ChainSpace(SearchSpace):
    """Chains of up to ``max_nodes`` functions plus (optionally) numeric training genes.

    Genes: ``node_0 .. node_{max_nodes-1}`` (Categorical over :attr:`functions`, ``no_op`` last),
    then, if ``numeric_genes``, ``lr`` (Float, log), ``momentum`` (Float), ``weight_decay``
    (Float, log) and ``optimizer`` (Categorical). ``functions`` overrides the generated function
    set (e.g. the exact set of a Q-NAS paper); ``no_op`` is always added.
    """

    name = "chain"

    options = {
        "max_nodes": Int(low=1),
        "min_active": Int(low=1),
        "include_residual": Bool(),
        "include_pooling": Bool(),
        "numeric_genes": Bool(),
    }

    @validated
    def __init__(
        self,
        max_nodes: int = 8,
        min_active: int = 1,
        filters: Sequence[int] = (16, 32, 64),
        kernels: Sequence[int] = (1, 3, 5),
        include_residual: bool = True,
        include_pooling: bool = True,
        functions: Optional[Sequence[str]] = None,
        numeric_genes: bool = True,
        lr: Sequence[float] = (1e-4, 1e-1),
        momentum: Sequence[float] = (0.0, 0.99),
        weight_decay: Sequence[float] = (1e-6, 1e-2),
        optimizers: Sequence[str] = OPTIMIZERS,
        default_hparams: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self.max_nodes = max_nodes
        self.min_active = min_active
        if self.min_active > self.max_nodes:
            raise ConfigError(
                f"parameter min_active of ChainSpace must be <= max_nodes ({self.max_nodes}), "
                f"got {min_active!r}"
            )
        self.filters = _int_tuple("filters", filters, odd=False)
        self.kernels = _int_tuple("kernels", kernels, odd=True)
        self.include_residual = include_residual
        self.include_pooling = include_pooling
        self.numeric_genes = numeric_genes
        if functions is None:
            names = [f"conv_{k}_{f}" for k in self.kernels for f in self.filters]
            if self.include_residual:
                names += [f"res_{f}" for f in self.filters]
                names += [f"res_proj_{f}" for f in self.filters]
            if self.include_pooling:
                names += list(POOLS)
        else:
            names = _function_list(functions)
        self.functions: tuple[str, ...] = tuple(n for n in names if n != NO_OP) + (NO_OP,)
        if len(self.functions) < 2:
            raise ConfigError(
                "parameter functions of ChainSpace must contain a function besides no_op, got none"
            )
        self.lr = _range("lr", lr, log=True)
        self.momentum = _range("momentum", momentum, log=False)
        self.weight_decay = _range("weight_decay", weight_decay, log=True)
        self.optimizers = _optimizers(optimizers)
        self.default_hparams = _default_hparams(default_hparams)
        self._genes = self._build_genes()

    def _build_genes(self) -> tuple[Gene, ...]:
        nodes: list[Gene] = [
            Categorical(f"node_{i}", self.functions) for i in range(self.max_nodes)
        ]
        if not self.numeric_genes:
            return tuple(nodes)
        return tuple(nodes) + (
            Float("lr", *self.lr, log=True),
            Float("momentum", *self.momentum),
            Float("weight_decay", *self.weight_decay, log=True),
            Categorical("optimizer", self.optimizers),
        )

    # --- SearchSpace ---------------------------------------------------------------------------

    def genes(self) -> Sequence[Gene]:
        return self._genes

    def from_genes(self, values: Sequence[GeneValue]) -> Architecture:
        values = list(values)
        if len(values) != len(self._genes):
            raise ArchitectureError(
                f"chain space expects {len(self._genes)} gene values, got {len(values)}"
            )
        no_op = len(self.functions) - 1
        nodes = [
            _index(v, len(self.functions), f"node_{i}")
            for i, v in enumerate(values[: self.max_nodes])
        ]
        active = [n for n in nodes if n != no_op]
        if len(active) < self.min_active:
            raise ArchitectureError(
                f"chain has {len(active)} active (non-no_op) nodes, "
                f"needs at least {self.min_active}"
            )
        canonical: list[GeneValue] = active + [no_op] * (self.max_nodes - len(active))
        string = ">".join(self.functions[n] for n in active)
        if self.numeric_genes:
            lr, mom, wd, opt = values[self.max_nodes :]
            numbers = [
                _number(lr, self.lr, "lr"),
                _number(mom, self.momentum, "momentum"),
                _number(wd, self.weight_decay, "weight_decay"),
            ]
            opt_index = _index(opt, len(self.optimizers), "optimizer")
            canonical += numbers + [opt_index]
            string += "|" + ",".join(
                [f"lr={_fmt(numbers[0])}", f"mom={_fmt(numbers[1])}", f"wd={_fmt(numbers[2])}"]
                + [f"opt={self.optimizers[opt_index]}"]
            )
        return self._make(string, canonical)

    def from_string(self, text: str) -> Architecture:
        functions, values = parse_chain(text)
        if len(functions) > self.max_nodes:
            raise ArchitectureError(
                f"chain {text!r} has {len(functions)} active nodes, "
                f"more than max_nodes={self.max_nodes}"
            )
        for name in functions:
            if name not in self.functions:
                raise ArchitectureError(
                    f"chain function {name!r} is not in this space; "
                    f"allowed: {', '.join(self.functions)}"
                )
        genes: list[GeneValue] = [self.functions.index(n) for n in functions]
        genes += [len(self.functions) - 1] * (self.max_nodes - len(functions))
        if not self.numeric_genes:
            if values:
                raise ArchitectureError(
                    f"chain {text!r} has a training part but this space has no numeric genes"
                )
            return self.from_genes(genes)
        short = [key for _, key in NUMERIC_KEYS]
        if set(values) != set(short):
            raise ArchitectureError(
                f"chain {text!r} training part must give exactly {', '.join(short)}, "
                f"got {', '.join(values) or 'none'}"
            )
        for key in ("lr", "mom", "wd"):
            try:
                genes.append(float(values[key]))
            except ValueError:
                raise ArchitectureError(
                    f"chain {text!r}: {key}={values[key]!r} is not a number"
                ) from None
        if values["opt"] not in self.optimizers:
            raise ArchitectureError(
                f"chain {text!r}: optimizer {values['opt']!r} not allowed; "
                f"choose one of {', '.join(self.optimizers)}"
            )
        genes.append(self.optimizers.index(values["opt"]))
        return self.from_genes(genes)

    def to_graph(self, arch: Architecture) -> LabelledDAG:
        """``input -> node ... -> output`` over the active nodes (training genes are left out)."""
        labels = ("input",) + self.layers(arch) + ("output",)
        return LabelledDAG(labels, tuple((i, i + 1) for i in range(len(labels) - 1)))

    def size(self) -> int | None:
        return None if self.numeric_genes else len(self.functions) ** self.max_nodes

    # --- chain-specific queries ----------------------------------------------------------------

    def layers(self, arch: Architecture) -> tuple[str, ...]:
        """The active function names, input to output."""
        self._check_space(arch)
        no_op = len(self.functions) - 1
        return tuple(self.functions[g] for g in arch.genes[: self.max_nodes] if g != no_op)

    def reductions(self, arch: Architecture) -> int:
        """Number of pooling nodes (each halves the spatial size if the input is large enough)."""
        return sum(1 for name in self.layers(arch) if name in POOLS)

    def skipped_reductions(self, arch: Architecture, spatial: Sequence[int]) -> int:
        """Pooling nodes the builder skips for inputs of spatial size ``spatial`` (e.g. (8, 8))."""
        return sum(1 for applies in pool_plan(self.layers(arch), spatial) if not applies)

    def training_hparams(self, arch: Architecture) -> dict[str, Any]:
        """``{"lr", "momentum", "weight_decay", "optimizer"}`` for the trainer.

        ``momentum`` is the SGD / RMSprop momentum (a trainer may use it as Adam's beta1).
        Without numeric genes only the ``default_hparams`` given to the space are returned, so
        the trainer's own settings apply to everything the user did not pin on the space.
        """
        self._check_space(arch)
        if not self.numeric_genes:
            return dict(self.default_hparams)
        lr, mom, wd, opt = arch.genes[self.max_nodes :]
        return {
            "lr": float(lr),
            "momentum": float(mom),
            "weight_decay": float(wd),
            "optimizer": self.optimizers[opt],
        }

    def hand_designed(self, name: str) -> Architecture:
        """A :data:`HAND_DESIGNED` baseline as a member of this space (ArchitectureError if not)."""
        if name not in HAND_DESIGNED:
            raise ConfigError(
                f"unknown hand-designed chain {name!r}; choose one of: {', '.join(HAND_DESIGNED)}"
            )
        text = HAND_DESIGNED[name]
        return self.from_string(text if self.numeric_genes else text.partition("|")[0])

    def __repr__(self) -> str:
        return (
            f"ChainSpace(max_nodes={self.max_nodes}, min_active={self.min_active}, "
            f"functions={len(self.functions)}, numeric_genes={self.numeric_genes})"
        )


# --- validation helpers ------------------------------------------------------------------------


def _int_tuple(name: str, values: Any, odd: bool) -> tuple[int, ...]:
    what = "odd integers >= 1" if odd else "integers >= 1"
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise ConfigError(
            f"parameter {name} of ChainSpace must be a non-empty list of {what}, got {values!r}"
        )
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or v < 1 or (odd and v % 2 == 0):
            raise ConfigError(
                f"parameter {name} of ChainSpace must be a non-empty list of {what}, got {values!r}"
            )
        if v not in out:
            out.append(v)
    return tuple(out)


def _function_list(values: Any) -> list[str]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise ConfigError(
            f"parameter functions of ChainSpace must be a non-empty list of names, got {values!r}"
        )
    out: list[str] = []
    for v in values:
        try:
            fn = parse_function(v)
        except ArchitectureError:
            raise ConfigError(
                f"parameter functions of ChainSpace has unknown function {v!r}; "
                f"expected conv_<k>_<f>, "
                f"res_<f>, res_proj_<f>, max_pool, avg_pool or no_op"
            ) from None
        if fn.kind == "conv" and (fn.kernel < 1 or fn.kernel % 2 == 0 or fn.filters < 1):
            raise ConfigError(
                f"parameter functions of ChainSpace: {v!r} needs an odd kernel and filters >= 1"
            )
        if fn.kind in ("res", "res_proj") and fn.filters < 1:
            raise ConfigError(f"parameter functions of ChainSpace: {v!r} needs filters >= 1")
        if v not in out:
            out.append(v)
    return out


def _range(name: str, values: Any, log: bool) -> tuple[float, float]:
    what = (
        f"a pair [low, high] with {'0 < ' if log else '0 <= '}low < high "
        f"of at most {SIGNIFICANT_DIGITS} significant digits"
    )
    try:
        low, high = (float(v) for v in values)
    except (TypeError, ValueError):
        message = f"parameter {name} of ChainSpace must be {what}, got {values!r}"
        raise ConfigError(message) from None
    finite = math.isfinite(low) and math.isfinite(high)
    ok = finite and (low > 0 if log else low >= 0) and low < high
    if not ok or round_significant(low) != low or round_significant(high) != high:
        raise ConfigError(f"parameter {name} of ChainSpace must be {what}, got {values!r}")
    return low, high


def _optimizers(values: Any) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence) or not values or any(
        v not in OPTIMIZERS for v in values
    ):
        raise ConfigError(
            f"parameter optimizers of ChainSpace must be a non-empty list from "
            f"{', '.join(OPTIMIZERS)}, got {values!r}"
        )
    return tuple(dict.fromkeys(values))


def _default_hparams(values: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if values is None:
        return out
    if not isinstance(values, Mapping) or set(values) - set(DEFAULT_HPARAMS):
        raise ConfigError(
            f"parameter default_hparams of ChainSpace must be a mapping with keys from "
            f"{', '.join(DEFAULT_HPARAMS)}, got {values!r}"
        )
    for key, value in values.items():
        if key == "optimizer":
            if value not in OPTIMIZERS:
                raise ConfigError(
                    f"parameter default_hparams of ChainSpace: optimizer must be one of "
                    f"{', '.join(OPTIMIZERS)}, got {value!r}"
                )
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ConfigError(
                f"parameter default_hparams of ChainSpace: {key} must be a number >= 0, "
                f"got {value!r}"
            )
        out[key] = value if key == "optimizer" else float(value)
    return out


def _index(value: Any, size: int, gene: str) -> int:
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        raise ArchitectureError(f"chain gene {gene} must be an index, got {value!r}") from None
    if not as_float.is_integer() or not 0 <= as_float < size:
        raise ArchitectureError(
            f"chain gene {gene} must be an index in 0..{size - 1}, got {value!r}"
        )
    return int(as_float)


def _number(value: Any, bounds: tuple[float, float], gene: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ArchitectureError(f"chain gene {gene} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ArchitectureError(f"chain gene {gene} must be finite, got {value!r}")
    number = round_significant(number)
    if not bounds[0] <= number <= bounds[1]:
        low, high = _fmt(bounds[0]), _fmt(bounds[1])
        raise ArchitectureError(f"chain gene {gene} must lie in [{low}, {high}], got {value!r}")
    return number
