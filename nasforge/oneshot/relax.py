"""The two relaxations of a categorical choice: DARTS (softmax) and GDAS (hard Gumbel-softmax).

DARTS (Liu et al., ICLR 2019) mixes every candidate with weights ``softmax(alpha)``. GDAS (Dong &
Yang, CVPR 2019; D-X-Y/AutoDL-Projects ``search_model_gdas.py``) samples one candidate per step:
``logits = (log_softmax(alpha) + Gumbel) / tau``, a one-hot of the argmax in the forward pass and
the softmax's gradient in the backward pass (straight-through), with ``tau`` annealed linearly from
10 to 0.1 over the search. Gumbel noise comes from the search's own seeded generator.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

RELAXATIONS = ("darts", "gdas")


def relax(alpha: torch.Tensor, relaxation: str, tau: float, generator: torch.Generator | None,
          training: bool) -> torch.Tensor:
    """Weights over the last axis of ``alpha``: soft (darts), hard one-hot with STE (gdas).

    Outside training GDAS returns the one-hot of the argmax (no noise), so evaluation is the
    derived architecture.
    """
    if relaxation == "darts":
        return F.softmax(alpha, dim=-1)
    if not training:
        return F.one_hot(alpha.argmax(-1), alpha.shape[-1]).to(alpha.dtype)
    uniform = torch.rand(alpha.shape, generator=generator).clamp_(1e-10, 1 - 1e-10)
    gumbel = -torch.log(-torch.log(uniform))
    soft = F.softmax((F.log_softmax(alpha, dim=-1) + gumbel) / tau, dim=-1)
    hard = F.one_hot(soft.argmax(-1), alpha.shape[-1]).to(soft.dtype)
    return hard - soft.detach() + soft


def temperature(epoch: int, epochs: int, tau_max: float, tau_min: float) -> float:
    """GDAS schedule: linear from ``tau_max`` (epoch 0) to ``tau_min`` (last epoch)."""
    if epochs <= 1:
        return tau_min
    return tau_max - (tau_max - tau_min) * epoch / (epochs - 1)


def mix(weights: torch.Tensor, outputs) -> torch.Tensor:
    """``sum_k w_k out_k``; ``outputs[k]`` is None where ``w_k`` is exactly zero (not computed).

    With a GDAS one-hot only the chosen candidate is run; the zero weights of the others are still
    added (value 0) so their alphas keep the straight-through gradient, as GDAS does.
    """
    total = None
    for w, out in zip(weights.unbind(0), outputs):
        term = w if out is None else w * out
        total = term if total is None else total + term
    return total
