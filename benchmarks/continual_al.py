"""Acquisitive learning: does inheriting the most noise-robust model make PST forget less?

Candidate inherited models: several chain CNNs (plain, residual, wide / narrow), each trained
on task 0 of the digits 5+1+1+1+1+1 stream; the continual evaluator measures the task-0 noise
drop (validation split, alpha 0.5, 5 draws) and then acquires the remaining classes with PST. The
most robust (smallest drop) and least robust candidates are compared; the Spearman correlation of
noise drop and forgetting over all candidates is reported too.

    nice -n 10 python benchmarks/continual_al.py [--seeds 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import print_table, uptime, write_json  # noqa: E402
from nasforge.evaluators.continual import ContinualEvaluator  # noqa: E402
from nasforge.spaces.chain import ChainSpace  # noqa: E402

HP = "|lr=0.05,mom=0.9,wd=0.0005,opt=sgd"
CANDIDATES = [
    "conv_3_32>conv_3_32>max_pool>conv_3_64>conv_3_64>max_pool" + HP,
    "conv_3_16>max_pool>conv_3_16>max_pool" + HP,
    "conv_3_64>max_pool>conv_3_64>max_pool" + HP,
    "res_32>max_pool>res_64>max_pool" + HP,
    "conv_5_16>conv_1_16>max_pool>conv_3_32" + HP,
    "conv_1_32>conv_3_16>max_pool>res_16" + HP,
]
STREAM = dict(dataset="digits", division="5,1,1,1,1,1", method="pst", epochs=15, edge_epochs=30,
              edge_lr=0.02, noise_alpha=0.5, noise_draws=5)


def _ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    for r, i in enumerate(order):
        ranks[i] = float(r)
    return ranks


def spearman(a, b) -> float:
    ra, rb = _ranks(a), _ranks(b)
    ma, mb = statistics.mean(ra), statistics.mean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    return cov / (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    space = ChainSpace()
    evaluator = ContinualEvaluator(space, **STREAM)
    per_seed = []
    for seed in range(args.seeds):
        results = []
        for string in CANDIDATES:
            m = evaluator.evaluate(space.from_string(string), None, seed)
            results.append({"arch": string.split("|")[0], **{k: m[k] for k in (
                "task0_accuracy", "noise_drop", "forgetting", "avg_incremental_accuracy", "final_accuracy")}})
            print(seed, results[-1], flush=True)
        drops = [r["noise_drop"] for r in results]
        most, least = drops.index(min(drops)), drops.index(max(drops))
        per_seed.append({"seed": seed, "candidates": results, "most_robust": results[most],
                         "least_robust": results[least],
                         "spearman_noise_drop_vs_forgetting": spearman(drops, [r["forgetting"] for r in results])})
    rows = []
    for s in per_seed:
        for tag in ("most_robust", "least_robust"):
            r = s[tag]
            rows.append([s["seed"], tag, r["arch"], r["noise_drop"], r["forgetting"], r["avg_incremental_accuracy"]])
    print()
    print_table(["seed", "inherited", "arch", "noise_drop", "forgetting", "avg_incr_acc"], rows)
    print("spearman(noise drop, forgetting) per seed:",
          [round(s["spearman_noise_drop_vs_forgetting"], 2) for s in per_seed])
    write_json("continual_al", {"stream": STREAM, "candidates": CANDIDATES, "results": per_seed, "load": uptime()})


if __name__ == "__main__":
    main()
