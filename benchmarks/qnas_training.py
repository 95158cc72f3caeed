"""Q-NAS vs random search with real training (digits, MNIST-1D), beside the hand-designed CNN.

Protocol (issue 4, benchmark 2): on each dataset, Q-NAS (``small_budget`` preset: 3 quantum
individuals x 2 observations per generation) and random search each train the same number of
candidates with the same study seeds, over the chain space and trainer settings of
examples/<dataset>.yaml (epochs 10, early-stopping patience 3, batch 64, one torch thread). The k-th
candidate of a run is trained with seed ``1000 * study_seed + k`` for both methods. Q-NAS uses the
enhanced variant's penalty: 1 accuracy point per pooling layer beyond what the input can take
(3 for the 8x8 digits, 5 for the 40-sample MNIST-1D signal). The best candidate is chosen by
validation accuracy; we report its test accuracy and parameter count, mean +- std over study
seeds, and the hand-designed baseline (``ChainSpace.hand_designed``) trained by the same evaluator
with ``--baseline-seeds`` training seeds.

Runs a serial ask/tell loop in this process (no store, no worker pool): the machine is shared.

    python benchmarks/qnas_training.py                                  # 2 seeds x 24 candidates
    python benchmarks/qnas_training.py --datasets mnist1d --seeds 0     # add/redo one dataset
    python benchmarks/qnas_training.py --datasets digits --seeds 0 --candidates 6   # quick look
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from nasforge.errors import ArchitectureError  # noqa: E402
from nasforge.objectives import Objective  # noqa: E402
from nasforge.registry import resolve  # noqa: E402
from nasforge.spaces.chain import ChainSpace  # noqa: E402

REDUCTION_LIMIT = {"digits": 3, "mnist1d": 5}  # log2 of the input side: 8x8 images, 40 samples


def components(dataset: str):
    config = yaml.safe_load((ROOT / "examples" / f"{dataset}.yaml").read_text())
    space = ChainSpace(**config.get("space_options", {}))
    options = config.get("evaluator_options", {})
    evaluator = resolve("evaluator", "trainer")(space, dataset=dataset, **options)
    return space, evaluator, config


def make_strategy(method: str, space: ChainSpace, dataset: str, seed: int):
    objectives = [Objective("valid_accuracy", "max")]
    if method == "qnas":
        return resolve("strategy", "qnas")(
            space, seed=seed, objectives=objectives, preset="small_budget",
            reduction_limit=REDUCTION_LIMIT[dataset], penalty=1.0,
        )
    return resolve("strategy", method)(space, seed=seed, objectives=objectives)


def search(method, space, evaluator, dataset, seed, candidates):
    strategy = make_strategy(method, space, dataset, seed)
    best = None
    history = []
    k = 0
    while k < candidates:
        asked = strategy.ask(1)
        if not asked:
            break
        for arch in asked:
            try:
                metrics = evaluator.evaluate(arch, None, 1000 * seed + k)
                values = [metrics["valid_accuracy"]]
            except Exception as exc:  # noqa: BLE001 - a failed training is a failed trial
                metrics, values = {"error": f"{type(exc).__name__}: {exc}"}, None
            strategy.tell(arch, values)
            k += 1
            record = {m: metrics.get(m) for m in ("valid_accuracy", "test_accuracy", "params_m")}
            history.append({"arch": arch.string, **record})
            if values is not None and (best is None or values[0] > best["valid_accuracy"]):
                best = history[-1]
    return best, history


def mean_std(xs):
    xs = [float(x) for x in xs]
    std = statistics.pstdev(xs) if len(xs) > 1 else 0.0
    return {"mean": statistics.fmean(xs), "std": std, "n": len(xs)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="digits,mnist1d")
    parser.add_argument("--seeds", default="0,1", help="comma-separated study seeds")
    parser.add_argument("--candidates", type=int, default=24, help="trained candidates per search")
    parser.add_argument("--baseline-seeds", type=int, default=3)
    parser.add_argument("--methods", default="qnas,random")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    seeds = [int(s) for s in args.seeds.split(",")]
    out = ROOT / "benchmarks" / "results" / "qnas_training.json"
    report: dict = {"benchmark": "qnas_training", "results": {}}
    for dataset in args.datasets.split(","):
        t0 = time.time()
        space, evaluator, config = components(dataset)
        entry: dict = {"seeds": seeds, "candidates": args.candidates,
                       "baseline_seeds": args.baseline_seeds,
                       "space_options": config.get("space_options", {}),
                       "evaluator_options": config.get("evaluator_options", {})}
        try:
            baseline, trainer = space.hand_designed(dataset), evaluator
            where = "the search space"
        except ArchitectureError:  # the example's space may exclude the baseline's layers
            baseline_space = ChainSpace()
            options = config.get("evaluator_options", {})
            trainer = resolve("evaluator", "trainer")(baseline_space, dataset=dataset, **options)
            baseline, where = baseline_space.hand_designed(dataset), "the default ChainSpace"
        runs = [trainer.evaluate(baseline, None, s) for s in range(args.baseline_seeds)]
        entry["hand_designed"] = {
            "arch": baseline.string,
            "space": where,
            "test_accuracy": mean_std(r["test_accuracy"] for r in runs),
            "valid_accuracy": mean_std(r["valid_accuracy"] for r in runs),
            "params_m": runs[0]["params_m"],
        }
        for method in args.methods.split(","):
            bests, failed = [], 0
            for seed in seeds:
                best, history = search(method, space, evaluator, dataset, seed, args.candidates)
                bests.append(best)
                failed += sum(h["valid_accuracy"] is None for h in history)
            entry[method] = {
                "best_test_accuracy": mean_std(b["test_accuracy"] for b in bests),
                "best_valid_accuracy": mean_std(b["valid_accuracy"] for b in bests),
                "best_params": mean_std(b["params_m"] for b in bests),
                "best": bests,
                "failed": failed,
            }
        entry["seconds"] = round(time.time() - t0, 1)
        report["results"][dataset] = entry
        print_entry(dataset, entry, args.methods.split(","))
        if not args.no_save:  # merge: keep datasets measured by other invocations
            saved = json.loads(out.read_text()) if out.exists() else {"benchmark": "qnas_training"}
            saved.setdefault("results", {})[dataset] = entry
            out.write_text(json.dumps(saved, indent=2) + "\n")
            print(f"wrote {out.relative_to(ROOT)}", flush=True)
    return report


def print_entry(dataset: str, entry: dict, methods) -> None:
    print(f"{dataset}: real training; study seeds {entry['seeds']}, {entry['candidates']} "
          f"candidates per search, hand-designed trained with {entry['baseline_seeds']} seeds; "
          f"mean +- std over seeds; {entry['seconds']} s")
    print(f"{'dataset':<9} {'method':<14} {'test acc (best by valid)':>25} {'valid acc':>16} "
          f"{'params (M)':>18}")
    hd = entry["hand_designed"]
    print(f"{dataset:<9} {'hand-designed':<14} {_fmt(hd['test_accuracy']):>25} "
          f"{_fmt(hd['valid_accuracy']):>16} {hd['params_m']:>18.4f}")
    for method in methods:
        row = entry[method]
        print(f"{dataset:<9} {method:<14} {_fmt(row['best_test_accuracy']):>25} "
              f"{_fmt(row['best_valid_accuracy']):>16} {_fmt(row['best_params'], 4):>18}",
              flush=True)


def _fmt(stat, digits=2):
    return f"{stat['mean']:.{digits}f} +- {stat['std']:.{digits}f}"


if __name__ == "__main__":
    main()
