"""PST vs fine-tuning vs replay (same memory) vs joint training on class-incremental streams.

Digits and MNIST-1D, division 5+1+1+1+1+1 (class order from the stream seed), one network per
dataset (the chain space's hand-designed CNNs), the continual evaluator for every method with
the same epochs: task 0 for EPOCHS, every later task for EDGE_EPOCHS at EDGE_LR; replay and PST
both use 20 examples per old class. Reported on the test split: final single-head accuracy,
average incremental accuracy, forgetting (mean over earlier tasks of best minus final accuracy),
edge training FLOPs. Targets: PST forgetting >= 5x lower than fine-tuning; PST average incremental
accuracy >= replay's.

    nice -n 10 python benchmarks/continual_pst.py [--seeds 3] [--datasets digits,mnist1d]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import print_table, uptime, write_json  # noqa: E402
from nasforge.evaluators.continual import ContinualEvaluator  # noqa: E402
from nasforge.spaces.chain import HAND_DESIGNED, ChainSpace  # noqa: E402

METHODS = ("finetune", "replay", "pst", "joint")
SETTINGS = {
    "digits": dict(epochs=15, edge_epochs=30, lr=0.05, edge_lr=0.02),
    "mnist1d": dict(epochs=20, edge_epochs=30, lr=0.05, edge_lr=0.02),
}
ARCHS = {  # the hand-designed CNNs, trained here with plain SGD for every method
    "digits": HAND_DESIGNED["digits"],
    "mnist1d": HAND_DESIGNED["mnist1d"].split("|")[0] + "|lr=0.05,mom=0.9,wd=0.0005,opt=sgd",
}
KEYS = ("final_accuracy", "avg_incremental_accuracy", "forgetting", "edge_train_flops_m")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--datasets", default="digits,mnist1d")
    args = parser.parse_args()
    space = ChainSpace()
    runs = []
    for dataset in args.datasets.split(","):
        arch = space.from_string(ARCHS[dataset])
        for seed in range(args.seeds):
            for method in METHODS:
                started = time.perf_counter()
                evaluator = ContinualEvaluator(space, dataset=dataset, division="5,1,1,1,1,1", stream_seed=seed,
                                               method=method, memory_per_class=20, **SETTINGS[dataset])
                metrics = evaluator.evaluate(arch, None, seed)
                runs.append({"dataset": dataset, "seed": seed, "method": method,
                             **{k: metrics[k] for k in KEYS}, "seconds": time.perf_counter() - started})
                print(dataset, seed, method, {k: round(metrics[k], 2) for k in KEYS}, flush=True)
    rows, summary = [], {}
    for dataset in args.datasets.split(","):
        for method in METHODS:
            mine = [r for r in runs if r["dataset"] == dataset and r["method"] == method]
            means = {k: statistics.mean(r[k] for r in mine) for k in KEYS}
            sds = {k: statistics.pstdev(r[k] for r in mine) for k in KEYS}
            summary[f"{dataset}/{method}"] = {"mean": means, "sd": sds, "n": len(mine)}
            rows.append([dataset, method] + [f"{means[k]:.2f} ± {sds[k]:.2f}" for k in KEYS])
    print()
    print_table(["dataset", "method", *KEYS], rows)
    checks = {}
    for dataset in args.datasets.split(","):
        ft, rp, pst = (summary[f"{dataset}/{m}"]["mean"] for m in ("finetune", "replay", "pst"))
        checks[dataset] = {
            "forgetting_ratio_finetune_over_pst": ft["forgetting"] / max(pst["forgetting"], 1e-9),
            "pst_avg_incremental_minus_replay": pst["avg_incremental_accuracy"] - rp["avg_incremental_accuracy"],
        }
        print(dataset, {k: round(v, 2) for k, v in checks[dataset].items()})
    write_json("continual_pst_" + args.datasets.replace(",", "_"), {"seeds": args.seeds, "division": "5,1,1,1,1,1", "memory_per_class": 20,
                                 "settings": SETTINGS, "archs": ARCHS, "runs": runs, "summary": summary,
                                 "checks": checks, "load": uptime()})


if __name__ == "__main__":
    main()
