"""Graph-kernel BO in pool mode on the NAS-Bench-101 500-row sample, and the GP's ranking quality.

Part 1, search: every method searches the cells of the table (one per NB101 hash; the 500 rows
hold 292 distinct cells) through :class:`~nasforge.spaces.pool.PoolSpace`, maximising
``valid_accuracy`` (108 epochs, mean over the table's rows of a cell). We count the queries until
the pool's best cell is asked (the budget is the pool size, so every method finishes), per seed.

Part 2, surrogate quality: the GP (WL and GCN kernels, hyperparameters by marginal likelihood) is
fitted on n random cells and ranks the held-out rest; Kendall tau between posterior mean and the
truth, mean +- std over splits. The same on NB201 (CIFAR-10 valid, 1,000 held-out cells).

Usage: python benchmarks/bo_nb101.py [--seeds 20] [--methods bo_wl,bo_gcn,random,evolution]
       [--splits 10] [--train-sizes 25,50,100,150] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from scipy.stats import kendalltau  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nasforge.evaluators.nb101_tabular import NB101Tabular  # noqa: E402
from nasforge.evaluators.tabular import NB201Tabular  # noqa: E402
from nasforge.predictors.gcn import GCNKernel  # noqa: E402
from nasforge.predictors.gp import GraphGP  # noqa: E402
from nasforge.predictors.wl import WLKernel  # noqa: E402
from nasforge.registry import resolve  # noqa: E402
from nasforge.spaces.nb101 import NB101Space  # noqa: E402
from nasforge.spaces.nb201 import NB201Space  # noqa: E402
from nasforge.spaces.pool import PoolSpace  # noqa: E402

METHODS = {
    "bo_wl": ("bo", {"kernel": "wl"}),
    "bo_gcn": ("bo", {"kernel": "gcn"}),
    "bananas": ("bananas", {}),
    "random": ("random", {}),
    "evolution": ("evolution", {"population": 20, "sample_size": 5}),
}


def queries_to_best(method: str, space: PoolSpace, value: dict[str, float], seed: int) -> int:
    name, options = METHODS[method]
    strategy = resolve("strategy", name)(space, seed=seed, **options)
    target = max(value.values())
    for query in range(1, 10 * len(space) + 1):
        (arch,) = strategy.ask(1)
        v = value[space.identity(arch)]
        if v >= target:
            return query
        strategy.tell(arch, [v])
    raise RuntimeError(f"{method} never asked the pool's best")


def kendall(kernel_name: str, graphs: list, y: np.ndarray, n_train: int, splits: int, n_test: int | None) -> dict:
    taus, chosen = [], []
    for split in range(splits):
        order = np.random.default_rng(1000 + split).permutation(len(y))
        train, test = order[:n_train], order[n_train:] if n_test is None else order[n_train:n_train + n_test]
        kernel = WLKernel() if kernel_name == "wl" else GCNKernel(seed=split)
        gp = GraphGP(kernel).fit([graphs[i] for i in train], y[train])
        mean, _ = gp.predict([graphs[i] for i in test])
        taus.append(kendalltau(mean, y[test])[0])
        chosen.append(gp.fit_.theta)
    chosen_text = [int(t) if kernel_name == "wl" else round(float(t), 3) for t in chosen]
    return {"mean": float(np.mean(taus)), "std": float(np.std(taus, ddof=1)), "chosen": chosen_text}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--train-sizes", default="25,50,100,150")
    parser.add_argument("--data", default=None)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bo_nb101.json"))
    args = parser.parse_args(argv)
    seeds = list(range(args.seeds))
    methods = [m for m in args.methods.split(",") if m]
    train_sizes = [int(n) for n in args.train_sizes.split(",")]

    evaluator = NB101Tabular(NB101Space(), data_dir=args.data)
    pool = evaluator.pool()
    space = PoolSpace(evaluator.space, pool)
    value = {space.identity(a): evaluator.evaluate(a)["valid_accuracy"] for a in pool}

    search: dict[str, Any] = {}
    for method in methods:
        started = time.perf_counter()
        counts = np.array([queries_to_best(method, space, value, s) for s in seeds])
        search[method] = {
            "mean": float(counts.mean()), "std": float(counts.std(ddof=1)) if len(seeds) > 1 else 0.0,
            "median": float(np.median(counts)), "found_within_50": float((counts <= 50).mean()),
            "found_within_100": float((counts <= 100).mean()), "per_seed": counts.tolist(),
            "seconds": round(time.perf_counter() - started, 1),
        }  # fmt: skip
        print(f"  nb101 search {method:10s} {search[method]['seconds']:6.1f}s", file=sys.stderr, flush=True)

    tau: dict[str, Any] = {"nb101": {}, "nb201_cifar10": {}}
    graphs101 = [space.to_graph(a) for a in pool]
    y101 = np.array([value[space.identity(a)] for a in pool])
    nb201 = NB201Space()
    valid201 = np.asarray(NB201Tabular(nb201, "cifar10", data_dir=args.data, hardware=False).column("valid_accuracy", 200))
    cells201 = np.random.default_rng(7).permutation(len(valid201))[:1200]
    graphs201 = [nb201.to_graph(nb201.from_index(int(i))) for i in cells201]
    y201 = valid201[cells201]
    for kernel_name in ("wl", "gcn"):
        for n in train_sizes:
            tau["nb101"][f"{kernel_name}/n={n}"] = kendall(kernel_name, graphs101, y101, n, args.splits, None)
            tau["nb201_cifar10"][f"{kernel_name}/n={n}"] = kendall(kernel_name, graphs201, y201, n, args.splits, 1000)
        print(f"  kendall tau {kernel_name} done", file=sys.stderr, flush=True)

    report = {
        "benchmark": "bo_nb101",
        "data_file": str(evaluator.table_path()),
        "pool_size": len(pool),
        "pool_best_valid_accuracy": max(value.values()),
        "seeds": seeds,
        "search_queries_to_pool_best": search,
        "strategy_options": {m: METHODS[m][1] for m in methods},
        "kendall_tau": tau,
        "kendall_protocol": f"{args.splits} random splits; nb101: train n, test = rest of the {len(pool)}-cell pool; "
        "nb201: 1,200 random cells, train n, test 1,000 (cifar10-valid/200/valid)",
        "machine": f"{platform.platform()}, {os.cpu_count()} cores shared with other jobs",
    }
    print(f"\nNB101 pool mode ({len(pool)} cells from {report['data_file']}; best valid {report['pool_best_valid_accuracy']:.2f}): "
          f"queries until the pool's best is asked, over {len(seeds)} seeds")
    print(f"  {'method':10s} {'mean':>7s} {'std':>6s} {'median':>7s} {'<=50':>6s} {'<=100':>6s}")
    for method, row in search.items():
        print(f"  {method:10s} {row['mean']:7.1f} {row['std']:6.1f} {row['median']:7.1f} "
              f"{row['found_within_50']:6.2f} {row['found_within_100']:6.2f}")
    print(f"\nGP Kendall tau on held-out cells (mean ± std over {args.splits} splits)")
    for bench, rows in tau.items():
        print(f"  {bench}")
        for key, row in rows.items():
            print(f"    {key:12s} {row['mean']:.3f} ± {row['std']:.3f}   chosen: {row['chosen']}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(f"\nwritten: {args.out}")
    return report


if __name__ == "__main__":
    main()
