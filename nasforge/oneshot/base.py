"""The OneShotSearch extension point, and differentiable search (DARTS / GDAS) on a supernet.

Search by training one weight-sharing supernet does not fit ask/tell over independent trials, so it
has its own base class: ``run(dataset, seed) -> architectures``. The derived architectures are then
trained as ordinary trials of a study (``nasforge.oneshot.study``), so store, report, resume and
export work as for every other method.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from typing import Any

from ..architecture import Architecture
from ..errors import ConfigError, TrialFailed
from ..validation import check_int

COSTS = ("bitops", "energy_pj", "weight_bits")
#: share of skip-capable choices whose argmax is a skip above which the search has collapsed
COLLAPSE_SHARE = 0.5


class OneShotSearch(ABC):
    """Trains something once and proposes a list of architectures of ``space``.

    ``run`` returns the architectures (most preferred first); ``report`` then holds what the
    search saw (per-epoch history, final choice probabilities, collapse check), JSON-ready.
    """

    name: str = "oneshot"

    def __init__(self, space: Any) -> None:
        self.space = space
        self.report: dict[str, Any] = {}

    @abstractmethod
    def run(self, dataset: Any, seed: int = 0) -> list[Architecture]:
        """Search on ``dataset`` (a nasforge Dataset) with ``seed``; the derived architectures."""


class DifferentiableSearch(OneShotSearch):
    """DARTS or GDAS on the space's supernet, with an optional hardware-cost penalty.

    Loss = cross-entropy + ``penalty`` x (expected cost / cost of the uniform initial supernet),
    the EdMIPS complexity loss made dimensionless so one penalty scale fits every network; the
    cost (``bitops``, ``energy_pj`` or ``weight_bits``) is an expectation under softmax(alpha), so
    its gradient reaches only the architecture parameters.

    Optimisation: weights by SGD (momentum, cosine schedule), architecture parameters by Adam with
    betas (0.5, 0.999) and weight decay 1e-3 (NNI / GDAS settings). ``bilevel`` (default) is
    first-order DARTS: the training split is halved, weights step on one half and alphas on the
    other; ``bilevel=False`` is EdMIPS's single level (both on the same batch). Alphas stay frozen
    for the first ``warmup`` fraction of epochs, so they are not steered by untrained weights.
    GDAS's temperature falls linearly from ``tau_max`` to ``tau_min`` over the epochs.
    """

    name = "differentiable"

    def __init__(
        self,
        space: Any,
        relaxation: str = "gdas",
        epochs: int = 10,
        batch_size: int = 64,
        lr: float = 0.05,
        momentum: float = 0.9,
        weight_decay: float = 5e-4,
        arch_lr: float = 3e-3,
        arch_weight_decay: float = 1e-3,
        tau_max: float = 10.0,
        tau_min: float = 0.1,
        warmup: float = 0.2,
        penalty: float = 0.0,
        cost: str = "bitops",
        top_k: int = 1,
        bilevel: bool = True,
        threads: int | None = 1,
        supernet_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(space)
        from .relax import RELAXATIONS

        if relaxation not in RELAXATIONS:
            raise ConfigError(f"parameter relaxation of DifferentiableSearch must be one of {', '.join(RELAXATIONS)}, got {relaxation!r}")
        if cost not in COSTS:
            raise ConfigError(f"parameter cost of DifferentiableSearch must be one of {', '.join(COSTS)}, got {cost!r}")
        self.relaxation, self.cost = relaxation, cost
        self.epochs = check_int("DifferentiableSearch", "epochs", epochs, 1)
        self.batch_size = check_int("DifferentiableSearch", "batch_size", batch_size, 2)
        self.top_k = check_int("DifferentiableSearch", "top_k", top_k, 1)
        self.threads = None if threads is None else check_int("DifferentiableSearch", "threads", threads, 1)
        for name, value in (("lr", lr), ("arch_lr", arch_lr), ("tau_max", tau_max), ("tau_min", tau_min)):
            _number(name, value, positive=True)
        for name, value in (("momentum", momentum), ("weight_decay", weight_decay),
                            ("arch_weight_decay", arch_weight_decay), ("penalty", penalty)):
            _number(name, value, positive=False)
        if not 0 <= warmup < 1:
            raise ConfigError(f"parameter warmup of DifferentiableSearch must be in [0, 1), got {warmup!r}")
        if tau_min > tau_max:
            raise ConfigError(f"parameter tau_min of DifferentiableSearch must be <= tau_max ({tau_max}), got {tau_min!r}")
        if not isinstance(bilevel, bool):
            raise ConfigError(f"parameter bilevel of DifferentiableSearch must be true or false, got {bilevel!r}")
        self.lr, self.momentum, self.weight_decay = float(lr), float(momentum), float(weight_decay)
        self.arch_lr, self.arch_weight_decay = float(arch_lr), float(arch_weight_decay)
        self.tau_max, self.tau_min, self.warmup = float(tau_max), float(tau_min), float(warmup)
        self.penalty, self.bilevel = float(penalty), bilevel
        self.supernet_options = dict(supernet_options or {})
        if self.penalty > 0 and space.name != "chain_precision":
            raise ConfigError(f"a cost penalty needs a space with a cost model (chain_precision), got {space.name!r}")
        self.supernet = None

    def config(self) -> dict[str, Any]:
        keys = ("relaxation", "epochs", "batch_size", "lr", "momentum", "weight_decay", "arch_lr",
                "arch_weight_decay", "tau_max", "tau_min", "warmup", "penalty", "cost", "top_k",
                "bilevel", "threads", "supernet_options")
        return {k: getattr(self, k) for k in keys}

    def run(self, dataset: Any, seed: int = 0) -> list[Architecture]:
        import torch

        from ..training.seeding import seeded_torch, torch_threads

        started = time.perf_counter()
        with torch_threads(self.threads), seeded_torch(int(seed)) as data_order:
            archs = self._search(dataset, data_order, torch)
        self.report["time_s"] = round(time.perf_counter() - started, 3)
        return archs

    def _search(self, dataset: Any, data_order: Any, torch: Any) -> list[Architecture]:
        from .relax import temperature
        from .supernet import build_supernet

        net = build_supernet(self.space, dataset.input_shape, dataset.num_classes, self.relaxation,
                             **self.supernet_options)
        self.supernet = net
        net.generator = torch.Generator().manual_seed(int(data_order.initial_seed()) + 7)
        x = torch.from_numpy(dataset.x_train)
        y = torch.from_numpy(dataset.y_train)
        order = torch.randperm(len(y), generator=data_order)
        if self.bilevel:
            half = len(y) // 2
            wx, wy, ax, ay = x[order[:half]], y[order[:half]], x[order[half:]], y[order[half:]]
        else:
            wx, wy, ax, ay = x, y, x, y
        w_opt = torch.optim.SGD(net.weight_parameters(), lr=self.lr, momentum=self.momentum,
                                weight_decay=self.weight_decay, nesterov=self.momentum > 0)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(w_opt, T_max=self.epochs)
        a_opt = torch.optim.Adam(net.arch_parameters(), lr=self.arch_lr, betas=(0.5, 0.999),
                                 weight_decay=self.arch_weight_decay)
        reference = None
        if self.penalty > 0:
            with torch.no_grad():
                reference = float(net.expected_cost()[self.cost])
        warm = int(math.floor(self.warmup * self.epochs))
        history = []
        for epoch in range(self.epochs):
            net.tau = temperature(epoch, self.epochs, self.tau_max, self.tau_min)
            net.train()
            perm_w = torch.randperm(len(wy), generator=data_order)
            perm_a = torch.randperm(len(ay), generator=data_order)
            loss_sum, correct, seen = 0.0, 0, 0
            steps = len(wy) // self.batch_size or 1
            for step in range(steps):
                idx = perm_w[step * self.batch_size:(step + 1) * self.batch_size]
                out = net(wx[idx])
                loss = torch.nn.functional.cross_entropy(out, wy[idx])
                w_opt.zero_grad(set_to_none=True)
                a_opt.zero_grad(set_to_none=True)
                if not self.bilevel and epoch >= warm:  # single level: one batch, both updates
                    loss = loss + self._penalty(net, reference)
                    loss.backward()
                    a_opt.step()
                else:
                    loss.backward()
                w_opt.step()
                loss_sum += float(loss.detach()) * len(idx)
                correct += int((out.argmax(1) == wy[idx]).sum())
                seen += len(idx)
                if self.bilevel and epoch >= warm:
                    start = (step * self.batch_size) % len(ay)
                    jdx = perm_a[start:start + self.batch_size]
                    a_loss = torch.nn.functional.cross_entropy(net(ax[jdx]), ay[jdx]) + self._penalty(net, reference)
                    w_opt.zero_grad(set_to_none=True)
                    a_opt.zero_grad(set_to_none=True)
                    a_loss.backward()
                    a_opt.step()
            schedule.step()
            if not math.isfinite(loss_sum):
                raise TrialFailed(f"supernet loss became {loss_sum} in epoch {epoch + 1}")
            record = {"epoch": epoch + 1, "tau": round(net.tau, 4), "train_loss": loss_sum / max(seen, 1),
                      "train_accuracy": 100.0 * correct / max(seen, 1), "arch_updates": epoch >= warm,
                      "argmax": net.derive(1)[0].string, "skip_share": net.skip_share()}
            cost = net.expected_cost()
            if cost is not None:
                record.update({f"expected_{k}": float(v.detach()) for k, v in cost.items()})
            history.append(record)
        archs = net.derive(self.top_k)
        share = net.skip_share()
        self.report = {
            "method": self.name, **self.config(), "cost_reference": reference,
            "derived": [a.string for a in archs], "probabilities": net.probabilities(),
            "skip_share": share, "collapsed": share is not None and share > COLLAPSE_SHARE,
            "history": history,
        }
        return archs

    def _penalty(self, net: Any, reference: float | None):
        if self.penalty == 0 or reference is None:
            return 0.0
        return self.penalty * net.expected_cost()[self.cost] / reference


def _number(name: str, value: Any, positive: bool) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (value <= 0 if positive else value < 0):
        bound = "> 0" if positive else ">= 0"
        raise ConfigError(f"parameter {name} of DifferentiableSearch must be a finite number {bound}, got {value!r}")
    return float(value)
