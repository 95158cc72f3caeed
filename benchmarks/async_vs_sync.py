"""Asynchronous vs generation-synchronous execution with heterogeneous trial durations.

NB201 trials (cifar10 table look-ups) sleep in proportion to the network's FLOPs, so big cells take
longer than small ones, as when training for real. The same study (random search, same seed, so the
same architectures) runs through the real study loop on a LocalPoolExecutor twice:
``sync=False`` (a freed worker takes the next trial at once) and ``sync=True`` (each generation of
``workers`` trials waits for its slowest member). Makespan = last trial end - first trial start
(worker start-up excluded). Target: async >= 35% less wall-clock (the Maggy thesis reports 33-58%).

    python benchmarks/async_vs_sync.py --seeds 3 --trials 80 --workers 4,8 --scale 2.0
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from nasforge.evaluators.base import Evaluator

RESULTS = Path(__file__).resolve().parent / "results" / "async_vs_sync.json"


class SleepyNB201(Evaluator):
    """NB201 look-up that then sleeps ``base + scale * flops / max_flops`` seconds."""

    name = "sleepy_nb201"

    def __init__(self, inner, scale: float, base: float, max_flops: float) -> None:
        self.inner, self.scale, self.base, self.max_flops = inner, scale, base, max_flops

    def prepare(self) -> None:
        self.inner.prepare()

    def evaluate(self, arch, fidelity, seed, context=None):
        metrics = self.inner.evaluate(arch, fidelity, seed)
        time.sleep(self.base + self.scale * metrics["flops_m"] / self.max_flops)
        return metrics


def run(mode_sync: bool, seed: int, trials: int, workers: int, scale: float, base: float, data):
    from nasforge.evaluators.tabular import NB201Tabular
    from nasforge.spaces.nb201 import NB201Space
    from nasforge.strategies.random import RandomSearch
    from nasforge.study import create_study
    from nasforge.study.pool import LocalPoolExecutor

    space = NB201Space()
    inner = NB201Tabular(space, dataset="cifar10", data_dir=data, hardware=False)
    max_flops = float(inner.column("flops_m").max()) if hasattr(inner, "column") else 220.0
    study = create_study(
        name=f"{'sync' if mode_sync else 'async'}-{seed}", space=space,
        strategy=RandomSearch(space, seed=seed), evaluator=SleepyNB201(inner, scale, base, max_flops),
        objectives=["valid_accuracy:max"], seed=seed,
        executor=LocalPoolExecutor(workers=workers, sync=mode_sync),
    )
    study.optimize(n_trials=trials)
    done = study.trials
    assert all(t.state.value == "COMPLETE" for t in done), [t.error for t in done if t.error]
    makespan = max(t.finished for t in done) - min(t.started for t in done)
    busy = sum(t.finished - t.started for t in done)
    nominal = [base + scale * t.metrics["flops_m"] / max_flops for t in done]  # in trial-number order
    return {"makespan_s": makespan, "trial_seconds": busy, "utilisation": busy / (workers * makespan),
            "archs": [t.arch for t in done], "ideal_s": ideal_makespan(nominal, workers, mode_sync)}


def ideal_makespan(durations: list[float], workers: int, sync: bool) -> float:
    """Makespan with zero overhead: generations of ``workers`` wait for their slowest member
    (sync), or each trial starts on the first worker to become free (async)."""
    if sync:
        return sum(max(durations[i:i + workers]) for i in range(0, len(durations), workers))
    free = [0.0] * workers
    for d in durations:
        i = free.index(min(free))
        free[i] += d
    return max(free)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=80)
    parser.add_argument("--workers", default="8", help="comma-separated worker counts, e.g. 4,8")
    parser.add_argument("--scale", type=float, default=2.0, help="seconds of sleep for the max-FLOPs cell")
    parser.add_argument("--base", type=float, default=0.05, help="seconds of sleep added to every trial")
    parser.add_argument("--data", default=None, help="benchmark data folder (default ../shared/data)")
    args = parser.parse_args()
    from nasforge.paths import data_file

    table = str(data_file("nb201/nb201_accuracy.csv.gz", args.data))
    rows = []
    worker_counts = [int(w) for w in str(args.workers).split(",")]
    for workers, seed in [(w, s) for w in worker_counts for s in range(args.seeds)]:
        a = run(False, seed, args.trials, workers, args.scale, args.base, args.data)
        s = run(True, seed, args.trials, workers, args.scale, args.base, args.data)
        assert sorted(a["archs"]) == sorted(s["archs"]), "both modes must evaluate the same architectures"
        rows.append({"workers": workers, "seed": seed, "async_s": a["makespan_s"], "sync_s": s["makespan_s"],
                     "ideal_saved": 1 - a["ideal_s"] / s["ideal_s"],
                     "saved": 1 - a["makespan_s"] / s["makespan_s"], "async_util": a["utilisation"],
                     "sync_util": s["utilisation"], "trial_seconds": a["trial_seconds"]})
    print(f"async vs generation-synchronous: NB201 cifar10 random search, {args.trials} trials, "
          f"{args.workers} workers, sleep = {args.base} s + {args.scale} s x FLOPs/max FLOPs; "
          f"seeds 0..{args.seeds - 1}; table {table}; load avg {os.getloadavg()[0]:.1f}")
    print("ideal saved = the same durations scheduled with zero overhead (the best async can do here)")
    print(f"{'workers':>7} {'seed':>4} {'sum trials [s]':>14} {'sync [s]':>9} {'async [s]':>10} "
          f"{'saved':>7} {'ideal saved':>11} {'util sync':>9} {'util async':>10}")
    for r in rows:
        print(f"{r['workers']:>7} {r['seed']:>4} {r['trial_seconds']:>14.2f} {r['sync_s']:>9.2f} "
              f"{r['async_s']:>10.2f} {r['saved']:>7.1%} {r['ideal_saved']:>11.1%} "
              f"{r['sync_util']:>9.1%} {r['async_util']:>10.1%}")
    mean_saved = {}
    for workers in worker_counts:
        saved = [r["saved"] for r in rows if r["workers"] == workers]
        mean_saved[workers] = sum(saved) / len(saved)
        print(f"{workers} workers: mean wall-clock saved by async {mean_saved[workers]:.1%} (target >= 35%)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "async_vs_sync", "args": vars(args), "table": table,
                                   "rows": rows, "mean_saved": mean_saved, "target": 0.35}, indent=2))


if __name__ == "__main__":
    main()
