"""Search quality on NAS-Bench-201: the standard tabular protocol, our strategies vs Optuna.

Protocol: each method searches on validation accuracy after 200 epochs (for CIFAR-10 that is the
``cifar10-valid`` 25k/25k split); after B queries we report the test accuracy of the best
architecture *by validation* found so far (CIFAR-10: ``cifar10/200/test``, the network trained on
all 50k images), mean +- std over seeds. Every ask counts as a query, duplicates included.

Methods: any strategy registry name (random, evolution, local_search, qnas, nsga2, bo, ...), driven
serially with ask/tell straight against the tabular evaluator's columns (no store, no executor);
``optuna_tpe`` / ``optuna_random`` (Optuna's TPESampler / RandomSampler, one categorical parameter
per edge, ask/tell, same seeds); ``oracle`` (the best-by-validation architecture of the whole
table: the ceiling of this protocol).

Usage: python benchmarks/nb201_search.py [--seeds 50] [--budgets 50,100,150,300]
       [--datasets cifar10,cifar100,ImageNet16-120] [--methods random,evolution,...]
       [--strategy-options '{"evolution": {"population": 20}}'] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nasforge.bench import (  # noqa: E402,F401  (re-exported for benchmarks/bo_nb201.py)
    DEFAULT_METHODS, DEFAULT_OPTIONS, PROTOCOL, compare_with_reference, method_runner, run_protocol,
    run_strategy,
)
from nasforge.evaluators.tabular import ACCURACY_FILE  # noqa: E402
from nasforge.paths import data_file  # noqa: E402
from nasforge.registry import STRATEGIES  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--budgets", default="50,100,150,300")
    parser.add_argument("--datasets", default="cifar10,cifar100,ImageNet16-120")
    parser.add_argument("--methods", default=",".join(DEFAULT_METHODS))
    parser.add_argument("--strategy-options", default="{}", help="JSON: {method: {option: value}}")
    parser.add_argument("--data", default=None)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "nb201_search.json"))
    args = parser.parse_args(argv)

    budgets = sorted(int(b) for b in args.budgets.split(","))
    datasets = [d for d in args.datasets.split(",") if d]
    methods = [m for m in args.methods.split(",") if m]
    options = {**DEFAULT_OPTIONS, **json.loads(args.strategy_options)}
    seeds = list(range(args.seeds))
    runners = {m: method_runner(m, options.get(m, {})) for m in methods}

    results, timings = run_protocol(runners, datasets, seeds, budgets, args.data)

    comparison = compare_with_reference(results, len(seeds))
    report = {
        "protocol": PROTOCOL,
        "data_file": str(data_file(ACCURACY_FILE, args.data)),
        "seeds": seeds,
        "budgets": budgets,
        "datasets": datasets,
        "methods": methods,
        "strategy_options": {m: options.get(m, {}) for m in methods if m in STRATEGIES},
        "results": results,
        "reference_150": comparison,
        "seconds": timings,
        "python": platform.python_version(),
    }
    print_table(report)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(f"\nwritten: {args.out}")
    return report


def print_table(report: dict) -> None:
    budgets = report["budgets"]
    print(f"\nNAS-Bench-201 search quality: test accuracy (%) of the best-by-validation architecture, "
          f"mean ± std over {len(report['seeds'])} seeds ({report['seeds'][0]}..{report['seeds'][-1]}); "
          f"data: {report['data_file']}")
    for dataset, by_method in report["results"].items():
        print(f"\n{dataset}")
        print(f"  {'method':15s}" + "".join(f"{str(b) + ' queries':>18s}" for b in budgets))
        for method, by_budget in by_method.items():
            cells = "".join(f"{by_budget[str(b)]['mean']:>11.2f} ± {by_budget[str(b)]['std']:4.2f}" for b in budgets)
            print(f"  {method:15s}{cells}")
    if report["reference_150"]:
        print("\nAt 150 queries vs reference (z = diff / (std * sqrt(2/n))):")
        for dataset, by_method in report["reference_150"].items():
            for method, row in by_method.items():
                verdict = "within noise" if row["within_noise"] else "OFF"
                print(f"  {dataset:15s} {method:15s} ours {row['ours']:6.2f}  ref {row['reference']:6.2f}  "
                      f"diff {row['diff']:+.2f}  z {row['z']:+.2f}  {verdict}")


if __name__ == "__main__":
    main()
