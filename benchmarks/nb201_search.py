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
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nasforge.evaluators.tabular import ACCURACY_FILE, NB201Tabular  # noqa: E402
from nasforge.objectives import Objective  # noqa: E402
from nasforge.paths import data_file  # noqa: E402
from nasforge.registry import STRATEGIES, resolve  # noqa: E402
from nasforge.spaces.nb201 import EDGE_NAMES, OPS, NB201Space  # noqa: E402

DEFAULT_METHODS = ("random", "evolution", "local_search", "optuna_tpe", "optuna_random", "oracle")
DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {
    "evolution": {"population": 20, "sample_size": 5, "mutations": 1},
    "local_search": {"restarts": True, "initial": 10},
}
#: mean test accuracy at 150 queries measured elsewhere (C10 / C100 / IN16-120)
REFERENCE_150 = {
    "random": {"cifar10": 93.84, "cifar100": 71.54, "ImageNet16-120": 45.56},
    "evolution": {"cifar10": 94.18, "cifar100": 73.07, "ImageNet16-120": 46.29},
    "optuna_tpe": {"cifar10": 94.24, "cifar100": 73.20, "ImageNet16-120": 46.25},
    "oracle": {"cifar10": 94.37, "cifar100": 73.51, "ImageNet16-120": 46.20},
}
Trajectory = list  # test accuracy of the best-by-valid architecture after each query


def run_strategy(name: str, options: dict, space: NB201Space, valid: np.ndarray, test: np.ndarray,
                 seed: int, budget: int) -> Trajectory:
    strategy = resolve("strategy", name)(space, seed=seed, objectives=[Objective("valid_accuracy", "max")], **options)
    best_valid, best_test, trajectory = -math.inf, math.nan, []
    while len(trajectory) < budget and not getattr(strategy, "finished", False):
        archs = strategy.ask(1)
        if not archs:
            raise RuntimeError(f"strategy {name} asked nothing with no trial in flight")
        for arch in archs:
            index = space.index(arch)
            value = float(valid[index])
            strategy.tell(arch, [value])
            if value > best_valid:
                best_valid, best_test = value, float(test[index])
            trajectory.append(best_test)
    return trajectory + [best_test] * (budget - len(trajectory))  # a strategy that finished early


def run_optuna(sampler_name: str, space: NB201Space, valid: np.ndarray, test: np.ndarray,
               seed: int, budget: int) -> Trajectory:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = {"optuna_tpe": optuna.samplers.TPESampler, "optuna_random": optuna.samplers.RandomSampler}[sampler_name](seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    best_valid, best_test, trajectory = -math.inf, math.nan, []
    for _ in range(budget):
        trial = study.ask()
        ops = [trial.suggest_categorical(edge, list(OPS)) for edge in EDGE_NAMES]
        index = space.index(space.from_ops(ops))
        value = float(valid[index])
        study.tell(trial, value)
        if value > best_valid:
            best_valid, best_test = value, float(test[index])
        trajectory.append(best_test)
    return trajectory


def method_runner(method: str, options: dict) -> Callable[..., Trajectory]:
    if method in ("optuna_tpe", "optuna_random"):
        return lambda *args: run_optuna(method, *args)
    if method == "oracle":
        return lambda space, valid, test, seed, budget: [float(test[int(np.argmax(valid))])] * budget
    if method in STRATEGIES:
        return lambda *args: run_strategy(method, options, *args)
    raise SystemExit(
        f"unknown method {method!r}; choose from: {', '.join(sorted(STRATEGIES) + ['optuna_random', 'optuna_tpe', 'oracle'])}"
    )


PROTOCOL = ("search on <dataset>/200/valid (cifar10: cifar10-valid/200/valid); report <dataset>/200/test "
            "(cifar10: cifar10/200/test) of the best-by-valid architecture after B queries; "
            "mean, sample std over seeds")


def run_protocol(runners: dict[str, Callable[..., Trajectory]], datasets: list[str], seeds: list[int],
                 budgets: list[int], data: str | None) -> tuple[dict[str, Any], dict[str, float]]:
    """Every method on every dataset and seed: mean / std of the test trajectory at each budget,
    and the seconds each (dataset, method) took. Shared by the NB201 benchmark scripts."""
    space = NB201Space()
    results: dict[str, Any] = {}
    timings: dict[str, float] = {}
    for dataset in datasets:
        evaluator = NB201Tabular(space, dataset, data_dir=data, hardware=False)
        valid, test = evaluator.column("valid_accuracy", 200), evaluator.column("test_accuracy", 200)
        results[dataset] = {}
        for method, run in runners.items():
            started = time.perf_counter()
            runs = np.asarray([run(space, valid, test, seed, budgets[-1]) for seed in seeds])
            timings[f"{dataset}/{method}"] = round(time.perf_counter() - started, 2)
            results[dataset][method] = {
                str(b): {"mean": float(runs[:, b - 1].mean()),
                         "std": float(runs[:, b - 1].std(ddof=1)) if len(seeds) > 1 else 0.0}
                for b in budgets
            }  # fmt: skip
            print(f"  {dataset:15s} {method:15s} done in {timings[f'{dataset}/{method}']:.1f}s",
                  file=sys.stderr, flush=True)  # fmt: skip
    return results, timings


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


def compare_with_reference(results: dict, n_seeds: int) -> dict:
    """Ours vs the reference at 150 queries; z uses our std for both sides (same protocol and n)."""
    out: dict[str, Any] = {}
    for dataset, by_method in results.items():
        for method, by_budget in by_method.items():
            reference = REFERENCE_150.get(method, {}).get(dataset)
            if reference is None or "150" not in by_budget:
                continue
            ours = by_budget["150"]
            se = ours["std"] * math.sqrt(2.0 / n_seeds) if n_seeds > 1 else 0.0
            diff = ours["mean"] - reference
            if se > 1e-6:
                z = diff / se
            else:  # deterministic (the oracle): only a rounding-level difference is agreement
                z = 0.0 if abs(diff) < 0.005 else math.copysign(math.inf, diff)
            out.setdefault(dataset, {})[method] = {
                "ours": round(ours["mean"], 3), "reference": reference, "diff": round(diff, 3),
                "z": round(z, 2), "within_noise": abs(z) < 2.5 or abs(diff) < 0.005,
            }
    return out


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
