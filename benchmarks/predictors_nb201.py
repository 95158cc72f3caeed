"""Predictor quality on NAS-Bench-201: Kendall tau on held-out cells, every predictor side by side.

Protocol (NASLib's zero-cost study, NAS-Bench-Suite-Zero): cells = the 9,445 NB201 cells that have
a row in the zero-cost table (CIFAR-10); per seed, 1,000 of them are held out at random and the
training sets (100 / 400 / 1,000 cells) are drawn from the rest; target = CIFAR-10 validation
accuracy after 200 epochs (``cifar10-valid/200/valid``); score = Kendall tau between predicted and
true accuracy on the 1,000 held-out cells. Anchor: XGBoost on zero-cost features, tau 0.794 at 400.

Usage: python benchmarks/predictors_nb201.py [--seeds 5] [--train 100,400,1000]
       [--predictors label,...] [--data DIR] [--embeddings nb201.emb.npz --name predictors_arch2vec]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
from _common import print_table, uptime, write_json  # noqa: E402

from nasforge.evaluators.tabular import ACCURACY_FILE, NB201Tabular  # noqa: E402
from nasforge.paths import data_file  # noqa: E402
from nasforge.predictors.base import make_predictor  # noqa: E402
from nasforge.predictors.features import ZERO_COST_FILE, zero_cost_table  # noqa: E402
from nasforge.spaces.nb201 import NB201Space  # noqa: E402

#: label -> (registry name, options)
PREDICTORS = {
    "gp_wl": ("gp_wl", {"graph_options": {"prune": True}}),
    "gp_gcn": ("gp_gcn", {}),
    "mlp_ensemble(path)": ("mlp_ensemble", {}),
    "mlp_ensemble(path+zc)": ("mlp_ensemble", {"zero_cost": True}),
    "xgboost(zc)": ("xgboost", {"encoding": "none", "zero_cost": True}),
    "xgboost(onehot)": ("xgboost", {"encoding": "onehot"}),
    "xgboost(onehot+zc)": ("xgboost", {"encoding": "onehot", "zero_cost": True}),
    "xgboost(onehot+path+zc)": ("xgboost", {"encoding": "onehot+path", "zero_cost": True}),
    "lightgbm(onehot+zc)": ("lightgbm", {"encoding": "onehot", "zero_cost": True}),
}
ANCHOR = {"xgboost on zero-cost features (NASLib), 400 train": 0.794}


def main(argv: list[str] | None = None) -> dict:
    from scipy.stats import kendalltau

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--train", default="100,400,1000")
    parser.add_argument("--predictors", default=",".join(PREDICTORS))
    parser.add_argument("--data", default=None)
    parser.add_argument("--embeddings", default=None, help="a `nasforge embed` file: adds arch2vec predictors")
    parser.add_argument("--name", default="predictors_nb201", help="results file name")
    args = parser.parse_args(argv)
    if args.embeddings:
        PREDICTORS["xgboost(arch2vec)"] = ("xgboost", {"encoding": "none", "embeddings": args.embeddings})
        PREDICTORS["xgboost(onehot+arch2vec+zc)"] = ("xgboost", {"encoding": "onehot", "zero_cost": True, "embeddings": args.embeddings})
        PREDICTORS["mlp_ensemble(arch2vec)"] = ("mlp_ensemble", {"encoding": "none", "embeddings": args.embeddings})
    sizes = [int(s) for s in args.train.split(",")]
    labels = [p for p in args.predictors.split(",") if p]

    space = NB201Space()
    valid = NB201Tabular(space, "cifar10", data_dir=args.data, hardware=False).column("valid_accuracy", 200)
    covered = np.flatnonzero(np.isfinite(zero_cost_table("cifar10", args.data)[:, 0]))
    taus: dict[str, dict[int, list[float]]] = {label: {n: [] for n in sizes} for label in labels}
    seconds: dict[str, float] = {label: 0.0 for label in labels}
    for seed in range(args.seeds):
        order = np.random.default_rng(seed).permutation(covered)
        test, pool = order[:1000], order[1000:]
        test_archs = [space.from_index(int(i)) for i in test]
        for n in sizes:
            train = pool[:n]
            train_archs = [space.from_index(int(i)) for i in train]
            for label in labels:
                name, options = PREDICTORS[label]
                started = time.perf_counter()
                if "zero_cost" in options:
                    options = {**options, "data": args.data}
                predictor = make_predictor(name, space, seed=seed, **options)
                predictor.fit(train_archs, valid[train])
                mean, _ = predictor.predict(test_archs)
                seconds[label] += time.perf_counter() - started
                taus[label][n].append(float(kendalltau(mean, valid[test])[0]))
                print(f"seed {seed} n {n:5d} {label:26s} tau {taus[label][n][-1]:.3f}", file=sys.stderr, flush=True)

    rows = []
    summary = {}
    for label in labels:
        summary[label] = {str(n): {"mean": float(np.mean(taus[label][n])), "std": float(np.std(taus[label][n]))} for n in sizes}
        rows.append([label] + [f"{summary[label][str(n)]['mean']:.3f} ± {summary[label][str(n)]['std']:.3f}" for n in sizes]
                    + [round(seconds[label] / (args.seeds * len(sizes)), 2)])  # fmt: skip
    print(f"\nKendall tau on 1,000 held-out NB201 cells (CIFAR-10 valid, 200 epochs), mean ± std over "
          f"{args.seeds} seeds (0..{args.seeds - 1}); anchor {ANCHOR}")
    print_table(["predictor"] + [f"{n} train" for n in sizes] + ["s/fit+predict"], rows)
    return write_json(args.name, {
        "protocol": "cells with a CIFAR-10 zero-cost row (9,445); per seed 1,000 held out, training cells from the rest; "
                    "target cifar10-valid/200/valid; Kendall tau of predicted vs true on the held-out cells",
        "data_files": [str(data_file(ACCURACY_FILE, args.data)), str(data_file(ZERO_COST_FILE, args.data))],
        "seeds": list(range(args.seeds)), "train_sizes": sizes, "anchor": ANCHOR,
        "predictors": {label: PREDICTORS[label] for label in labels}, "embeddings": args.embeddings, "kendall_tau": summary,
        "per_seed": {label: {str(n): taus[label][n] for n in sizes} for label in labels},
        "seconds_per_fit": {label: seconds[label] / (args.seeds * len(sizes)) for label in labels}, "uptime": uptime(),
    })  # fmt: skip


if __name__ == "__main__":
    main()
