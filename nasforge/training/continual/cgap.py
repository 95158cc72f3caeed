"""CGaP, continuous growth and pruning (Du, Li, Cao; arXiv 1905.11533), on conv chains.

Training starts from a narrow *seed* network (every conv at ``seed_frac`` of its target width).
During the first ``growth_horizon`` share of the epochs, every ``grow_every`` epochs each layer's
most salient filters (``grow_frac`` of its width, capped at the target width) are split in two
(Net2Net-style): the copy gets its parent's incoming weights plus a little noise, and both share
the parent's outgoing weights half and half, so the network computes the same function right
after the split. After training, each layer's least salient ``prune_frac`` of filters are
removed physically (channel surgery on the conv, its BatchNorm and the next layer), so the
result is an ordinary, smaller network, and it is fine-tuned. Growth and pruning both go through
one operation, :func:`remap_channels`: a split is a selection with repeats, a prune a subset.

The paper's exact saliency, growth rate and stop rule were not retrievable (see the research
notes); these details are ours: saliency is a filter's |W x dL/dW| sum (the group's PST code) on
a fresh gradient over the training set, growth stops at the horizon.
Supported networks: chain networks of ``conv_<k>_<f>`` blocks and pooling (residual blocks
would need their shortcuts remapped too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

from ...errors import ConfigError
from ..loop import Split
from ..tasks import TrainingTask
from .pst import accumulate_gradients, unit_scores


def conv_blocks(model: nn.Module) -> list[nn.Sequential]:
    """The conv-BN-ReLU blocks of a chain network, input to output; ConfigError otherwise."""
    blocks = []
    for layer in model.features:  # type: ignore[attr-defined]
        if isinstance(layer, nn.Sequential) and isinstance(layer[0], (nn.Conv1d, nn.Conv2d)):
            blocks.append(layer)
        elif not isinstance(layer, (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d)):
            raise ConfigError(
                f"CGaP grows and prunes chains of conv and pooling layers, got a {type(layer).__name__}")
    if not blocks:
        raise ConfigError("CGaP needs at least one conv layer in the chain")
    return blocks


def widths(model: nn.Module) -> list[int]:
    return [block[0].out_channels for block in conv_blocks(model)]


def remap_channels(model: nn.Module, layer: int, index: torch.Tensor, noise: float = 0.0,
                   generator: torch.Generator | None = None) -> None:
    """Make conv block ``layer`` output channels ``index`` of the old ones (repeats = splits).

    The next conv (or the classifier) takes the matching input channels, each divided by how
    often its source is repeated, which keeps the function unchanged. ``noise`` (times the
    weight's std) is added to the incoming weights of the second and later copies.
    """
    blocks = conv_blocks(model)
    conv, bn = blocks[layer][0], blocks[layer][1]
    index = index.to(torch.long)
    counts = torch.bincount(index, minlength=conv.out_channels).to(conv.weight.dtype)
    new_conv = type(conv)(conv.in_channels, len(index), conv.kernel_size, conv.stride, conv.padding,
                          bias=conv.bias is not None)
    with torch.no_grad():
        w = conv.weight[index].clone()
        if noise > 0:
            first = torch.zeros(len(index), dtype=torch.bool)
            seen: set[int] = set()
            for i, j in enumerate(index.tolist()):
                first[i] = j not in seen
                seen.add(j)
            jitter = torch.randn(w.shape, generator=generator) * (noise * float(conv.weight.std()))
            w[~first] += jitter[~first]
        new_conv.weight.copy_(w)
        if conv.bias is not None:
            new_conv.bias.copy_(conv.bias[index])
    new_bn = type(bn)(len(index))
    with torch.no_grad():
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(new_bn, name).copy_(getattr(bn, name)[index])
        new_bn.num_batches_tracked.copy_(bn.num_batches_tracked)
    new_bn.train(bn.training)
    blocks[layer][0], blocks[layer][1] = new_conv, new_bn
    scale = 1.0 / counts[index]
    if layer + 1 < len(blocks):
        nxt = blocks[layer + 1][0]
        new_next = type(nxt)(len(index), nxt.out_channels, nxt.kernel_size, nxt.stride, nxt.padding,
                             bias=nxt.bias is not None)
        with torch.no_grad():
            shape = (1, -1) + (1,) * (nxt.weight.dim() - 2)
            new_next.weight.copy_(nxt.weight[:, index] * scale.reshape(shape))
            if nxt.bias is not None:
                new_next.bias.copy_(nxt.bias)
        blocks[layer + 1][0] = new_next
    else:
        head = model.classifier  # type: ignore[attr-defined]
        new_head = nn.Linear(len(index), head.out_features)
        with torch.no_grad():
            new_head.weight.copy_(head.weight[:, index] * scale.reshape(1, -1))
            new_head.bias.copy_(head.bias)
        model.classifier = new_head  # type: ignore[attr-defined]


def saliency(model: nn.Module, train: Split, task: TrainingTask, score: str = "grad_w") -> list[torch.Tensor]:
    """Per conv block, one score per output filter (fresh gradients for gradient scores)."""
    if score != "abs_w":
        accumulate_gradients(model, train, task)
    out = [unit_scores(block[0], score).detach().clone() for block in conv_blocks(model)]
    model.zero_grad(set_to_none=True)
    return out


def grow(model: nn.Module, scores: Sequence[torch.Tensor], grow_frac: float, max_widths: Sequence[int],
         noise: float, generator: torch.Generator) -> int:
    """Split the top ``grow_frac`` filters of every layer (capped at ``max_widths``); returns how many."""
    added = 0
    for layer, (s, cap) in enumerate(zip(scores, max_widths)):
        width = len(s)
        k = min(cap - width, max(1, int(round(grow_frac * width))))
        if k <= 0:
            continue
        top = torch.topk(s, k).indices.sort().values
        remap_channels(model, layer, torch.cat([torch.arange(width), top]), noise, generator)
        added += k
    return added


def prune(model: nn.Module, scores: Sequence[torch.Tensor], prune_frac: float) -> int:
    """Remove each layer's least salient ``prune_frac`` of filters (at least one stays)."""
    removed = 0
    for layer, s in enumerate(scores):
        keep = max(1, len(s) - int(round(prune_frac * len(s))))
        if keep == len(s):
            continue
        kept = torch.topk(s, keep).indices.sort().values
        remap_channels(model, layer, kept)
        removed += len(s) - keep
    return removed


@dataclass
class GrowthPlan:
    """When to grow: every ``grow_every`` epochs while epoch < ``growth_horizon`` x epochs."""

    epochs: int
    grow_every: int = 2
    growth_horizon: float = 0.5

    def events(self) -> list[int]:
        """Epoch counts after which a growth event happens."""
        stop = self.growth_horizon * self.epochs
        return [e for e in range(self.grow_every, self.epochs, self.grow_every) if e < stop]


def chain_string(model: nn.Module, arch_string: str) -> str:
    """The chain architecture string of a grown / pruned network (same layers, current widths).

    ``build_chain`` of this string has exactly the model's parameter shapes, so the result of
    CGaP is an ordinary chain network that loads with ``load_state_dict``.
    """
    from ...spaces.chain import parse_function

    layers, _, hparams = arch_string.partition("|")
    sizes = iter(widths(model))
    out = []
    for name in layers.split(">"):
        fn = parse_function(name)
        out.append(f"conv_{fn.kernel}_{next(sizes)}" if fn.kind == "conv" else name)
    return ">".join(out) + (f"|{hparams}" if hparams else "")


def seed_string(arch_string: str, seed_frac: float) -> str:
    """The chain with every conv at ``seed_frac`` of its width (at least 1 filter)."""
    from ...spaces.chain import parse_function

    layers, _, hparams = arch_string.partition("|")
    out = []
    for name in layers.split(">"):
        fn = parse_function(name)
        if fn.kind in ("res", "res_proj"):
            raise ConfigError(f"CGaP grows and prunes chains of conv and pooling layers, got {name!r}")
        out.append(f"conv_{fn.kernel}_{max(1, int(round(fn.filters * seed_frac)))}" if fn.kind == "conv" else name)
    return ">".join(out) + (f"|{hparams}" if hparams else "")
