"""Weight-sharing supernets: the chain_precision chain and the NB201 cell.

A supernet holds every candidate's weights and one logit vector (``alpha``) per gene of its space,
named as the gene (``op_1``, ``w_3``, ``1<-0``), so derivation maps logits straight to genes.
Architecture parameters and weights are separate parameter groups with their own optimisers.
"""

from __future__ import annotations

import heapq
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..architecture import Architecture
from ..errors import ConfigError
from ..metrics.cost import fixed_layer_cost, layer_cost
from ..models.chain_precision import (
    _LAYERS,
    ConvGeometry,
    QuantHead,
    head_geometry,
    position_shapes,
)
from ..models.nb201 import ResidualReduction, make_op
from ..spaces.chain import NO_OP, parse_function, pool_plan
from ..spaces.nb201 import EDGE_NAMES, EDGES, OPS
from .quant import ActQuant, MixedQuantConv
from .relax import RELAXATIONS, mix, relax


class Supernet(nn.Module):
    """Common part: alphas, relaxation state, derivation, skip share."""

    #: op names that count as a skip connection for the collapse check
    skip_ops: tuple[str, ...] = ()

    def __init__(self, space: Any, relaxation: str, bits_relaxation: str = "darts") -> None:
        super().__init__()
        for name, value in (("relaxation", relaxation), ("bits_relaxation", bits_relaxation)):
            if value not in RELAXATIONS:
                raise ConfigError(f"{name} must be one of {', '.join(RELAXATIONS)}, got {value!r}")
        self.space = space
        self.relaxation = relaxation
        #: bit-width genes may use their own relaxation: the soft mixture trains every bit-width of
        #: the shared weight at each step (one convolution thanks to sharing), as Wu 2022 argues
        self.bits_relaxation = bits_relaxation
        self.tau = 10.0
        self.generator: torch.Generator | None = None
        self.alphas = nn.ParameterDict()
        self._genes = {g.name: g for g in space.genes()}

    def add_alpha(self, gene: str, size: int) -> None:
        # EdMIPS / DARTS: small equal logits, so the search starts from the uniform mixture
        self.alphas[gene.replace("<-", "_from_")] = nn.Parameter(torch.full((size,), 0.01))

    def alpha(self, gene: str) -> torch.Tensor:
        return self.alphas[gene.replace("<-", "_from_")]

    def weights(self, gene: str) -> torch.Tensor:
        kind = self.bits_relaxation if gene[:2] in ("w_", "a_") else self.relaxation
        return relax(self.alpha(gene), kind, self.tau, self.generator, self.training)

    def arch_parameters(self) -> list[nn.Parameter]:
        return list(self.alphas.values())

    def weight_parameters(self) -> list[nn.Parameter]:
        ids = {id(p) for p in self.alphas.values()}
        return [p for p in self.parameters() if id(p) not in ids]

    def probabilities(self) -> dict[str, list[float]]:
        """softmax(alpha) of every gene, for reports."""
        return {g: [round(float(p), 4) for p in F.softmax(self.alpha(g).detach(), -1)] for g in self._genes}

    def derive(self, k: int = 1) -> list[Architecture]:
        """The ``k`` most probable architectures under the independent per-gene softmaxes.

        Beam search over genes with beam ``k`` is exact here: the log-probability is a sum of
        independent per-gene terms. Architectures that canonicalise to the same string are merged.
        """
        names = [g.name for g in self.space.genes()]
        logp = [F.log_softmax(self.alpha(n).detach(), -1).tolist() for n in names]
        beam: list[tuple[float, tuple[int, ...]]] = [(0.0, ())]
        for row in logp:
            beam = heapq.nlargest(
                max(k, 1) * 4, ((s + lp, idx + (j,)) for s, idx in beam for j, lp in enumerate(row))
            )
        out: list[Architecture] = []
        for _, idx in beam:
            arch = self.space.from_genes(list(idx))
            if arch not in out:
                out.append(arch)
            if len(out) == k:
                break
        return out

    def skip_share(self) -> float | None:
        """Share of skip-capable genes whose argmax is a skip (None when no gene can skip)."""
        votes = []
        for name, gene in self._genes.items():
            skips = [i for i, c in enumerate(gene.choices) if c in self.skip_ops]
            if skips:
                votes.append(int(self.alpha(name).argmax()) in skips)
        return sum(votes) / len(votes) if votes else None

    def expected_cost(self) -> dict[str, torch.Tensor] | None:
        """Differentiable expected hardware cost (None when the supernet has no cost model)."""
        return None


class ChainSupernet(Supernet):
    """The chain_precision supernet: mixed op per position, bit mixtures per convolution.

    At a convolution position the input is quantised once for all candidates
    (``sum_j q_j Q_j(x)``), every candidate convolution mixes its quantised weights
    (``sum_i p_i Q_i(W)``) and runs once (``share=True``), or once per bit pair (``share=False``).
    """

    skip_ops = (NO_OP,)

    def __init__(self, space: Any, input_shape: Sequence[int], num_classes: int, relaxation: str = "gdas",
                 share: bool = True, bits_relaxation: str = "darts") -> None:
        super().__init__(space, relaxation, bits_relaxation)
        if len(input_shape) not in (2, 3):
            raise ConfigError(f"chain_precision supernets need (C, L) or (C, H, W) inputs, got {tuple(input_shape)!r}")
        dims = len(input_shape) - 1
        self.share = share
        self.bits = space.bits
        shapes = position_shapes(space.layers, input_shape)
        plan = iter(pool_plan([c[0] for c in space.layers], input_shape[1:]))
        self.positions = nn.ModuleList()
        self.spec: list[dict[str, Any]] = []
        seen_relu = False
        for i, (choices, (c_in, spatial)) in enumerate(zip(space.layers, shapes)):
            if len(choices) > 1:
                self.add_alpha(f"op_{i}", len(choices))
            first = parse_function(choices[0])
            if first.kind in ("max_pool", "avg_pool"):
                applies = next(plan)
                pool = _LAYERS[dims][2 if first.kind == "max_pool" else 3]
                self.positions.append(pool(2, stride=2) if applies else nn.Identity())
                self.spec.append({"kind": "pool"})
                continue
            self.add_alpha(f"w_{i}", len(self.bits))
            self.add_alpha(f"a_{i}", len(self.bits))
            convs, bns, geoms = nn.ModuleList(), nn.ModuleList(), []
            for name in choices:
                fn = parse_function(name)
                if fn.kind == "conv":
                    convs.append(MixedQuantConv(dims, c_in, fn.filters, fn.kernel, self.bits, share))
                    bns.append(_LAYERS[dims][1](fn.filters))
                    geoms.append(ConvGeometry(c_in, fn.filters, fn.kernel, spatial, dims))
                else:  # no_op: placeholders keep candidate indices aligned
                    convs.append(nn.Identity())
                    bns.append(nn.Identity())
                    geoms.append(None)
            module = nn.ModuleDict({"act": ActQuant(signed=not seen_relu), "convs": convs, "bns": bns})
            self.positions.append(module)
            self.spec.append({"kind": "conv", "index": i, "choices": choices, "geometry": geoms})
            seen_relu = True
        channels = shapes[-1][0]
        self.head = QuantHead(dims, channels, num_classes, space.head_bits)
        self.head_geometry = head_geometry(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, (module, spec) in enumerate(zip(self.positions, self.spec)):
            if spec["kind"] == "pool":
                x = module(x)
                continue
            pw, pa = self.weights(f"w_{i}"), self.weights(f"a_{i}")
            xq = module["act"].mixture(x, self.bits, pa) if self.share else None
            choices = spec["choices"]
            op_w = self.weights(f"op_{i}") if len(choices) > 1 else torch.ones(1)
            chosen = int(op_w.argmax()) if self.relaxation == "gdas" or not self.training else None
            outputs = []
            for k, name in enumerate(choices):
                if chosen is not None and k != chosen and float(op_w[k].detach()) == 0.0:
                    outputs.append(None)
                elif name == NO_OP:
                    outputs.append(x)
                else:
                    conv, bn = module["convs"][k], module["bns"][k]
                    outputs.append(F.relu(bn(conv(xq, pw, x, module["act"], pa))))
            x = mix(op_w, outputs)
        return self.head(x)

    def expected_cost(self) -> dict[str, torch.Tensor]:
        """Expected BitOps, weight bits and energy (pJ) under softmax(alpha) (differentiable)."""
        totals = {"bitops": 0.0, "weight_bits": 0.0, "energy_pj": 0.0}
        for i, spec in enumerate(self.spec):
            if spec["kind"] == "pool":
                continue
            pw, pa = F.softmax(self.alpha(f"w_{i}"), -1), F.softmax(self.alpha(f"a_{i}"), -1)
            choices = spec["choices"]
            p_op = F.softmax(self.alpha(f"op_{i}"), -1) if len(choices) > 1 else torch.ones(1)
            for k, geom in enumerate(spec["geometry"]):
                if geom is None:
                    continue
                cost = layer_cost(geom.macs, geom.params, geom.inputs, geom.fan_in, pw, pa, self.bits)
                for key in totals:
                    totals[key] = totals[key] + p_op[k] * cost[key]
        g, hb = self.head_geometry, self.space.head_bits
        head = fixed_layer_cost(g.macs, g.params, g.inputs, g.fan_in, hb, hb)
        return {key: totals[key] + head[key] for key in totals}


class NB201Supernet(Supernet):
    """The NB201 network with a mixed op on every edge; one alpha per edge shared by all cells
    (as in DARTS / GDAS on NAS-Bench-201)."""

    skip_ops = ("skip_connect",)

    def __init__(self, space: Any, input_shape: Sequence[int], num_classes: int, relaxation: str = "gdas",
                 C: int = 8, N: int = 1) -> None:
        super().__init__(space, relaxation)
        if len(input_shape) != 3:
            raise ConfigError(f"nb201 supernets need image inputs (C, H, W), got {tuple(input_shape)!r}")
        for edge in EDGE_NAMES:
            self.add_alpha(edge, len(OPS))
        self.stem = nn.Sequential(nn.Conv2d(input_shape[0], C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        layers: list[nn.Module] = []
        channels = C
        for stage, width in enumerate((C, 2 * C, 4 * C)):
            if stage > 0:
                layers.append(ResidualReduction(channels, width))
                channels = width
            for _ in range(N):
                layers.append(nn.ModuleList(
                    nn.ModuleList(make_op(op, channels) for op in OPS) for _ in EDGES
                ))
        self.cells = nn.ModuleList(layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU())
        self.classifier = nn.Linear(channels, num_classes)

    def _cell(self, edges: nn.ModuleList, x: torch.Tensor, weights: list[torch.Tensor]) -> torch.Tensor:
        nodes = [x]
        for target in (1, 2, 3):
            total = None
            for e, (dst, src) in enumerate(EDGES):
                if dst != target:
                    continue
                w = weights[e]
                chosen = int(w.argmax()) if self.relaxation == "gdas" or not self.training else None
                outs = [
                    None if chosen is not None and k != chosen and float(w[k].detach()) == 0.0 else op(nodes[src])
                    for k, op in enumerate(edges[e])
                ]
                term = mix(w, outs)
                total = term if total is None else total + term
            nodes.append(total)
        return nodes[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = [self.weights(edge) for edge in EDGE_NAMES]  # one sample per step, shared by cells
        x = self.stem(x)
        for layer in self.cells:
            x = self._cell(layer, x, weights) if isinstance(layer, nn.ModuleList) else layer(x)
        x = self.lastact(x).mean(dim=(2, 3))
        return self.classifier(x)


def build_supernet(space: Any, input_shape: Sequence[int], num_classes: int, relaxation: str,
                   **options: Any) -> Supernet:
    """The supernet of ``space`` (chain_precision or nb201)."""
    if space.name == "chain_precision":
        return ChainSupernet(space, input_shape, num_classes, relaxation, **options)
    if space.name == "nb201":
        return NB201Supernet(space, input_shape, num_classes, relaxation, **options)
    raise ConfigError(f"no supernet for space {space.name!r}; one-shot search supports chain_precision and nb201")
