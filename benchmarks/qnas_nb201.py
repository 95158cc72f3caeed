"""Q-NAS on NAS-Bench-201 beside random search, regularized evolution and local search.

Protocol (issue 4, the foundation benchmark's): search on the validation accuracy of the 200-epoch
table, report the test accuracy of the best-by-validation architecture after 50/100/150/300 queries,
mean +- std over seeds. ``cifar10`` searches on ``cifar10-valid/200/valid`` and reports
``cifar10/200/test`` (the usual NB201 protocol; the nasforge tabular evaluator's ``cifar10``);
``cifar100`` and ``ImageNet16-120`` use their own valid / test columns. A query is one
``evaluate`` call on the tabular evaluator; duplicates count (strategies that avoid them gain).

Every method runs a plain ``ask(1)`` / ``tell`` loop against the evaluator (no store), same seeds:
- ``qnas``: Q-NAS with the tuned ``small_budget`` preset,
- ``qnas_paper``: Q-NAS with the published settings,
- ``random``, ``evolution`` (regularized evolution), ``local_search``: the registry's strategies
  with their defaults (a method whose module is missing is skipped and reported so).

    python benchmarks/qnas_nb201.py                      # full: 50 seeds, 3 datasets
    python benchmarks/qnas_nb201.py --seeds 5 --datasets cifar10 --methods qnas,random   # quick
    python benchmarks/qnas_nb201.py --seeds 40 --seed-start 1000 --datasets cifar100 \\
        --report valid_accuracy --methods qnas --qnas-options '{"population": 4}' --no-save

The ``small_budget`` preset was tuned with such runs: seeds 1000-1039 (disjoint from the reported
seeds 0-49), scored by the best *validation* accuracy found (the searched metric, not the reported
test accuracy), on cifar100, ImageNet16-120 and cifar10-valid.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nasforge.errors import ConfigError  # noqa: E402
from nasforge.objectives import Objective  # noqa: E402
from nasforge.registry import resolve  # noqa: E402
from nasforge.spaces.nb201 import NB201Space  # noqa: E402

BUDGETS = (50, 100, 150, 300)
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
METHODS = ("qnas", "qnas_paper", "random", "evolution", "local_search")
TARGET_150 = {"cifar10": 94.18, "cifar100": 73.07, "ImageNet16-120": 46.29}  # RE in the issue


def make_strategy(method: str, space: NB201Space, seed: int, qnas_options: dict):
    objectives = [Objective("valid_accuracy", "max")]
    if method == "qnas":
        return resolve("strategy", "qnas")(space, seed=seed, objectives=objectives,
                                           preset="small_budget", **qnas_options)
    if method == "qnas_paper":
        return resolve("strategy", "qnas")(space, seed=seed, objectives=objectives, preset="paper")
    return resolve("strategy", method)(space, seed=seed, objectives=objectives)


def run_one(
    strategy, evaluator, budget: int, checkpoints, report: str = "test_accuracy"
) -> dict[int, float]:
    """``report`` (test accuracy) of the best-by-validation architecture after each checkpoint."""
    best_valid, best_test = -np.inf, np.nan
    out: dict[int, float] = {}
    queries = 0
    while queries < budget:
        asked = strategy.ask(1)
        if not asked:  # finished (nothing is in flight in a serial loop)
            break
        for arch in asked:
            metrics = evaluator.evaluate(arch, 200, 0)
            strategy.tell(arch, [metrics["valid_accuracy"]])
            queries += 1
            if metrics["valid_accuracy"] > best_valid:
                best_valid, best_test = metrics["valid_accuracy"], metrics[report]
            if queries in checkpoints:
                out[queries] = best_test
    for c in checkpoints:  # a finished strategy keeps its best
        out.setdefault(c, best_test)
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--seed-start", type=int, default=0)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--budgets", default=",".join(map(str, BUDGETS)))
    parser.add_argument("--qnas-options", default="{}", help="JSON overrides for the qnas method")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--report",
        default="test_accuracy",
        choices=("test_accuracy", "valid_accuracy"),
        help="metric reported for the best-by-validation architecture (tuning uses valid)",
    )
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)

    from nasforge.evaluators.tabular import ACCURACY_FILE, NB201Tabular

    budgets = tuple(sorted(int(b) for b in args.budgets.split(",")))
    seeds = list(range(args.seed_start, args.seed_start + args.seeds))
    qnas_options = json.loads(args.qnas_options)
    space = NB201Space()
    results: dict = {}
    skipped: dict = {}
    started = time.time()
    for dataset in args.datasets.split(","):
        evaluator = NB201Tabular(space, dataset=dataset, data_dir=args.data_dir, hardware=False)
        results[dataset] = {}
        for method in args.methods.split(","):
            try:
                make_strategy(method, space, 0, qnas_options)
            except ConfigError as exc:
                skipped[method] = str(exc)
                continue
            t0 = time.time()
            rows = []
            for s in seeds:
                strategy = make_strategy(method, space, s, qnas_options)
                curve = run_one(strategy, evaluator, budgets[-1], budgets, args.report)
                rows.append([curve[b] for b in budgets])
            runs = np.array(rows)
            results[dataset][method] = {
                str(b): {"mean": float(runs[:, i].mean()), "std": float(runs[:, i].std())}
                for i, b in enumerate(budgets)
            }
            results[dataset][method]["seconds"] = round(time.time() - t0, 1)

    print(f"NB201 200-epoch table ({ACCURACY_FILE}); seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}); "
          f"{args.report} (%) of the best-by-validation architecture, mean +- std")
    header = f"{'dataset':<15} {'method':<13}" + "".join(f"{b:>16}" for b in budgets)
    print(header)
    for dataset, methods in results.items():
        for method, row in methods.items():
            cells = "".join(
                f"{row[str(b)]['mean']:>9.2f} +- {row[str(b)]['std']:<4.2f}" for b in budgets
            )
            print(f"{dataset:<15} {method:<13}{cells}")
        if dataset in TARGET_150:
            print(f"{'':<15} {'(RE target)':<13}{'':>32}{TARGET_150[dataset]:>9.2f} @150")
    for method, why in skipped.items():
        print(f"skipped {method}: {why}")
    report = {
        "benchmark": "qnas_nb201",
        "data_file": ACCURACY_FILE,
        "search_metric": "valid_accuracy (200 epochs); "
        "cifar10 = search cifar10-valid/200/valid, report cifar10/200/test",
        "report_metric": f"{args.report} of best-by-validation",
        "seeds": [seeds[0], seeds[-1]],
        "budgets": list(budgets),
        "qnas_small_budget_overrides": qnas_options,
        "results": results,
        "skipped": skipped,
        "targets_at_150_regularized_evolution": TARGET_150,
        "seconds": round(time.time() - started, 1),
    }
    if not args.no_save:
        out = ROOT / "benchmarks" / "results" / "qnas_nb201.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {out.relative_to(ROOT)}")
    return report


if __name__ == "__main__":
    main()
