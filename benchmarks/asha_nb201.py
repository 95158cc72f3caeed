"""ASHA (and the median rule) on NB201, 12 -> 200 epochs, vs full evaluation of the same architectures.

For each seed, random search proposes the same N architectures to every method (same strategy seed)
and the real study loop runs them:

* full        every architecture trained 200 epochs (cost 200 N epochs);
* asha        ASHA (stopping variant, eta=3, rungs 12 and 200): every architecture gets the 12-epoch
              run, the top third so far at that rung also the 200-epoch run;
* median      median stopping rule on the same rungs (min 3 results at the rung);
* full@same   full evaluation of only as many architectures as ASHA's epochs pay for.

The NB201 12-epoch results come from a separate 12-epoch schedule, so a promoted architecture costs
12 + 200 epochs (no resumption). Selection is by validation accuracy at the fidelity each method
completed (200); the table reports that architecture's test accuracy (cifar10: valid from the
25k/25k run, test from the 50k run).

    python benchmarks/asha_nb201.py --seeds 30 --archs 100,300
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "asha_nb201.json"


def run(space, evaluator, seed: int, n: int, scheduler=None) -> dict:
    from nasforge.strategies.random import RandomSearch
    from nasforge.study import create_study

    study = create_study(
        name="asha", space=space, strategy=RandomSearch(space, seed=seed), evaluator=evaluator,
        objectives=["valid_accuracy:max"], seed=seed, fidelity=None if scheduler else 200,
        scheduler=scheduler,
    )
    study.optimize(n_trials=n)
    trials = study.trials
    epochs = 0
    for t in trials:
        epochs += 12 + 200 if (scheduler is not None and t.fidelity == 200) else t.fidelity
    complete = [t for t in trials if t.state.value == "COMPLETE" and t.fidelity == 200]
    best = max(complete, key=lambda t: t.values[0])
    return {"archs": len(trials), "full_runs": len(complete), "epochs": epochs,
            "test": best.metrics["test_accuracy"], "valid": best.values[0],
            "arch_list": [t.arch for t in trials]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--archs", default="100,300", help="comma-separated architecture counts")
    parser.add_argument("--eta", type=int, default=3)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--data", default=None)
    args = parser.parse_args()
    from nasforge.evaluators.tabular import NB201Tabular
    from nasforge.spaces.nb201 import NB201Space
    space = NB201Space()
    evaluator = NB201Tabular(space, dataset=args.dataset, data_dir=args.data, hardware=False)
    evaluator.prepare()
    _, oracle = evaluator.oracle("valid_accuracy", "test_accuracy", 200)
    counts = [int(n) for n in str(args.archs).split(",")]
    print(f"ASHA on NB201 {args.dataset}: random architectures per seed {counts}, seeds "
          f"0..{args.seeds - 1}, rungs 12 -> 200 epochs, eta={args.eta}; table "
          f"{evaluator.describe()['tables'][0]}; oracle test accuracy (best valid) {oracle:.2f}")
    results = {}
    for n in counts:
        per_method = compare(space, evaluator, args.seeds, n, args.eta)
        results[n] = {"summary": summarise(per_method, oracle), "per_seed": per_method}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "asha_nb201", "args": vars(args), "oracle": oracle,
                                   "results": results}, indent=2))


def compare(space, evaluator, seeds: int, n: int, eta: int) -> dict[str, list[dict]]:
    from nasforge.study.schedulers import ASHA, MedianStopping

    per_method: dict[str, list[dict]] = {"full": [], "asha": [], "median": [], "full@same": []}
    for seed in range(seeds):
        full = run(space, evaluator, seed, n)
        asha = run(space, evaluator, seed, n, ASHA(fidelities=[12, 200], eta=eta))
        median = run(space, evaluator, seed, n, MedianStopping([12, 200], min_trials=3))
        assert full["arch_list"] == asha["arch_list"] == median["arch_list"]
        same = run(space, evaluator, seed, max(1, asha["epochs"] // 200))
        for key, value in (("full", full), ("asha", asha), ("median", median), ("full@same", same)):
            value.pop("arch_list")
            per_method[key].append(value)
    return per_method


def summarise(per_method: dict[str, list[dict]], oracle: float) -> dict[str, dict]:
    print(f"{'method':<10} {'archs':>6} {'200-ep runs':>11} {'epochs spent':>13} {'vs full':>8} "
          f"{'best test acc':>17} {'regret':>7}")
    summary = {}
    base_epochs = np.mean([r["epochs"] for r in per_method["full"]])
    for method, rows in per_method.items():
        tests = np.array([r["test"] for r in rows])
        epochs = float(np.mean([r["epochs"] for r in rows]))
        summary[method] = s = {
            "archs": float(np.mean([r["archs"] for r in rows])),
            "full_runs": float(np.mean([r["full_runs"] for r in rows])),
            "epochs": epochs, "epochs_fraction": epochs / base_epochs,
            "test_mean": float(tests.mean()),
            "test_std": float(tests.std(ddof=1)) if len(tests) > 1 else 0.0,
            "regret": float(oracle - tests.mean()),
        }
        print(f"{method:<10} {s['archs']:>6.0f} {s['full_runs']:>11.1f} {epochs:>13.0f} "
              f"{s['epochs_fraction']:>8.1%} {s['test_mean']:>8.2f} ± {s['test_std']:<6.2f} "
              f"{s['regret']:>7.2f}")
    return summary

if __name__ == "__main__":
    main()
