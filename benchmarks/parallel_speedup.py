"""Parallel speedup: LocalPoolExecutor with 2 workers vs 1 on CPU-bound real trials.

Each trial trains a small MLP on sklearn's digits with torch (1 thread per worker) for a fixed
number of epochs. The same tasks run once with 1 worker and once with 2, side by side in one
process; the speedup is wall(1 worker) / wall(2 workers). Target >= 1.8x on a 2-core machine that is
otherwise idle. The machine is shared, so the 1-minute load average is printed together with the
cores the trials actually obtained: with Linux autogroup scheduling all processes of one session
share one CPU slice, so on a busy machine 2 workers get no more CPU than 1.

    python benchmarks/parallel_speedup.py --trials 8 --epochs 30 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from nasforge.architecture import Architecture
from nasforge.evaluators.base import Evaluator
from nasforge.study.executors import Task
from nasforge.study.pool import LocalPoolExecutor

RESULTS = Path(__file__).resolve().parent / "results" / "parallel_speedup.json"


class DigitsMLPEvaluator(Evaluator):
    """Trains an MLP whose hidden width is the architecture's gene; CPU-bound, single-threaded."""

    name = "digits_mlp"

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def evaluate(self, arch, fidelity, seed, context=None):
        import torch
        from sklearn.datasets import load_digits

        torch.set_num_threads(1)
        cpu_start = time.process_time()
        x, y = load_digits(return_X_y=True)
        x = torch.tensor(x / 16.0, dtype=torch.float32)
        y = torch.tensor(y)
        gen = torch.Generator().manual_seed(seed)
        width = int(arch.genes[0])
        torch.manual_seed(seed)
        model = torch.nn.Sequential(
            torch.nn.Linear(64, width), torch.nn.ReLU(), torch.nn.Linear(width, width),
            torch.nn.ReLU(), torch.nn.Linear(width, 10),
        )
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        for _ in range(self.epochs):
            order = torch.randperm(len(x), generator=gen)
            for start in range(0, len(x), 32):
                idx = order[start:start + 32]
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
                opt.step()
        with torch.no_grad():
            acc = (model(x).argmax(1) == y).float().mean().item()
        return {"train_accuracy": acc, "cpu_seconds": time.process_time() - cpu_start}


def run(workers: int, trials: int, epochs: int) -> tuple[float, float, float]:
    """Wall-clock of the timed tasks, the CPU seconds they consumed (all workers together), and
    the mean number of trials in progress (2.0 when both workers were always busy)."""
    tasks = [Task(i, Architecture("mlp", f"w{w}", (w,)), None, i)
             for i, w in enumerate([256] * trials)]
    with LocalPoolExecutor(workers=workers, threads_per_worker=1) as pool:
        pool.start(DigitsMLPEvaluator(epochs))
        # warm-up: one task per worker so process start and torch import are not timed
        for i in range(workers):
            pool.submit(Task(-1 - i, Architecture("mlp", "w8", (8,)), None, 0))
        got = 0
        while got < workers:
            got += len(pool.wait())
        begin = time.perf_counter()
        for task in tasks:
            pool.submit(task)
        outcomes = []
        while len(outcomes) < trials:
            outcomes.extend(pool.wait())
        wall = time.perf_counter() - begin
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes if o.error]
    in_progress = sum(o.finished - o.started for o in outcomes) / wall
    return wall, sum(o.metrics["cpu_seconds"] for o in outcomes), in_progress


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rows = []
    for repeat in range(args.repeats):
        wall1, cpu1, _ = run(1, args.trials, args.epochs)
        wall2, cpu2, concurrency = run(2, args.trials, args.epochs)
        rows.append({"repeat": repeat, "wall_1_worker_s": wall1, "wall_2_workers_s": wall2,
                     "speedup": wall1 / wall2, "cores_1_worker": cpu1 / wall1,
                     "cores_2_workers": cpu2 / wall2, "trials_in_progress_2w": concurrency})
    load_after = os.getloadavg()[0]
    speedups = [r["speedup"] for r in rows]
    print(f"parallel speedup: {args.trials} trials x {args.epochs} epochs of a 64-256-256-10 MLP on "
          f"sklearn digits (1797 samples), torch threads=1 per worker, cpu_count={os.cpu_count()}")
    print(f"load average (1 min) before {load_before:.2f}, after {load_after:.2f}")
    print("cores used = CPU seconds of the trials / wall-clock (1.0 per fully busy worker); "
          "in progress = mean number of trials running at once with 2 workers")
    print(f"{'repeat':>6} {'1 worker [s]':>13} {'2 workers [s]':>14} {'speedup':>8} "
          f"{'cores used 1w':>13} {'cores used 2w':>13} {'in progress 2w':>14}")
    for r in rows:
        print(f"{r['repeat']:>6} {r['wall_1_worker_s']:>13.2f} {r['wall_2_workers_s']:>14.2f} "
              f"{r['speedup']:>8.2f} {r['cores_1_worker']:>13.2f} {r['cores_2_workers']:>13.2f} "
              f"{r['trials_in_progress_2w']:>14.2f}")
    best = max(speedups)
    print(f"median speedup {statistics.median(speedups):.2f}, best {best:.2f} "
          f"(target >= 1.8)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "parallel_speedup", "trials": args.trials, "epochs": args.epochs,
        "repeats": args.repeats, "cpu_count": os.cpu_count(), "load_before": load_before,
        "load_after": load_after, "rows": rows, "target": 1.8,
    }, indent=2))


if __name__ == "__main__":
    main()
