"""The reduction space: smaller variants of one base CNN (ResNet, Wide-ResNet, or a user's).

After the general reduction scheme of Hübsch (2021) as sketched in ``wave2.md`` section 5: the base
network is a stack of stages, and a member keeps, per stage, the first ``depth`` blocks, scales the
stage's width (the residual stream) by ``width`` and the blocks' inner width (the first conv of each
block) by ``inner``; shortcut projections and the stem follow. The base itself is the member with
every gene at its maximum (:meth:`ReductionSpace.base`).

Why analytic costs: the point of the space is to reject candidates over a parameter / FLOP budget
*before* any training, so :meth:`ReductionSpace.cost` computes ``params_m`` and ``flops_m``
(millions of parameters, millions of multiply-adds at batch 1) from the layer plan in pure Python.
For a user's factory (``package.module:function(stage_widths, stage_depths, ...)``) the plan is
unknown, so the network is built once per gene vector on torch's meta device (no memory, no init)
and counted there.

Built-in bases (``base``): ``resnet20``/``resnet32``/``resnet56`` (He et al. CIFAR ResNets: stem 16,
stages 16/32/64 of (depth-2)/6 post-activation basic blocks, 1x1 projection shortcuts) and
``wrn16_<k>``/``wrn28_<k>`` (Zagoruyko & Komodakis: stages 16k/32k/64k of (depth-4)/6 pre-activation
blocks). ``input_shape`` (C, L) gives their 1-D counterparts (MNIST-1D), (C, H, W) the 2-D ones.

String: one ``d<depth>,w<width>,u<inner>`` group per stage, joined by ``/``, e.g.
``d3,w1,u1/d2,w0.5,u0.25/d1,w0.5,u0.5`` (``u`` is left out when the space has no inner genes).
"""

from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..architecture import Architecture, Categorical, Gene, GeneValue, Integer
from ..errors import ArchitectureError, ConfigError
from ..validation import check_int, is_integer
from .base import SearchSpace

DEFAULT_MULTIPLIERS = (0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 1.0)
_RESNET = re.compile(r"^resnet(\d+)$")
_WRN = re.compile(r"^wrn(\d+)_(\d+)$")
_GROUP = re.compile(r"^d(\d+),w([0-9.]+)(?:,u([0-9.]+))?$")
_FACTORY_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class Plan:
    """The concrete widths of one member: what builders and cost counters read."""

    stem: int
    widths: tuple[int, ...]
    inner: tuple[int, ...]
    depths: tuple[int, ...]
    strides: tuple[int, ...]
    preact: bool


@dataclass(frozen=True)
class BaseNetwork:
    """Stage description of a base: stem width, per-stage width / depth / stride, block style."""

    name: str
    stem: int
    widths: tuple[int, ...]
    depths: tuple[int, ...]
    strides: tuple[int, ...]
    preact: bool


def builtin_base(name: str) -> BaseNetwork:
    """``resnet<6n+2>`` or ``wrn<6n+4>_<k>``; ConfigError naming what is allowed otherwise."""
    allowed = "resnet20, resnet32, resnet56 (any resnet<6n+2>), wrn16_<k>, wrn28_<k> (any wrn<6n+4>_<k>)"
    text = str(name)
    match = _RESNET.match(text)
    if match and int(match.group(1)) >= 8 and (int(match.group(1)) - 2) % 6 == 0:
        n = (int(match.group(1)) - 2) // 6
        return BaseNetwork(text, 16, (16, 32, 64), (n,) * 3, (1, 2, 2), False)
    match = _WRN.match(text)
    if match and int(match.group(1)) >= 10 and (int(match.group(1)) - 4) % 6 == 0 and int(match.group(2)) >= 1:
        n, k = (int(match.group(1)) - 4) // 6, int(match.group(2))
        return BaseNetwork(text, 16, (16 * k, 32 * k, 64 * k), (n,) * 3, (1, 2, 2), True)
    raise ConfigError(f"unknown base network {name!r}; choose one of: {allowed}, or give a factory")


class ReductionSpace(SearchSpace):
    """Per-stage depth / width / inner-width genes relative to a base network.

    Options: ``base`` (built-in name, see module doc) or ``factory`` (``"package.module:function"``
    called as ``function(stage_widths=[...], stage_depths=[...], input_shape=..., num_classes=...)``
    plus ``inner_widths=[...]`` if it accepts that argument) with the base's ``stage_widths`` and
    ``stage_depths``; ``input_shape`` (C, L) or (C, H, W) and ``num_classes`` of the data;
    ``multipliers`` for width and inner width (must include 1.0); ``inner`` to search inner widths;
    ``min_depth`` blocks kept per stage; ``max_params_m`` / ``max_flops_m`` budgets (members over
    them raise ArchitectureError, so no strategy ever proposes them).
    """

    name = "reduction"

    def __init__(
        self,
        base: str | None = "resnet20",
        input_shape: Sequence[int] = (1, 40),
        num_classes: int = 10,
        multipliers: Sequence[float] = DEFAULT_MULTIPLIERS,
        inner: bool = True,
        min_depth: int = 1,
        max_params_m: float | None = None,
        max_flops_m: float | None = None,
        factory: str | None = None,
        stage_widths: Sequence[int] | None = None,
        stage_depths: Sequence[int] | None = None,
    ) -> None:
        self.input_shape = _shape(input_shape)
        self.num_classes = check_int("ReductionSpace", "num_classes", num_classes, 2)
        self.multipliers = _multipliers(multipliers)
        if not isinstance(inner, bool):
            raise ConfigError(f"parameter inner of ReductionSpace must be true or false, got {inner!r}")
        self.min_depth = check_int("ReductionSpace", "min_depth", min_depth, 1)
        self.max_params_m = _budget("max_params_m", max_params_m)
        self.max_flops_m = _budget("max_flops_m", max_flops_m)
        self.factory = factory
        if factory is not None:
            if not isinstance(factory, str) or ":" not in factory:
                raise ConfigError(
                    f"parameter factory of ReductionSpace must be 'package.module:function', got {factory!r}"
                )
            if stage_widths is None or stage_depths is None:
                raise ConfigError("a factory base needs stage_widths and stage_depths (the base network's)")
            widths, depths = _ints("stage_widths", stage_widths), _ints("stage_depths", stage_depths)
            if len(widths) != len(depths):
                raise ConfigError(
                    f"stage_widths and stage_depths of ReductionSpace must have equal lengths, got "
                    f"{len(widths)} and {len(depths)}"
                )
            self.base_network = BaseNetwork(factory, widths[0], widths, depths, (1,) * len(widths), False)
            accepts = inspect.signature(self._factory()).parameters
            self.inner = inner and "inner_widths" in accepts
        else:
            if stage_widths is not None or stage_depths is not None:
                raise ConfigError("stage_widths / stage_depths of ReductionSpace are for a factory base only")
            self.base_network = builtin_base(base if base is not None else "resnet20")
            self.inner = inner
        if self.min_depth > min(self.base_network.depths):
            raise ConfigError(
                f"parameter min_depth of ReductionSpace must be <= the smallest stage depth "
                f"({min(self.base_network.depths)}), got {min_depth!r}"
            )
        self._genes = self._build_genes()
        self._factory_costs: dict[tuple, dict[str, float]] = {}
        base_cost = self.cost_of_plan(self.plan_of(self._max_values()))
        self.base_params_m, self.base_flops_m = base_cost["params_m"], base_cost["flops_m"]

    # --- genes -----------------------------------------------------------------------------------

    @property
    def stages(self) -> int:
        return len(self.base_network.widths)

    def _build_genes(self) -> tuple[Gene, ...]:
        genes: list[Gene] = []
        for s, depth in enumerate(self.base_network.depths):
            genes.append(Integer(f"depth_{s}", self.min_depth, depth))
            genes.append(Categorical(f"width_{s}", self.multipliers))
            if self.inner:
                genes.append(Categorical(f"inner_{s}", self.multipliers))
        return tuple(genes)

    def _max_values(self) -> list[GeneValue]:
        top = len(self.multipliers) - 1
        return [g.high if isinstance(g, Integer) else top for g in self._genes]

    def genes(self) -> Sequence[Gene]:
        return self._genes

    def from_genes(self, values: Sequence[GeneValue]) -> Architecture:
        values = list(values)
        if len(values) != len(self._genes):
            raise ArchitectureError(f"reduction space expects {len(self._genes)} gene values, got {len(values)}")
        canonical: list[int] = []
        for gene, value in zip(self._genes, values):
            low, high = (gene.low, gene.high) if isinstance(gene, Integer) else (0, gene.size - 1)
            as_float = _as_float(value, gene.name)
            if not as_float.is_integer() or not low <= as_float <= high:
                raise ArchitectureError(f"reduction gene {gene.name} must be an integer in {low}..{high}, got {value!r}")
            canonical.append(int(as_float))
        if canonical != self._max_values():  # the base itself is the reference, never over budget
            self._check_budget(self.cost_of_plan(self.plan_of(canonical)), canonical)
        per = 3 if self.inner else 2
        groups = []
        for s in range(self.stages):
            d, w = canonical[per * s], self.multipliers[canonical[per * s + 1]]
            group = f"d{d},w{w:g}"
            if self.inner:
                group += f",u{self.multipliers[canonical[per * s + 2]]:g}"
            groups.append(group)
        return self._make("/".join(groups), canonical)

    def from_string(self, text: str) -> Architecture:
        if not isinstance(text, str) or not text.strip():
            raise ArchitectureError(f"reduction architecture must be a non-empty string, got {text!r}")
        groups = text.strip().split("/")
        if len(groups) != self.stages:
            raise ArchitectureError(
                f"reduction architecture {text!r} has {len(groups)} stages; the base has {self.stages} "
                "(write d<depth>,w<width>,u<inner> per stage, joined by '/')"
            )
        genes: list[int] = []
        for group in groups:
            match = _GROUP.match(group.strip())
            if match is None or (match.group(3) is None) == self.inner:
                form = "d<depth>,w<width>,u<inner>" if self.inner else "d<depth>,w<width>"
                raise ArchitectureError(f"stage {group!r} of {text!r} must look like {form}")
            genes.append(int(match.group(1)))
            genes.append(self._multiplier_index(match.group(2), text))
            if self.inner:
                genes.append(self._multiplier_index(match.group(3), text))
        return self.from_genes(genes)

    def _multiplier_index(self, raw: str, text: str) -> int:
        value = float(raw)
        for i, m in enumerate(self.multipliers):
            if math.isclose(m, value, rel_tol=1e-9):
                return i
        raise ArchitectureError(
            f"multiplier {raw} in {text!r} is not allowed; choose one of {', '.join(f'{m:g}' for m in self.multipliers)}"
        )

    # --- plan and cost ------------------------------------------------------------------------------

    def base(self) -> Architecture:
        """The base network itself (every gene at its maximum); exempt from the budget."""
        return self.from_genes(self._max_values())

    def plan(self, arch: Architecture) -> Plan:
        self._check_space(arch)
        return self.plan_of(arch.genes)

    def plan_of(self, values: Sequence[int]) -> Plan:
        net, per = self.base_network, (3 if self.inner else 2)
        depths, widths, inner = [], [], []
        for s in range(self.stages):
            depths.append(int(values[per * s]))
            widths.append(_scale(net.widths[s], self.multipliers[int(values[per * s + 1])]))
            u = self.multipliers[int(values[per * s + 2])] if self.inner else 1.0
            inner.append(_scale(net.widths[s], u))
        stem = _scale(net.stem, self.multipliers[int(values[1])])
        return Plan(stem, tuple(widths), tuple(inner), tuple(depths), net.strides, net.preact)

    def cost(self, arch: Architecture) -> dict[str, float]:
        """``params_m`` and ``flops_m`` (multiply-adds, batch 1), computed without training."""
        return self.cost_of_plan(self.plan(arch))

    def cost_of_plan(self, plan: Plan) -> dict[str, float]:
        if self.factory is not None:
            return self._factory_cost(plan)
        return resnet_cost(plan, self.input_shape, self.num_classes)

    def _check_budget(self, cost: dict[str, float], values: Sequence[int]) -> None:
        for key, limit in (("params_m", self.max_params_m), ("flops_m", self.max_flops_m)):
            if limit is not None and cost[key] > limit:
                raise ArchitectureError(
                    f"reduction genes {list(values)} give {key}={cost[key]:.4g}, over the budget {limit:g}"
                )

    # --- networks ---------------------------------------------------------------------------------

    def build(self, arch: Architecture, input_shape: Sequence[int] | None = None, num_classes: int | None = None):
        """The untrained torch network of ``arch`` (built-in ResNet / WRN, or the user's factory)."""
        plan = self.plan(arch)
        shape = self.input_shape if input_shape is None else tuple(input_shape)
        classes = self.num_classes if num_classes is None else int(num_classes)
        return self._build_plan(plan, shape, classes)

    def _build_plan(self, plan: Plan, input_shape: tuple[int, ...], num_classes: int):
        if self.factory is None:
            from ..models.resnet import ResNet

            return ResNet(plan, input_shape, num_classes)
        kwargs: dict[str, Any] = {
            "stage_widths": list(plan.widths), "stage_depths": list(plan.depths),
            "input_shape": tuple(input_shape), "num_classes": num_classes,
        }
        if self.inner:
            kwargs["inner_widths"] = list(plan.inner)
        return self._factory()(**kwargs)

    def _factory(self) -> Callable[..., Any]:
        from ..registry import load_object

        fn = load_object(self.factory)
        if not callable(fn):
            raise ConfigError(f"factory {self.factory!r} of ReductionSpace is not callable")
        return fn

    def _factory_cost(self, plan: Plan) -> dict[str, float]:
        key = (plan.widths, plan.inner, plan.depths)
        if key not in self._factory_costs:
            import torch

            from ..training.measure import count_flops

            with torch.device("meta"):
                model = self._build_plan(plan, self.input_shape, self.num_classes)
            params = sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6
            flops = count_flops(model, self.input_shape, device="meta")
            if len(self._factory_costs) >= _FACTORY_CACHE_LIMIT:
                self._factory_costs.clear()
            self._factory_costs[key] = {"params_m": params, "flops_m": flops}
        return dict(self._factory_costs[key])

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_factory_costs"] = {}
        return state

    def __repr__(self) -> str:
        what = f"factory={self.factory!r}" if self.factory else f"base={self.base_network.name!r}"
        return (f"ReductionSpace({what}, input_shape={self.input_shape}, num_classes={self.num_classes}, "
                f"inner={self.inner})")


def resnet_cost(plan: Plan, input_shape: Sequence[int], num_classes: int) -> dict[str, float]:
    """Parameters and multiply-adds of :class:`nasforge.models.resnet.ResNet` for ``plan``.

    Counts what the builder creates: bias-free convs, BN scale + shift (running statistics are
    buffers, not parameters) and the linear head; multiply-adds of convs and the head only (what
    torch's FlopCounterMode counts, halved), so the numbers equal the measured ones exactly.
    """
    channels, spatial = int(input_shape[0]), [int(s) for s in input_shape[1:]]
    kernel = 3 ** len(spatial)
    params = macs = 0

    def conv(c_in: int, c_out: int, k: int, stride: int) -> None:
        nonlocal params, macs, spatial
        spatial = [(s + 2 * (1 if k > 1 else 0) - (3 if k > 1 else 1)) // stride + 1 for s in spatial]
        params += c_in * c_out * k
        macs += c_in * c_out * k * math.prod(spatial)

    conv(channels, plan.stem, kernel, 1)
    if not plan.preact:
        params += 2 * plan.stem
    c_in = plan.stem
    for s, depth in enumerate(plan.depths):
        for b in range(depth):
            stride = plan.strides[s] if b == 0 else 1
            entry = list(spatial)
            if plan.preact:
                params += 2 * c_in
            conv(c_in, plan.inner[s], kernel, stride)
            params += 2 * plan.inner[s]
            conv(plan.inner[s], plan.widths[s], kernel, 1)
            if not plan.preact:
                params += 2 * plan.widths[s]
            if stride != 1 or c_in != plan.widths[s]:
                after, spatial = spatial, entry
                conv(c_in, plan.widths[s], 1, stride)
                spatial = after
                if not plan.preact:
                    params += 2 * plan.widths[s]
            c_in = plan.widths[s]
    if plan.preact:
        params += 2 * c_in
    params += c_in * num_classes + num_classes
    macs += c_in * num_classes
    return {"params_m": params / 1e6, "flops_m": macs / 1e6}


# --- option checks ---------------------------------------------------------------------------------


def _scale(width: int, multiplier: float) -> int:
    return max(1, int(round(width * multiplier)))


def _as_float(value: Any, gene: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ArchitectureError(f"reduction gene {gene} must be an integer, got {value!r}") from None
    if not math.isfinite(number):
        raise ArchitectureError(f"reduction gene {gene} must be finite, got {value!r}")
    return number


def _shape(value: Any) -> tuple[int, ...]:
    try:
        shape = tuple(value)
    except TypeError:
        shape = ()
    if len(shape) not in (2, 3) or not all(is_integer(s) and s >= 1 for s in shape):
        raise ConfigError(
            "parameter input_shape of ReductionSpace must be [channels, length] or "
            f"[channels, height, width] of positive integers, got {value!r}"
        )
    return tuple(int(s) for s in shape)


def _multipliers(values: Any) -> tuple[float, ...]:
    what = "a list of distinct numbers in (0, 1] that includes 1"
    try:
        out = tuple(sorted({float(v) for v in values}))
    except (TypeError, ValueError):
        raise ConfigError(f"parameter multipliers of ReductionSpace must be {what}, got {values!r}") from None
    if not out or out[-1] != 1.0 or out[0] <= 0 or any(isinstance(v, bool) for v in values):
        raise ConfigError(f"parameter multipliers of ReductionSpace must be {what}, got {values!r}")
    return out


def _budget(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"parameter {name} of ReductionSpace must be a number > 0 or null, got {value!r}")
    return float(value)


def _ints(name: str, values: Any) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values or not all(
        is_integer(v) and v >= 1 for v in values
    ):
        raise ConfigError(f"parameter {name} of ReductionSpace must be a non-empty list of integers >= 1, got {values!r}")
    return tuple(int(v) for v in values)
