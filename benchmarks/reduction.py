"""Architecture reduction benchmark: params removed at <= 0.5 pt accuracy loss, per algorithm and
per pruning baseline, with the cost of each algorithm in trained epochs and wall clock.

Tasks: ResNet-20 (1-D) on MNIST-1D and ResNet-20 (2-D) on scikit-learn digits. For each task the
bases are trained once per seed and shared; each algorithm (greedy shrinking, REINFORCE with the
N2N reward, NSGA-II on accuracy x params) gets the same search budget (``--trials`` candidates of
``--fidelity`` epochs of distillation from the base); its pick (the smallest network within
``pick_tolerance`` of the base under the search fitness) is retrained from scratch with the base's
schedule for every seed; the L1-norm and network-slimming baselines are pruned to the pick's
parameter count and fine-tuned for the base's epochs (equal training budget for the final networks).

    nice -n 10 python benchmarks/reduction.py --task mnist1d --algorithms greedy_shrink reinforce nsga2
    python benchmarks/reduction.py --table      # the table of every result file so far

Each (task, algorithm) run writes benchmarks/results/reduction-<task>-<algorithm>.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
MULTIPLIERS = [0.25, 0.5, 0.75, 1.0]

TASKS = {
    "mnist1d": {
        "dataset": "mnist1d",
        "space_options": {"base": "resnet20", "input_shape": [1, 40], "num_classes": 10, "multipliers": MULTIPLIERS},
        "evaluator_options": {"batch_size": 128, "lr": 0.01, "optimizer": "adam", "weight_decay": 1e-4,
                              "momentum": 0.9, "latency_repeats": 20},
    },
    "digits": {
        "dataset": "digits",
        "space_options": {"base": "resnet20", "input_shape": [1, 8, 8], "num_classes": 10, "multipliers": MULTIPLIERS},
        "evaluator_options": {"batch_size": 64, "lr": 0.05, "optimizer": "sgd", "weight_decay": 5e-4,
                              "momentum": 0.9, "latency_repeats": 20},
    },
}

STRATEGIES = {
    "greedy_shrink": {"strategy_options": {"tolerance": 1.0}},
    "reinforce": {"strategy_options": {"rollouts": 5, "lr": 1.0}},
    "nsga2": {"strategy_options": {"population_size": 8}},
}


def run(task: str, algorithm: str, args: argparse.Namespace) -> dict:
    from nasforge.reduction.pipeline import format_report, run_reduction

    spec = TASKS[task]
    config = {
        "name": f"bench-{task}-{algorithm}",
        "storage": f"{args.storage}-{task}-{algorithm}.db", "artifacts": f"{args.storage}-{task}.artifacts",
        "seed": 0, "dataset": spec["dataset"],
        "space_options": spec["space_options"], "evaluator_options": spec["evaluator_options"],
        "base_epochs": args.base_epochs, "seeds": list(range(args.seeds)), "pick_tolerance": 0.5,
        "search": {"strategy": algorithm, "fidelity": args.fidelity, "trials": args.trials, "distill": True,
                   **STRATEGIES[algorithm]},
        "baselines": ["l1", "slimming"],
    }
    started = time.perf_counter()
    report = run_reduction(config, log=lambda line: print("  " + line, flush=True))
    report["wall_seconds"] = time.perf_counter() - started
    print(format_report(report), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"reduction-{task}-{algorithm}.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def table() -> None:
    """One row per (task, method): params removed, accuracy change vs the base, within 0.5 pt, cost."""
    print(f"{'task':<8} {'method':<22} {'params_m':>9} {'removed %':>9} {'test acc':>15} {'change':>7} "
          f"{'<=0.5pt':>7} {'epochs':>7} {'seconds':>8}")
    for path in sorted(RESULTS.glob("reduction-*.json")):
        r = json.loads(path.read_text())
        task = r["dataset"]
        base = r["base"]
        rows = [(r["strategy"], r["reduced"], r["cost"]["search_epochs"] + r["cost"]["retrain_epochs"],
                 r["cost"]["search_seconds"] + r["cost"]["retrain_seconds"])]
        rows += [(f"  {k}@{r['strategy']}", v, v["trained_epochs"], v["seconds"]) for k, v in r["baselines"].items()]
        print(f"{task:<8} {'base ' + base['arch']:<22} {base['params_m']:>9.4f} {0:>9.1f} "
              f"{base['test_accuracy']['mean']:>8.2f} +- {base['test_accuracy']['std']:.2f}")
        for label, entry, epochs, seconds in rows:
            change = entry["test_accuracy"]["mean"] - base["test_accuracy"]["mean"]
            removed = 100 * (1 - entry["params_m"] / base["params_m"])
            print(f"{task:<8} {label:<22} {entry['params_m']:>9.4f} {removed:>9.1f} "
                  f"{entry['test_accuracy']['mean']:>8.2f} +- {entry['test_accuracy']['std']:.2f} {change:>+7.2f} "
                  f"{'yes' if change >= -0.5 else 'no':>7} {epochs:>7} {seconds:>8.0f}")
        print(f"{'':<8} {'  picked ' + r['reduced']['arch']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(TASKS))
    parser.add_argument("--algorithms", nargs="+", choices=sorted(STRATEGIES), default=sorted(STRATEGIES))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--base-epochs", type=int, default=10)
    parser.add_argument("--fidelity", type=int, default=2)
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--storage", default="/tmp/nasforge-reduction-bench",
                        help="prefix: one study file per (task, algorithm), trained bases shared per task")
    parser.add_argument("--table", action="store_true", help="print the table of the stored results and exit")
    args = parser.parse_args()
    if args.table or args.task is None:
        table()
        return
    for algorithm in args.algorithms:
        run(args.task, algorithm, args)
    table()


if __name__ == "__main__":
    main()
