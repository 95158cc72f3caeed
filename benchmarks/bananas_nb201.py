"""Predictor-guided search (``bananas``) beside BO-GCN on NAS-Bench-201, plus the cost of an ask.

Protocol: benchmarks/nb201_search.py's (search on validation after 200 epochs, report the test
accuracy of the best-by-validation cell after B queries, mean +- sample std over seeds; every ask
is a query), both methods in this one process on the same seeds. Also reported: on each dataset,
the share of runs whose best-by-validation cell is the table's best-by-validation cell after B
queries, and the wall time of one ask with 300 observations (median of 5 asks, 3 seeds).

Usage: python benchmarks/bananas_nb201.py [--seeds 10] [--budgets 50,100,150]
       [--datasets cifar10,cifar100,ImageNet16-120] [--bananas-options JSON] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
from _common import print_table, uptime, write_json  # noqa: E402
from nb201_search import PROTOCOL, run_protocol  # noqa: E402

from nasforge.evaluators.tabular import ACCURACY_FILE, NB201Tabular  # noqa: E402
from nasforge.objectives import Objective  # noqa: E402
from nasforge.paths import data_file  # noqa: E402
from nasforge.registry import resolve  # noqa: E402
from nasforge.spaces.nb201 import NB201Space  # noqa: E402

BO_GCN = {"kernel": "gcn", "n_init": 10, "pool_size": 200, "top_k": 10, "acquisition": "ei", "target_transform": "yeo-johnson"}


def run(name: str, options: dict, space, valid, test, seed: int, budget: int, hits: list) -> list:
    strategy = resolve("strategy", name)(space, seed=seed, objectives=[Objective("valid_accuracy", "max")], **options)
    best_valid, best_test, trajectory, found = -np.inf, np.nan, [], []
    top = float(valid.max())
    while len(trajectory) < budget:
        for arch in strategy.ask(1):
            value = float(valid[space.index(arch)])
            strategy.tell(arch, [value])
            if value > best_valid:
                best_valid, best_test = value, float(test[space.index(arch)])
            trajectory.append(best_test)
            found.append(best_valid >= top)
    hits.append(found)
    return trajectory


def ask_cost(name: str, options: dict, space, valid, n_obs: int = 300, seeds=(0, 1, 2)) -> float:
    times = []
    for seed in seeds:
        strategy = resolve("strategy", name)(space, seed=seed, **options)
        rng = np.random.default_rng(seed)
        for _ in range(n_obs):
            arch = space.sample(rng)
            strategy.tell(arch, [float(valid[space.index(arch)])])
        for _ in range(5):
            started = time.perf_counter()
            arch = strategy.ask(1)[0]
            times.append(time.perf_counter() - started)
            strategy.tell(arch, [float(valid[space.index(arch)])])
    return float(np.median(times) * 1000)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--budgets", default="50,100,150")
    parser.add_argument("--datasets", default="cifar10,cifar100,ImageNet16-120")
    parser.add_argument("--bananas-options", default="{}")
    parser.add_argument("--data", default=None)
    parser.add_argument("--ask-observations", type=int, default=300, help="0 skips the ask-cost measurement")
    parser.add_argument("--name", default="bananas_nb201", help="results file name (benchmarks/results/NAME.json)")
    args = parser.parse_args(argv)
    budgets = sorted(int(b) for b in args.budgets.split(","))
    datasets = [d for d in args.datasets.split(",") if d]
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    methods = {"bananas": ("bananas", json.loads(args.bananas_options)), "bo_gcn": ("bo", BO_GCN)}
    hits: dict[str, dict[str, list]] = {d: {m: [] for m in methods} for d in datasets}

    def runner(method: str):
        name, options = methods[method]

        def go(space, valid, test, seed, budget):
            dataset = next(d for d in datasets if len(hits[d][method]) < len(seeds))  # run_protocol's order
            return run(name, options, space, valid, test, seed, budget, hits[dataset][method])
        return go

    results, seconds = run_protocol({m: runner(m) for m in methods}, datasets, seeds, budgets, args.data)
    found = {d: {m: {str(b): float(np.mean([h[b - 1] for h in hits[d][m]])) for b in budgets} for m in methods} for d in datasets}
    space = NB201Space()
    valid = NB201Tabular(space, "cifar10", data_dir=args.data, hardware=False).column("valid_accuracy", 200)
    cost = {m: ask_cost(name, options, space, valid, args.ask_observations) for m, (name, options) in methods.items()} \
        if args.ask_observations else {}  # fmt: skip

    print(f"\nNAS-Bench-201: test accuracy (%) of the best-by-validation cell, mean ± std over {len(seeds)} seeds "
          f"({seeds[0]}..{seeds[-1]}); 'found' = share of runs holding the table's best-by-validation cell")
    rows = []
    for d in datasets:
        for m in methods:
            rows.append([d, m] + [f"{results[d][m][str(b)]['mean']:.2f} ± {results[d][m][str(b)]['std']:.2f}" for b in budgets]
                        + [" / ".join(f"{found[d][m][str(b)]:.2f}" for b in budgets)])  # fmt: skip
    print_table(["dataset", "method"] + [f"{b} queries" for b in budgets] + ["found@" + "/".join(map(str, budgets))], rows)
    print(f"\nms per ask with {args.ask_observations} observations (median, 3 seeds x 5 asks, CIFAR-10): "
          + ", ".join(f"{m} {v:.0f}" for m, v in cost.items()))
    return write_json(args.name, {
        "protocol": PROTOCOL, "data_file": str(data_file(ACCURACY_FILE, args.data)), "seeds": seeds,
        "budgets": budgets, "options": {m: o for m, (_, o) in methods.items()}, "results": results,
        "found_best_valid": found, "ms_per_ask_at_300": cost, "seconds": seconds, "uptime": uptime(),
    })  # fmt: skip


if __name__ == "__main__":
    main()
