"""A local process pool that runs trials asynchronously and survives dying workers.

Why not ``concurrent.futures.ProcessPoolExecutor``: when one of its workers dies (os._exit,
segfault, SIGKILL) the whole pool is marked broken and every pending future fails. Here each worker
is a plain ``multiprocessing.Process`` with its own pipe, so a dead worker fails only the task it
held (with the exit code as the reason) and is replaced by a fresh process.

A worker takes one task at a time; as soon as it reports, the next queued task goes to it, so
trials of different lengths never wait for each other (unless ``sync=True`` asks for that).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_ready
from typing import Any

from ..errors import ConfigError, NasforgeError
from ..evaluators.base import Evaluator
from ..options import Bool, Choice, Float, Int, validated
from .executors import Executor, Outcome, Task, run_task

START_METHODS = ("spawn", "forkserver")
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _worker_main(conn: Connection, evaluator_bytes: bytes, threads: int, parent: int) -> None:
    """Worker process: serve tasks; exit quietly when the study process is gone."""
    _watch_parent(parent)
    try:
        _serve(conn, evaluator_bytes, threads)
    except (BrokenPipeError, EOFError, ConnectionError):
        pass  # the study process died while this worker was talking to it: nothing to report


def _serve(conn: Connection, evaluator_bytes: bytes, threads: int) -> None:
    """Load the evaluator once, then run tasks until told to stop (None)."""
    # Thread caps must be set before torch/numpy start their pools, i.e. before unpickling.
    for var in _THREAD_VARS:
        os.environ[var] = str(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        evaluator = pickle.loads(evaluator_bytes)
        evaluator.prepare()  # load tables/data once per worker, not inside the first trial's time
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which stops using workers
        conn.send(("init_error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        _cap_torch_threads(threads)
        outcome = run_task(evaluator, task)
        try:
            conn.send(("outcome", outcome))
        except (BrokenPipeError, ConnectionError):
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. metrics that do not pickle
            conn.send(("outcome", Outcome(task.number, None, f"result could not be sent: {exc}",
                                          outcome.started, outcome.finished)))


def _watch_parent(parent: int) -> None:
    """Exit at once when the study process dies (kill -9): never finish an orphaned trial."""
    import threading

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, name="nasforge-parent-watch", daemon=True).start()


def _cap_torch_threads(threads: int) -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


@dataclass
class _Worker:
    process: Any
    conn: Connection
    task: Task | None = None
    dispatched: float = 0.0
    #: has loaded the evaluator; tasks go only to ready workers, so a replacement's start-up
    #: never counts against ``trial_timeout``
    ready: bool = False


class LocalPoolExecutor(Executor):
    """``workers`` processes on this machine, each running one trial at a time.

    ``threads_per_worker`` caps torch/BLAS threads per worker so N workers do not oversubscribe
    the cores. ``start`` returns once every worker has loaded the evaluator (and run its
    ``prepare``), raising NasforgeError if one cannot, so trial timings exclude start-up.
    ``trial_timeout`` kills a worker whose trial runs longer (the trial fails with that reason).
    ``sync=True`` returns results only when every task in flight has finished
    (generation-synchronous execution, sorted by trial number, for comparisons and reproducibility).
    """

    name = "local"

    options = {
        "workers": Int(low=1),
        "threads_per_worker": Int(low=1),
        "start_method": Choice(*START_METHODS),
        "sync": Bool(),
        "startup_timeout": Float(low=0, low_open=True),
        "trial_timeout": Float(low=0, low_open=True, none=True),
    }

    @validated
    def __init__(
        self,
        workers: int = 1,
        threads_per_worker: int = 1,
        start_method: str = "spawn",
        sync: bool = False,
        startup_timeout: float = 300.0,
        trial_timeout: float | None = None,
    ) -> None:
        self.trial_timeout = None if trial_timeout is None else float(trial_timeout)
        self.workers = int(workers)
        self.threads_per_worker = int(threads_per_worker)
        self.start_method = start_method
        self.sync = sync
        self.startup_timeout = float(startup_timeout)
        self._context = mp.get_context(start_method)
        self._evaluator_bytes: bytes | None = None
        self._pool: list[_Worker] = []
        self._queue: deque[Task] = deque()
        self._ready: list[Outcome] = []
        self._broken: str | None = None
        self.replaced = 0  # how many dead workers were replaced (for reports and tests)
        self.gpu_of_worker: list[str | None] = []

    @property
    def capacity(self) -> int:
        return self.workers

    @property
    def synchronous(self) -> bool:
        return self.sync

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self, evaluator: Evaluator) -> None:
        if self._pool:
            raise RuntimeError("LocalPoolExecutor.start() called twice; call shutdown() first")
        try:
            self._evaluator_bytes = pickle.dumps(evaluator)
        except Exception as exc:  # noqa: BLE001 - lambdas, open files, locally defined classes ...
            raise ConfigError(
                f"the evaluator {type(evaluator).__name__} cannot be sent to worker processes "
                f"(it does not pickle: {exc}); keep paths and settings in it, load data lazily"
            ) from None
        from ..training.devices import pinned_gpus, visible_gpus

        self.gpu_of_worker = pinned_gpus(self.workers, visible_gpus())
        self._pool = [self._spawn(i) for i in range(self.workers)]
        self._await_ready()

    def _await_ready(self) -> None:
        """Block until every first-generation worker has loaded the evaluator.

        A broken evaluator (or data path) then fails here, before any trial, and trial timings
        do not include worker start-up. Replacement workers are not waited for.
        """
        for worker in self._pool:
            while True:
                handles = [worker.conn, worker.process.sentinel]
                ready = wait_ready(handles, timeout=self.startup_timeout)
                if not ready:
                    self.shutdown()
                    raise NasforgeError(
                        f"a worker did not load the evaluator within {self.startup_timeout:g} s"
                    )
                if worker.conn in ready or worker.conn.poll():
                    try:
                        kind, payload = worker.conn.recv()
                    except (EOFError, OSError):
                        kind, payload = "init_error", "the worker exited while starting"
                else:
                    code = worker.process.exitcode
                    kind, payload = "init_error", f"worker process died (exit code {code})"
                if kind == "ready":
                    worker.ready = True
                    break
                self.shutdown()
                raise NasforgeError(f"worker could not load the evaluator: {payload}")

    def shutdown(self) -> None:
        for worker in self._pool:
            try:
                worker.conn.send(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + 5.0
        for worker in self._pool:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1.0)
            worker.conn.close()
        self._pool = []
        self._queue.clear()

    # --- tasks -----------------------------------------------------------------------------------

    def submit(self, task: Task) -> None:
        if not self._pool and self._broken is None:
            raise RuntimeError("LocalPoolExecutor.submit() before start()")
        if self._broken is not None:
            self._ready.append(Outcome(task.number, None, self._broken, time.time(), time.time()))
            return
        self._queue.append(task)
        self._dispatch()

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            busy = [w for w in self._pool if w.task is not None]
            starting = [w for w in self._pool if not w.ready] if self._queue else []
            if self.sync:
                done = not busy and not self._queue
            else:
                done = bool(self._ready) or (not busy and not self._queue)
            if done or not (busy or starting):
                break
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            if self.trial_timeout is not None and busy:
                overdue = min(w.dispatched for w in busy) + self.trial_timeout - time.time()
                remaining = max(0.0, overdue if remaining is None else min(remaining, overdue))
            self._collect(busy + starting, remaining)
            self._kill_overdue()
        if self.sync and (self._queue or any(w.task is not None for w in self._pool)):
            return []  # timed out: a batch is returned whole or not at all
        outcomes, self._ready = self._ready, []
        return sorted(outcomes, key=lambda o: o.number) if self.sync else outcomes

    # --- internals -------------------------------------------------------------------------------

    def _spawn(self, index: int) -> _Worker:
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_worker_main,
            args=(child, self._evaluator_bytes, self.threads_per_worker, os.getpid()),
            daemon=True,
            name="nasforge-worker",
        )
        # with several GPUs visible, worker i sees only GPU i (mod count) as its cuda:0
        gpu = self.gpu_of_worker[index] if index < len(self.gpu_of_worker) else None
        saved = os.environ.get("CUDA_VISIBLE_DEVICES")
        try:
            if gpu is not None:
                os.environ["CUDA_VISIBLE_DEVICES"] = gpu
            process.start()  # the child copies the environment now
        finally:
            if gpu is not None:
                if saved is None:
                    os.environ.pop("CUDA_VISIBLE_DEVICES", None)
                else:
                    os.environ["CUDA_VISIBLE_DEVICES"] = saved
        child.close()
        return _Worker(process, parent)

    def _dispatch(self) -> None:
        for index in range(len(self._pool)):
            while self._queue and self._pool[index].ready and self._pool[index].task is None:
                worker = self._pool[index]
                task = self._queue.popleft()
                try:
                    worker.conn.send(task)
                except OSError:  # the idle worker died (killed from outside): replace it, retry
                    self._queue.appendleft(task)
                    worker.conn.close()
                    worker.process.join(1.0)
                    self._pool[index] = self._spawn(index)
                    self.replaced += 1
                    continue
                worker.task, worker.dispatched = task, time.time()

    def _collect(self, watched: list[_Worker], timeout: float | None) -> None:
        """Wait for a message or a death among busy or starting workers; handle all that is ready."""
        handles: dict[Any, _Worker] = {}
        for worker in watched:
            handles[worker.conn] = worker
            handles[worker.process.sentinel] = worker
        for handle in wait_ready(list(handles), timeout):
            worker = handles[handle]
            if worker.ready and worker.task is None:  # already handled through its other handle
                continue
            if worker not in self._pool:  # replaced through its other handle
                continue
            if handle is worker.conn or worker.conn.poll():
                self._receive(worker)
            elif not worker.ready:
                code = worker.process.exitcode
                self._fail_everything(f"a replacement worker died while starting (exit code {code})")
            else:
                self._bury(worker)
        self._dispatch()

    def _receive(self, worker: _Worker) -> None:
        try:
            kind, payload = worker.conn.recv()
        except (EOFError, OSError):
            self._bury(worker)
            return
        if kind == "ready":
            worker.ready = True
            return
        if kind == "init_error":
            self._fail_everything(f"worker could not load the evaluator: {payload}")
            return
        worker.task = None
        self._ready.append(payload)

    def cancel(self, numbers: list[int], reason: str) -> list[Outcome]:
        wanted = set(numbers)
        self._queue = deque(t for t in self._queue if t.number not in wanted)
        for worker in list(self._pool):
            if worker.task is not None and worker.task.number in wanted:
                worker.process.kill()
                self._bury(worker, reason)
        outcomes = [o for o in self._ready if o.number in wanted]
        self._ready = [o for o in self._ready if o.number not in wanted]
        queued = wanted - {o.number for o in outcomes}
        now = time.time()
        return outcomes + [Outcome(n, None, reason, now, now) for n in sorted(queued)]

    def _kill_overdue(self) -> None:
        if self.trial_timeout is None:
            return
        now = time.time()
        for worker in list(self._pool):
            if worker.task is not None and now - worker.dispatched > self.trial_timeout:
                worker.process.kill()
                reason = f"trial exceeded trial_timeout={self.trial_timeout:g} s; worker killed"
                self._bury(worker, reason)

    def _bury(self, worker: _Worker, reason: str | None = None) -> None:
        """The worker died holding a task: fail that task only and start a replacement."""
        worker.process.join(1.0)
        code = worker.process.exitcode
        task, worker.task = worker.task, None
        assert task is not None
        if reason is None:
            reason = f"worker process died (exit code {code})"
        if code is not None and code < 0 and "exit code" in reason:
            try:
                reason += f" [{signal.Signals(-code).name}]"
            except ValueError:
                pass
        self._ready.append(Outcome(task.number, None, reason, worker.dispatched, time.time()))
        worker.conn.close()
        index = self._pool.index(worker)
        self._pool[index] = self._spawn(index)
        self.replaced += 1

    def _fail_everything(self, reason: str) -> None:
        """The evaluator cannot be loaded in a worker: every task would fail the same way."""
        self._broken = reason
        now = time.time()
        for worker in self._pool:
            if worker.task is not None:
                task, worker.task = worker.task, None
                self._ready.append(Outcome(task.number, None, reason, worker.dispatched, now))
        while self._queue:
            self._ready.append(Outcome(self._queue.popleft().number, None, reason, now, now))
