"""The tabular NAS-Bench-201 protocol (search on validation, report test), shared by
`nasforge bench` and benchmarks/nb201_search.py.

Protocol: each method searches on validation accuracy after 200 epochs (for CIFAR-10 that is the
``cifar10-valid`` 25k/25k split); after B queries we report the test accuracy of the best
architecture *by validation* found so far, mean +- std over seeds. Every ask counts as a query,
duplicates included. Methods: any strategy registry name, driven serially with ask/tell straight
against the table's columns (no store, no executor); ``optuna_tpe`` / ``optuna_random``; ``oracle``
(the best-by-validation architecture of the whole table: the ceiling of this protocol).
"""

from __future__ import annotations

import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable

import numpy as np

from .evaluators.tabular import NB201Tabular
from .objectives import Objective
from .registry import STRATEGIES, resolve
from .spaces.nb201 import EDGE_NAMES, OPS, NB201Space

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
    from .errors import ConfigError

    raise ConfigError(f"unknown method {method!r}; choose from: {', '.join(all_methods())}")


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




def run_cell(method: str, options: dict, dataset: str, seeds: list[int], budget: int,
             data: str | None) -> tuple[np.ndarray, float]:
    """(runs x budget trajectories, seconds) of one method on one dataset; picklable, so
    `nasforge bench --workers N` runs cells in parallel processes."""
    run = method_runner(method, options)
    space = NB201Space()
    evaluator = NB201Tabular(space, dataset, data_dir=data, hardware=False)
    valid, test = evaluator.column("valid_accuracy", 200), evaluator.column("test_accuracy", 200)
    started = time.perf_counter()
    runs = np.asarray([run(space, valid, test, seed, budget) for seed in seeds])
    return runs, time.perf_counter() - started


def all_methods() -> list[str]:
    return sorted(STRATEGIES) + ["optuna_random", "optuna_tpe", "oracle"]


def run_grid(methods: list[str], options: dict[str, dict], datasets: list[str], seeds: list[int],
             budgets: list[int], data: str | None, workers: int = 1) -> tuple[dict, dict]:
    """Like :func:`run_protocol` for registry names, (dataset, method) cells over ``workers``
    processes (each cell is serial and seeded, so the figures do not depend on ``workers``)."""
    cells = [(d, m) for d in datasets for m in methods]
    args = [(m, options.get(m, {}), d, seeds, budgets[-1], data) for d, m in cells]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            outputs = list(pool.map(run_cell, *zip(*args)))
    else:
        outputs = [run_cell(*a) for a in args]
    results: dict[str, Any] = {}
    timings: dict[str, float] = {}
    for (dataset, method), (runs, seconds) in zip(cells, outputs):
        timings[f"{dataset}/{method}"] = round(seconds, 2)
        results.setdefault(dataset, {})[method] = _stats(runs, budgets, len(seeds))
    return results, timings


def _stats(runs: np.ndarray, budgets: list[int], n_seeds: int) -> dict[str, dict[str, float]]:
    return {str(b): {"mean": float(runs[:, b - 1].mean()),
                     "std": float(runs[:, b - 1].std(ddof=1)) if n_seeds > 1 else 0.0}
            for b in budgets}  # fmt: skip


def to_markdown(report: dict) -> str:
    """The comparison table: mean ± std per budget, the reference at 150 queries beside ours."""
    budgets = report["budgets"]
    lines = ["# NAS-Bench-201 search: test accuracy (%) of the best-by-validation architecture",
             "", f"Protocol: {report['protocol']}.", f"Seeds: {len(report['seeds'])} "
             f"({report['seeds'][0]}..{report['seeds'][-1]}); budgets: {', '.join(map(str, budgets))} "
             f"queries; wall clock {report.get('wall_seconds', 0):.1f} s with {report.get('workers', 1)} "
             "worker(s).", ""]  # fmt: skip
    for dataset, by_method in report["results"].items():
        lines += [f"## {dataset}", "",
                  "| method | " + " | ".join(f"{b} queries" for b in budgets) + " | reference @150 |",
                  "|---|" + "---:|" * (len(budgets) + 1)]  # fmt: skip
        for method, by_budget in by_method.items():
            ref = REFERENCE_150.get(method, {}).get(dataset)
            cells = [f"{by_budget[str(b)]['mean']:.2f} ± {by_budget[str(b)]['std']:.2f}" for b in budgets]
            lines.append(f"| {method} | " + " | ".join(cells) + f" | {'-' if ref is None else f'{ref:.2f}'} |")
        lines.append("")
    lines.append("Reference figures: mean test accuracy at 150 queries under the same protocol, "
                 "published for random search, regularized evolution (REA), TPE and the oracle.")
    return "\n".join(lines) + "\n"


def to_html(report: dict) -> str:
    """The same tables as a small standalone HTML page."""
    from html import escape

    budgets = report["budgets"]
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>nasforge bench</title>"
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}td:first-child,"
             "th:first-child{text-align:left}.ref{background:#f3f3f3}</style></head><body>",
             "<h1>NAS-Bench-201 search: test accuracy (%) of the best-by-validation architecture</h1>",
             f"<p>{escape(report['protocol'])}. {len(report['seeds'])} seeds; wall clock "
             f"{report.get('wall_seconds', 0):.1f} s.</p>"]  # fmt: skip
    for dataset, by_method in report["results"].items():
        parts.append(f"<h2>{escape(dataset)}</h2><table><tr><th>method</th>"
                     + "".join(f"<th>{b} queries</th>" for b in budgets)
                     + "<th class='ref'>reference @150</th></tr>")  # fmt: skip
        for method, by_budget in by_method.items():
            ref = REFERENCE_150.get(method, {}).get(dataset)
            parts.append(f"<tr><td>{escape(method)}</td>" + "".join(
                f"<td>{by_budget[str(b)]['mean']:.2f} ± {by_budget[str(b)]['std']:.2f}</td>"
                for b in budgets) + f"<td class='ref'>{'-' if ref is None else f'{ref:.2f}'}</td></tr>")
        parts.append("</table>")
    return "".join(parts) + "</body></html>"
