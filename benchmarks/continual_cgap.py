"""CGaP vs the full-width network (same epochs) vs L1 structured pruning of the full network.

The digits hand-designed CNN (conv 32-32-pool-64-64-pool) with plain SGD: ``full`` trains it for
EPOCHS + FT_EPOCHS; ``l1`` trains it for EPOCHS, removes half of every layer's filters by L1 norm
and fine-tunes FT_EPOCHS; ``cgap`` starts at a quarter width, grows salient filters in the first
half of EPOCHS, prunes half of every layer's filters by saliency and fine-tunes FT_EPOCHS.
Reported: params (M), FLOPs (M multiply-adds), valid and test accuracy. Target: >= 50 % fewer
params than full at <= 0.5 point accuracy loss.

    nice -n 10 python benchmarks/continual_cgap.py [--seeds 3] [--dataset digits]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import print_table, uptime, write_json  # noqa: E402
from nasforge.evaluators.cgap import CGaPEvaluator  # noqa: E402
from nasforge.spaces.chain import HAND_DESIGNED, ChainSpace  # noqa: E402

SETTINGS = dict(epochs=12, ft_epochs=8, prune_frac=0.5, seed_frac=0.25, grow_every=1, grow_frac=0.5,
                growth_horizon=0.5, saliency="grad_w", split_noise=0.3)
ARCHS = {"digits": HAND_DESIGNED["digits"],
         "mnist1d": HAND_DESIGNED["mnist1d"].split("|")[0] + "|lr=0.05,mom=0.9,wd=0.0005,opt=sgd"}
KEYS = ("params_m", "flops_m", "valid_accuracy", "test_accuracy")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--dataset", default="digits")
    args = parser.parse_args()
    space = ChainSpace()
    arch = space.from_string(ARCHS[args.dataset])
    runs = []
    for seed in range(args.seeds):
        for method in ("full", "l1", "cgap"):
            started = time.perf_counter()
            m = CGaPEvaluator(space, dataset=args.dataset, method=method, **SETTINGS).evaluate(arch, None, seed)
            runs.append({"seed": seed, "method": method, **{k: m[k] for k in KEYS},
                         "seconds": time.perf_counter() - started})
            print(runs[-1], flush=True)
    rows, summary = [], {}
    for method in ("full", "l1", "cgap"):
        mine = [r for r in runs if r["method"] == method]
        summary[method] = {k: statistics.mean(r[k] for r in mine) for k in KEYS}
        summary[method].update({f"{k}_sd": statistics.pstdev(r[k] for r in mine) for k in KEYS})
        rows.append([method] + [f"{summary[method][k]:.4g} ± {summary[method][k + '_sd']:.2g}" for k in KEYS])
    print()
    print_table(["method", *KEYS], rows)
    full = summary["full"]
    checks = {m: {"param_reduction_pct": 100 * (1 - summary[m]["params_m"] / full["params_m"]),
                  "test_loss_pts": full["test_accuracy"] - summary[m]["test_accuracy"],
                  "valid_loss_pts": full["valid_accuracy"] - summary[m]["valid_accuracy"]} for m in ("l1", "cgap")}
    print(checks)
    write_json(f"continual_cgap_{args.dataset}", {"dataset": args.dataset, "arch": ARCHS[args.dataset],
                                                  "settings": SETTINGS, "seeds": args.seeds, "runs": runs,
                                                  "summary": summary, "checks": checks, "load": uptime()})


if __name__ == "__main__":
    main()
