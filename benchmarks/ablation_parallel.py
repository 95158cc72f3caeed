"""Ablation as a study: the same LOCO list on the serial executor and on the local pool.

Maggy ran ablation trials asynchronously on Spark executors; here an ablation is an ordinary study,
so its trials run in parallel on the local pool like any other. This runs one ablation (digits CNN
from nasforge.ablation.zoo, base + 3 components, seeds 0..S-1) with 1 serial worker and with a
2-worker pool, side by side, and reports wall clock and whether both give the same table (they
must: every trial is a pure function of its member and replicate seed).

    python benchmarks/ablation_parallel.py --seeds 3 --epochs 3
"""

from __future__ import annotations

import argparse
import time

from _common import print_table, uptime, write_json

from nasforge.ablation import ModelAblation
from nasforge.study.executors import SerialExecutor
from nasforge.study.pool import LocalPoolExecutor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    ablation = ModelAblation(
        "nasforge.ablation.zoo:digits_cnn", modules=["features.conv2", "classifier.fc2"],
        groups=["classifier.relu"], seeds=list(range(args.seeds)), epochs=args.epochs,
    )
    rows, tables = [], {}
    for label, executor in (("serial", SerialExecutor()), ("local pool, 2 workers", LocalPoolExecutor(workers=2))):
        load = uptime()
        started = time.perf_counter()
        report = ablation.run(executor=executor)
        wall = time.perf_counter() - started
        tables[label] = report.to_dict()
        rows.append([label, ablation.n_trials(), round(wall, 1), round(report.base.mean, 2), load.split("load")[-1]])
    same = tables["serial"]["components"] == tables["local pool, 2 workers"]["components"]
    print_table(["executor", "trials", "wall s", "base valid %", "load"], rows)
    print(f"\nspeedup {rows[0][2] / rows[1][2]:.2f}x; identical tables: {same}")
    print(next(iter(tables.values()))["components"][0])
    write_json("ablation_parallel", {
        "data": "sklearn digits (split seed 0)", "model": "nasforge.ablation.zoo:digits_cnn",
        "seeds": list(range(args.seeds)), "epochs": args.epochs,
        "runs": [dict(zip(["executor", "trials", "wall_s", "base_valid_accuracy", "load"], r)) for r in rows],
        "speedup": rows[0][2] / rows[1][2], "identical_tables": same, "table": tables["serial"],
    })


if __name__ == "__main__":
    main()
