"""Zero-cost proxies of an untrained network, computed as NASLib / zero-cost-nas define them.

Common setup (NASLib ``find_measures``): one mini-batch with its labels; a fresh copy of the
network per proxy; ``train()`` mode (BatchNorm uses batch statistics); per-layer arrays over the
weights of ``Conv1d/Conv2d/Linear`` layers only (biases excluded), summed to one score, except
``jacov`` and ``nwot`` which are scalars already. NaN / inf become the sentinel -1e8 (NASLib's
``ZeroCost.query``), and ``synflow`` is reported as ln(score) (-ln(-s) if negative, 0 stays 0).

- ``synflow``: BatchNorm off (identity), float64, every parameter replaced by its absolute value,
  one all-ones input of batch 1; R = sum of outputs; score = sum |theta * dR/dtheta|. No data.
- ``snip``: sum |W * dL/dW| for cross-entropy L on the batch (= |dL/dmask| of a ones mask).
- ``grad_norm``: sum over layers of the Frobenius norm of dL/dW.
- ``fisher``: per conv/linear output activation a with gradient g: 0.5 * mean over the batch of
  (sum over positions of a*g)^2, summed over channels and layers.
- ``jacov``: Jacobian of sum(logits) w.r.t. each input; eigenvalues of its n x n correlation
  matrix; score = -sum(ln(l + 1e-5) + 1/(l + 1e-5)) (<= -n by construction).
- ``nwot``: binary codes of the input of every ``nn.ReLU`` module; K = sum c c^T + (1-c)(1-c)^T;
  score = ln|det K|.

``params_m`` counts every parameter (millions); ``flops_m`` counts multiply-adds per example
(millions): convs and linears (incl. bias), pools kernel^2 per output, BatchNorm 2 per element
when affine, ReLU 1 per element. On NB201 cells ``params_m`` equals the table's ``params`` and
``flops_m`` its ``flops`` up to a constant of the fixed head (0.005 MFLOPs on CIFAR-10, 0.0015 on
ImageNet16-120: the counter behind the table treats global pooling / the classifier differently),
so rankings are identical.
"""

from __future__ import annotations

import copy
import math
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError

PROXIES = ("synflow", "jacov", "nwot", "snip", "grad_norm", "fisher", "params_m", "flops_m")
SENTINEL = -1e8
_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Linear)


def zero_cost_proxies(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    proxies: Sequence[str] = PROXIES,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
) -> dict[str, float]:
    """Every requested proxy of ``model`` (left untouched) on one batch ``inputs`` / ``targets``."""
    bad = [p for p in proxies if p not in PROXIES]
    if bad:
        raise ConfigError(f"unknown zero-cost proxies {bad}; allowed: {', '.join(PROXIES)}")
    loss_fn = loss_fn or nn.functional.cross_entropy
    out: dict[str, float] = {}
    for proxy in proxies:
        if proxy == "params_m":
            out[proxy] = sum(p.numel() for p in model.parameters()) / 1e6
            continue
        if proxy == "flops_m":
            out[proxy] = count_flops(model, tuple(inputs.shape[1:])) / 1e6
            continue
        net = copy.deepcopy(model)
        net.train()
        with torch.enable_grad():
            value = _FUNCTIONS[proxy](net, inputs, targets, loss_fn)
        out[proxy] = _finite(value, proxy)
    return out


def _finite(value: float, proxy: str) -> float:
    value = float(value)
    if not math.isfinite(value):
        return SENTINEL
    if proxy == "synflow":  # NASLib reports ln(synflow)
        return math.log(value) if value > 0 else (-math.log(-value) if value < 0 else 0.0)
    return value


def _weights(net: nn.Module) -> Iterable[nn.Module]:
    return (m for m in net.modules() if isinstance(m, _LAYERS))


def synflow(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss_fn) -> float:
    for module in net.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.forward = lambda x: x  # type: ignore[method-assign] # bn=False in NASLib
    net.double()
    with torch.no_grad():
        for p in net.state_dict().values():
            p.abs_()
    net.zero_grad()
    ones = torch.ones((1,) + tuple(inputs.shape[1:]), dtype=torch.float64)
    torch.sum(net(ones)).backward()
    return float(sum(float((m.weight.detach() * m.weight.grad).abs().sum()) for m in _weights(net) if m.weight.grad is not None))


def _loss_backward(net: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss_fn) -> None:
    net.zero_grad()
    loss_fn(net(inputs), targets).backward()


def snip(net, inputs, targets, loss_fn) -> float:
    _loss_backward(net, inputs, targets, loss_fn)
    return float(sum(float((m.weight.detach() * m.weight.grad).abs().sum()) for m in _weights(net) if m.weight.grad is not None))


def grad_norm(net, inputs, targets, loss_fn) -> float:
    _loss_backward(net, inputs, targets, loss_fn)
    return float(sum(float(m.weight.grad.norm()) for m in _weights(net) if m.weight.grad is not None))


def fisher(net, inputs, targets, loss_fn) -> float:
    total = [0.0]
    handles = []

    def capture(module, args, output):
        if output.requires_grad:
            def on_grad(grad, act=output.detach()):
                g_nk = (act * grad).sum(dim=tuple(range(2, act.dim()))) if act.dim() > 2 else act * grad
                total[0] += float(g_nk.pow(2).mean(0).mul(0.5).sum())
            output.register_hook(on_grad)

    for module in _weights(net):
        handles.append(module.register_forward_hook(capture))
    try:
        _loss_backward(net, inputs, targets, loss_fn)
    finally:
        for handle in handles:
            handle.remove()
    return total[0]


def jacov(net, inputs, targets, loss_fn) -> float:
    x = inputs.detach().clone().requires_grad_(True)
    net.zero_grad()
    y = net(x)
    y.backward(torch.ones_like(y))
    jacobian = x.grad.reshape(len(x), -1).double().numpy()
    with np.errstate(all="ignore"):
        corr = np.corrcoef(jacobian)
    if not np.isfinite(corr).all():
        return float("nan")
    eig = np.linalg.eigvalsh(corr)
    k = 1e-5
    return float(-np.sum(np.log(eig + k) + 1.0 / (eig + k)))


def nwot(net, inputs, targets, loss_fn) -> float:
    n = len(inputs)
    kernel = torch.zeros(n, n, dtype=torch.float64)
    handles = []

    def count(module, args):
        c = (args[0].detach().reshape(n, -1) > 0).double()
        kernel.add_(c @ c.t() + (1.0 - c) @ (1.0 - c).t())

    for module in net.modules():
        if isinstance(module, nn.ReLU):
            handles.append(module.register_forward_pre_hook(count))
    try:
        with torch.no_grad():
            net(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return float(np.linalg.slogdet(kernel.numpy())[1])


_FUNCTIONS = {"synflow": synflow, "snip": snip, "grad_norm": grad_norm, "fisher": fisher, "jacov": jacov, "nwot": nwot}


def count_flops(model: nn.Module, input_shape: Sequence[int]) -> float:
    """Multiply-adds for one example of ``input_shape`` under NAS-Bench-201's counting rules."""
    total = [0.0]

    def hook(module, args, output):
        if isinstance(module, (nn.Conv1d, nn.Conv2d)):
            positions = output[0, 0].numel()
            per = module.in_channels * module.out_channels * math.prod(module.kernel_size) / module.groups
            total[0] += positions * (per + (module.out_channels if module.bias is not None else 0))
        elif isinstance(module, nn.Linear):
            total[0] += module.in_features * module.out_features + (module.out_features if module.bias is not None else 0)
        elif isinstance(module, (nn.AvgPool1d, nn.AvgPool2d, nn.MaxPool1d, nn.MaxPool2d)):
            k = module.kernel_size
            total[0] += output[0].numel() * (math.prod(k) if isinstance(k, tuple) else k ** (output.dim() - 2))
        elif isinstance(module, nn.modules.batchnorm._BatchNorm):
            total[0] += output[0].numel() * (2 if module.affine else 1)
        elif isinstance(module, nn.ReLU):
            total[0] += output[0].numel()

    net = copy.deepcopy(model).eval()
    handles = [m.register_forward_hook(hook) for m in net.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            net(torch.zeros((1,) + tuple(input_shape)))
    finally:
        for handle in handles:
            handle.remove()
    return total[0]
