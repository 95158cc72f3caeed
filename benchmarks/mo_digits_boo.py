"""Accuracy vs bit cost (BOO) with real training on sklearn's digits: the front NSGA-II finds.

Each trial trains a chain-space CNN with nasforge's trainer (real PyTorch, 1 thread) and adds the
binary-ones count of its int8-quantised weights (nasforge.metrics.boo). NSGA-II and random search
get the same budget and seed; both fronts are printed, and their hypervolumes are compared with
shared min-max bounds (all trials of both runs) and reference point (1.1, 1.1).

    python benchmarks/mo_digits_boo.py                    # 40 trials each, 6 epochs
    python benchmarks/mo_digits_boo.py --trials 12 --epochs 2   # quick look
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nasforge.evaluators.trainer import TrainerEvaluator  # noqa: E402

OBJECTIVES = ["valid_accuracy:max", "boo:min"]
SPACE_OPTIONS = {"max_nodes": 6, "filters": [4, 8, 16, 32], "kernels": [1, 3, 5]}


class BooTrainer(TrainerEvaluator):
    """The trainer's metrics plus ``boo`` / ``boo_per_param`` of the trained weights."""

    def evaluate(self, arch, fidelity=None, seed=0, context=None) -> dict[str, Any]:
        from nasforge.metrics.boo import binary_ones

        trained = self.train(arch, fidelity, seed)
        return {**trained.metrics, **binary_ones(trained.model)}

    def metrics(self):
        return [*super().metrics(), "boo", "boo_per_param"]


def run(strategy_name: str, trials: int, epochs: int, seed: int) -> list:
    from nasforge.objectives import parse_objectives
    from nasforge.registry import resolve
    from nasforge.study.api import create_study

    space = resolve("space", "chain")(**SPACE_OPTIONS)
    objectives = parse_objectives(OBJECTIVES)
    options = {"population_size": 8, "offspring_size": 4} if strategy_name == "nsga2" else {}
    strategy_cls = resolve("strategy", strategy_name)
    strategy = strategy_cls(space, seed=seed, objectives=objectives, **options)
    evaluator = BooTrainer(space, dataset="digits", epochs=epochs, threads=1, latency_repeats=3)
    study = create_study(
        name=f"boo-{strategy_name}", space=space, strategy=strategy, evaluator=evaluator,
        objectives=objectives, seed=seed,
    )  # fmt: skip
    study.optimize(n_trials=trials)
    return study.trials


def main(argv: list[str] | None = None) -> dict:
    import numpy as np
    import torch

    from nasforge.pareto import complete_trials, hypervolume
    from nasforge.report.pareto import format_pareto, pareto_summary
    from nasforge.objectives import parse_objectives

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/mo_digits_boo.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    objectives = parse_objectives(OBJECTIVES)
    runs: dict[str, list] = {}
    seconds: dict[str, float] = {}
    for name in ("nsga2", "random"):
        start = time.perf_counter()
        runs[name] = run(name, args.trials, args.epochs, args.seed)
        seconds[name] = time.perf_counter() - start
    every = np.array(
        [t.values for trials in runs.values() for t in complete_trials(trials, objectives)]
    )
    bounds = [(float(every[:, i].min()), float(every[:, i].max())) for i in range(len(objectives))]
    print(
        f"digits, chain space {SPACE_OPTIONS}, {args.trials} trials x {args.epochs} epochs, "
        f"seed {args.seed}"
    )
    print(f"shared bounds {dict(zip(OBJECTIVES, bounds))}, reference point (1.1, 1.1)\n")
    result: dict[str, Any] = {
        "protocol": {
            "dataset": "digits (sklearn)", "space": "chain", "space_options": SPACE_OPTIONS,
            "trials": args.trials, "epochs": args.epochs, "seed": args.seed,
            "objectives": OBJECTIVES,
            "boo": "int8 symmetric per-tensor (scale max|w|/127), 1 bits of two's-complement codes",
            "bounds": bounds, "reference_point": [1.1, 1.1],
        },
        "runs": {},
    }  # fmt: skip
    for name, trials in runs.items():
        summary = pareto_summary(trials, objectives, bounds=bounds)
        print(f"== {name} ({seconds[name]:.0f} s)")
        print(format_pareto(summary) + "\n")
        values = np.array([t.values for t in complete_trials(trials, objectives)])
        result["runs"][name] = {
            "seconds": seconds[name],
            "hypervolume": hypervolume(values, objectives, bounds),
            "pareto_front": summary["pareto_front"],
            "n_complete": summary["n_complete"],
        }
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
