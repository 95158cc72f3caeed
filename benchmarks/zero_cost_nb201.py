"""Zero-cost proxies computed by nasforge against the NAS-Bench-201 zero-cost table.

Per NB201 cell (a seeded sample of the 9,445 cells with a CIFAR-10 row in the table):

- ``synflow`` on the full NB201 network (C=16, N=5, 3x32x32 input, 10 classes; it needs no data),
  Spearman against the table's synflow (target >= 0.95);
- ``params_m`` / ``flops_m`` of the same network against the table's params / flops (exact / a
  constant);
- the data proxies (jacov, nwot, snip, grad_norm, fisher) on scikit-learn's digits with a small NB201
  network (C=8, N=1, batch 32, one mini-batch), Spearman against CIFAR-10 validation accuracy, beside
  the table's proxies against the same accuracies on the same cells.

Usage: python benchmarks/zero_cost_nb201.py [--cells 100] [--seed 0] [--data DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
from _common import print_table, uptime, write_json  # noqa: E402

from nasforge.evaluators.tabular import NB201Tabular  # noqa: E402
from nasforge.evaluators.zero_cost import ZeroCostEvaluator  # noqa: E402
from nasforge.predictors.features import ZERO_COST_FILE, ZERO_COST_PROXIES, zero_cost_table  # noqa: E402
from nasforge.spaces.nb201 import NB201Space  # noqa: E402

DATA_PROXIES = ("jacov", "nwot", "snip", "grad_norm", "fisher")


def main(argv: list[str] | None = None) -> dict:
    import torch
    from scipy.stats import spearmanr

    from nasforge.metrics.zero_cost import zero_cost_proxies
    from nasforge.models.build import build_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    space = NB201Space()
    table = zero_cost_table("cifar10", args.data)
    valid = NB201Tabular(space, "cifar10", data_dir=args.data, hardware=False).column("valid_accuracy", 200)
    covered = np.flatnonzero(np.isfinite(table[:, 0]))
    cells = np.random.default_rng(args.seed).choice(covered, size=args.cells, replace=False)
    column = {p: ZERO_COST_PROXIES.index(p) for p in ZERO_COST_PROXIES}
    digits = ZeroCostEvaluator(space, "digits", batch_size=32, proxies=DATA_PROXIES, model_options={"C": 8, "N": 1})
    ours: dict[str, list[float]] = {p: [] for p in ("synflow", "params_m", "flops_m") + DATA_PROXIES}
    started = time.perf_counter()
    for i, index in enumerate(cells):
        arch = space.from_index(int(index))
        model = build_model(space, arch, (3, 32, 32), 10, seed=int(index))
        full = zero_cost_proxies(model, torch.zeros(2, 3, 32, 32), torch.zeros(2, dtype=torch.long), ("synflow", "params_m", "flops_m"))
        small = digits.evaluate(arch, seed=args.seed)
        for p, v in {**full, **small}.items():
            ours[p].append(v)
        if i % 20 == 0:
            print(f"  {i}/{len(cells)} cells, {time.perf_counter() - started:.0f}s", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    t = {p: table[cells, column[p]] for p in ZERO_COST_PROXIES}
    fidelity = {
        "synflow_spearman_vs_table": float(spearmanr(ours["synflow"], t["synflow"])[0]),
        "params_max_abs_diff_m": float(np.max(np.abs(np.asarray(ours["params_m"]) - t["params"]))),
        "flops_diff_m": {"min": float(np.min(np.asarray(ours["flops_m"]) - t["flops"])),
                         "max": float(np.max(np.asarray(ours["flops_m"]) - t["flops"]))},
    }  # fmt: skip
    vs_accuracy = {p: {"nasforge_digits": float(spearmanr(ours[p], valid[cells])[0]),
                       "table_cifar10": float(spearmanr(t[p], valid[cells])[0]),
                       "nasforge_vs_table": float(spearmanr(ours[p], t[p])[0])}
                   for p in DATA_PROXIES}  # fmt: skip
    vs_accuracy["synflow"] = {"nasforge_digits": float("nan"), "table_cifar10": float(spearmanr(t["synflow"], valid[cells])[0]),
                              "nasforge_vs_table": fidelity["synflow_spearman_vs_table"]}  # fmt: skip
    print(f"\nZero-cost fidelity on {len(cells)} NB201 cells (seed {args.seed}); {seconds:.0f}s")
    print(f"synflow Spearman vs table: {fidelity['synflow_spearman_vs_table']:.4f}; params max |diff| "
          f"{fidelity['params_max_abs_diff_m']:.2e} M; flops diff {fidelity['flops_diff_m']} M")
    print("\nSpearman against CIFAR-10 valid accuracy (200 epochs):")
    print_table(["proxy", "nasforge on digits", "table (CIFAR-10)", "nasforge vs table"],
                [[p, v["nasforge_digits"], v["table_cifar10"], v["nasforge_vs_table"]] for p, v in vs_accuracy.items()])
    return write_json("zero_cost_nb201", {
        "cells": [int(c) for c in cells], "seed": args.seed, "data_file": ZERO_COST_FILE,
        "settings": {"synflow/params/flops": "NB201 C=16 N=5, 3x32x32, 10 classes",
                     "data proxies": "digits, NB201 C=8 N=1, batch 32, train split seed 0"},
        "fidelity": fidelity, "spearman_vs_accuracy": vs_accuracy, "seconds": seconds, "uptime": uptime(),
    })  # fmt: skip


if __name__ == "__main__":
    main()
