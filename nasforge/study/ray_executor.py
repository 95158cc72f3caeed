"""Run trials as Ray tasks: on this machine (``ray.init()``) or on an existing cluster.

Each trial is one Ray task with its own resource request (``cpus_per_trial``, ``gpus_per_trial``),
so on a cluster with GPUs trials land where a GPU is free. The evaluator is put in the object
store once and shared by every task. Ray restarts a task whose worker process died
(``max_retries``); by default once, after which the trial is FAILED with Ray's reason.
Ray is optional and imported only when this executor starts.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from typing import Any

from ..errors import ConfigError, require
from ..evaluators.base import Evaluator
from ..options import Bool, Float, Int, Map, Str, validated
from .executors import Executor, Outcome, Task, run_task
from .pool import _cap_torch_threads


def _evaluate(evaluator: Evaluator, task: Task) -> Outcome:
    """The Ray task body (module level so workers import it by reference)."""
    threads = int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
    if threads > 0:
        _cap_torch_threads(threads)
    return run_task(evaluator, task)


class RayExecutor(Executor):
    """``workers`` trials at once on a Ray cluster (a local one unless ``address`` is given).

    ``sync=True`` waits for every trial in flight before returning (batch-synchronous, results
    sorted by trial number), which reproduces the serial executor's results for strategies whose
    proposals do not depend on pending results (e.g. random search).
    ``trial_timeout`` cancels (force-kills) a trial's task once it has run that long; the trial
    fails with that reason.
    """

    name = "ray"

    options = {
        "workers": Int(low=1),
        "address": Str(none=True),
        "cpus_per_trial": Float(low=0),
        "gpus_per_trial": Float(low=0),
        "max_retries": Int(low=0),
        "sync": Bool(),
        "num_cpus": Int(low=1, none=True),
        "runtime_env": Map(none=True),
        "trial_timeout": Float(low=0, low_open=True, none=True),
    }

    @validated
    def __init__(
        self,
        workers: int = 1,
        address: str | None = None,
        cpus_per_trial: float = 1,
        gpus_per_trial: float = 0,
        max_retries: int = 1,
        sync: bool = False,
        num_cpus: int | None = None,
        runtime_env: dict[str, Any] | None = None,
        trial_timeout: float | None = None,
    ) -> None:
        owner = type(self).__name__
        self.trial_timeout = None if trial_timeout is None else float(trial_timeout)
        if address is not None and not address.strip():
            raise ConfigError(
                f"parameter address of {owner} must be a cluster address such as 'auto' or "
                f"'ray://host:10001', got {address!r}"
            )
        self.runtime_env = runtime_env
        self.workers = workers
        self.address = address
        self.cpus_per_trial = cpus_per_trial
        self.gpus_per_trial = gpus_per_trial
        self.max_retries = max_retries
        self.sync = sync
        self.num_cpus = num_cpus
        self._ray: Any = None
        self._owns_ray = False
        self._remote: Any = None
        self._evaluator_ref: Any = None
        self._pending: dict[Any, tuple[Task, float]] = {}

    @property
    def capacity(self) -> int:
        return self.workers

    @property
    def synchronous(self) -> bool:
        return self.sync

    def start(self, evaluator: Evaluator) -> None:
        ray = require("ray", "ray")
        self._ray = ray
        if not ray.is_initialized():
            self._init(ray)
            self._owns_ray = True
        self._check_resources(ray)
        self._remote = ray.remote(_evaluate).options(
            num_cpus=self.cpus_per_trial,
            num_gpus=self.gpus_per_trial,
            max_retries=self.max_retries,
            retry_exceptions=False,  # a crashing evaluator is a result; only lost workers retry
        )
        self._evaluator_ref = ray.put(evaluator)

    def check(self, timeout: float = 5.0) -> None:
        """Before a study is created: the cluster address answers, and a local cluster has the
        GPUs asked for (Ray would otherwise hang on a bad address or queue trials forever)."""
        if self.address is not None and self.address != "auto":
            host, port = _host_port(self.address)
            try:
                socket.create_connection((host, port), timeout=timeout).close()
            except OSError as exc:
                raise ConfigError(
                    f"parameter address of RayExecutor: no Ray cluster answers at {self.address!r} "
                    f"within {timeout:g} s ({exc.strerror or exc})"
                ) from None
        if self.address is None and self.gpus_per_trial > 0:
            have = _local_gpus()
            if have < self.gpus_per_trial:
                raise ConfigError(
                    f"each trial asks for {self.gpus_per_trial:g} GPU(s) but this machine has {have}; "
                    "lower gpus_per_trial or give the address of a cluster with GPUs"
                )

    def _check_resources(self, ray: Any) -> None:
        """A request no node can satisfy would wait forever; say so instead."""
        available = ray.cluster_resources()
        for key, need in (("CPU", self.cpus_per_trial), ("GPU", self.gpus_per_trial)):
            have = float(available.get(key, 0))
            if need > have:
                self.shutdown()
                raise ConfigError(
                    f"each trial asks for {need:g} {key}(s) but the Ray cluster has {have:g}; "
                    f"lower {key.lower()}s_per_trial or add nodes"
                )

    def _init(self, ray: Any) -> None:
        if self.address is not None:
            # on a cluster the code must reach the nodes: runtime_env={"working_dir": ...} or
            # {"py_modules": [...]}, unless nasforge and the user's modules are installed there
            ray.init(address=self.address, logging_level=logging.WARNING, log_to_driver=False,
                     runtime_env=self.runtime_env)
            return
        # Local cluster: just enough CPUs for the requested parallelism, no dashboard, the node
        # address on loopback (the agents Ray lets us place listen on 127.0.0.1 only; Ray 2.60's
        # own gRPC servers still listen on every interface: see docs on clusters), and the
        # driver's import path so evaluators defined in the user's modules import in workers.
        cpus = self.num_cpus or max(1, int(round(self.workers * max(self.cpus_per_trial, 1))))
        ray.init(
            num_cpus=cpus,
            num_gpus=None if self.gpus_per_trial else 0,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            logging_level=logging.WARNING,
            log_to_driver=False,
            runtime_env=self.runtime_env
            or {"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}},
        )

    def submit(self, task: Task) -> None:
        if self._remote is None:
            raise RuntimeError("RayExecutor.submit() before start()")
        ref = self._remote.remote(self._evaluator_ref, task)
        self._pending[ref] = (task, time.time())

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        if not self._pending:
            return []
        refs = list(self._pending)
        needed = len(refs) if self.sync else 1
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = None if deadline is None else max(0.0, deadline - time.monotonic())
            if self.trial_timeout is not None:
                first = min(submitted for _, submitted in self._pending.values())
                overdue = max(0.0, first + self.trial_timeout - time.time())
                step = overdue if step is None else min(step, overdue)
            ready, _ = self._ray.wait(refs, num_returns=needed, timeout=step)
            late = self._cancel_overdue()
            if late or len(ready) >= needed or (deadline is not None and time.monotonic() >= deadline):
                break
        if late:
            return late + [self._outcome(ref) for ref in ready if ref in self._pending]
        if self.sync and len(ready) < len(refs):
            return []  # timed out: a batch is returned whole or not at all
        if not self.sync and ready:
            ready, _ = self._ray.wait(refs, num_returns=len(refs), timeout=0)
        outcomes = [self._outcome(ref) for ref in ready]
        return sorted(outcomes, key=lambda o: o.number) if self.sync else outcomes

    def _cancel_overdue(self) -> list[Outcome]:
        if self.trial_timeout is None:
            return []
        now = time.time()
        late = [r for r, (_, submitted) in self._pending.items() if now - submitted > self.trial_timeout]
        reason = f"trial exceeded trial_timeout={self.trial_timeout:g} s; Ray task cancelled"
        return self._cancel_refs(late, reason)

    def cancel(self, numbers: list[int], reason: str) -> list[Outcome]:
        wanted = set(numbers)
        return self._cancel_refs([r for r, (t, _) in self._pending.items() if t.number in wanted], reason)

    def _cancel_refs(self, refs: list[Any], reason: str) -> list[Outcome]:
        outcomes = []
        for ref in refs:
            task, submitted = self._pending.pop(ref)
            self._ray.cancel(ref, force=True)
            outcomes.append(Outcome(task.number, None, reason, submitted, time.time()))
        return outcomes

    def _outcome(self, ref: Any) -> Outcome:
        task, submitted = self._pending.pop(ref)
        try:
            return self._ray.get(ref)
        except self._ray.exceptions.RayError as exc:
            reason = _first_line(exc)
            lost = isinstance(exc, self._ray.exceptions.WorkerCrashedError)
            if lost or "worker died" in reason.lower():
                retries = f"{self.max_retries} retr{'y' if self.max_retries == 1 else 'ies'}"
                reason = f"Ray worker died (after {retries}): {reason}"
            return Outcome(task.number, None, reason, submitted, time.time())

    def shutdown(self) -> None:
        if self._ray is None:
            return
        for ref in list(self._pending):
            self._ray.cancel(ref, force=True)
        self._pending.clear()
        if self._owns_ray:
            self._ray.shutdown()
        self._ray, self._owns_ray, self._remote, self._evaluator_ref = None, False, None, None


def _host_port(address: str) -> tuple[str, int]:
    """'ray://host:10001' or 'host:6379' -> (host, port); ConfigError if there is no port."""
    text = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ConfigError(
            f"parameter address of RayExecutor must be 'auto', 'host:port' or 'ray://host:port', "
            f"got {address!r}"
        )
    return host.strip("[]"), int(port)


def _local_gpus() -> int:
    """CUDA devices visible here (what a local Ray cluster would detect)."""
    try:
        import torch
    except ImportError:
        return 0
    return int(torch.cuda.device_count())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    for line in text.splitlines():
        if line.strip():
            return f"{type(exc).__name__}: {line.strip()}"
    return type(exc).__name__
