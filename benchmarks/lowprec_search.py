"""Low-precision one-shot search: mixed vs uniform precision, one-shot vs NSGA-II, convolution sharing.

Parts (run one with --part, or all):

* ``precision``: a DARTS supernet over the chain_precision space (ops + per-layer weight /
  activation bits from {2, 4, 8, 32}) is searched with a BitOps penalty; the derived network and
  its uniform 8-bit and 4-bit versions (same ops) are trained the same way (quant_trainer) as
  trials of one study. Accuracy, BitOps, weight memory, energy per seed and dataset.
* ``nsga2``: the one-shot pipeline (searches over a penalty sweep + training the derived nets) vs
  NSGA-II over the same space with the same evaluator, given the one-shot run's wall clock;
  hypervolume of (valid accuracy max, BitOps min) with one normalisation box for both.
* ``sharing``: supernet training step time and peak memory (RSS growth, fresh process each) with
  one convolution per layer (EdMIPS sharing) vs one convolution per (weight, activation) bit pair.

    nice -n 10 python benchmarks/lowprec_search.py --part precision --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import print_table, uptime, write_json  # noqa: E402

EVAL = {"epochs": 10, "batch_size": 64, "threads": 1, "latency_repeats": 2}
OBJECTIVES = ["valid_accuracy:max", "bitops_m:min"]
SHOWN = ("valid_accuracy", "test_accuracy", "bitops_m", "weight_kb", "energy_nj", "boo_per_param")


def config(dataset: str, seed: int, search_epochs: int, penalties, uniform) -> dict:
    return {
        "name": f"lowprec-{dataset}-s{seed}", "storage": ":memory:", "seed": seed,
        "space": "chain_precision", "space_options": {"preset": dataset}, "dataset": dataset,
        "oneshot": {"relaxation": "darts", "epochs": search_epochs, "batch_size": 32, "arch_lr": 0.003,
                    "penalties": penalties, "uniform_baselines": uniform},
        "evaluator": "quant_trainer", "evaluator_options": EVAL, "objectives": OBJECTIVES,
    }


def part_precision(datasets, seeds, penalties) -> dict:
    from nasforge.oneshot.study import run_oneshot

    rows, records = [], []
    for dataset in datasets:
        for seed in seeds:
            epochs = 10 if dataset == "digits" else 5
            started = time.perf_counter()
            study = run_oneshot(config(dataset, seed, epochs, penalties, [8, 4]))
            wall = time.perf_counter() - started
            by_arch = {t.arch: t for t in study.trials}
            for arch, origin in zip(study.strategy.archs, study.strategy.origin):
                t = by_arch[arch.string]
                kind = f"uniform {origin['uniform_bits']}-bit" if origin["uniform_bits"] else "mixed (found)"
                rec = {"dataset": dataset, "seed": seed, "penalty": origin["penalty"], "kind": kind,
                       "arch": arch.string, "collapsed": origin["collapsed"],
                       **{k: t.metrics.get(k) for k in SHOWN}}
                records.append(rec)
                rows.append([dataset, seed, origin["penalty"], kind] + [rec[k] for k in SHOWN] + [arch.string])
            records.append({"dataset": dataset, "seed": seed, "wall_s": wall})
    print_table(["data", "seed", "penalty", "network"] + list(SHOWN) + ["arch"], rows)
    return {"records": records, "search_epochs": {"digits": 10, "mnist1d": 5}, "train": EVAL,
            "penalties": penalties}


def part_nsga2(seed: int) -> dict:
    from nasforge.oneshot.study import run_oneshot
    from nasforge.report.pareto import pareto_summary
    from nasforge.study.api import create_study_from_config

    started = time.perf_counter()
    oneshot = run_oneshot(config("digits", seed, 10, [0.0, 0.05, 0.2, 1.0], []))
    budget = time.perf_counter() - started
    started = time.perf_counter()
    nsga = create_study_from_config({
        "name": "nsga2", "storage": ":memory:", "seed": seed, "space": "chain_precision",
        "space_options": {"preset": "digits"}, "dataset": "digits", "strategy": "nsga2",
        "strategy_options": {"population_size": 8}, "evaluator": "quant_trainer",
        "evaluator_options": EVAL, "objectives": OBJECTIVES,
    })
    nsga.optimize(n_trials=1000, timeout=budget)
    nsga_wall = time.perf_counter() - started
    trials = {"oneshot": oneshot.trials, "nsga2": nsga.trials}
    values = [t.values for ts in trials.values() for t in ts if t.values]
    box = [[min(v[0] for v in values), max(v[0] for v in values)],
           [min(v[1] for v in values), max(v[1] for v in values)]]
    out, rows = {}, []
    for name, ts in trials.items():
        summary = pareto_summary(ts, OBJECTIVES, bounds=box)
        out[name] = {"trials": len(ts), "hypervolume": summary["hypervolume"],
                     "front": [{"arch": f["arch"], **f["values"]} for f in summary["pareto_front"]]}
        rows.append([name, len(ts), round(summary["hypervolume"], 4), len(summary["pareto_front"]),
                     max(f["values"]["valid_accuracy"] for f in summary["pareto_front"])])
    out["budget_s"], out["nsga2_wall_s"], out["bounds"] = budget, nsga_wall, box
    print(f"one-shot pipeline wall clock {budget:.0f} s; NSGA-II given the same ({nsga_wall:.0f} s used)")
    print_table(["method", "trials", "hypervolume", "front size", "best valid acc"], rows)
    return out


SHARING_SCRIPT = """
import json, resource, sys, time, torch
from nasforge.data.load import load_dataset
from nasforge.spaces.chain_precision import ChainPrecisionSpace
from nasforge.oneshot.supernet import ChainSupernet
torch.set_num_threads(1)
share = sys.argv[1] == "1"
data = load_dataset("digits", seed=0)
x, y = torch.from_numpy(data.x_train[:64]), torch.from_numpy(data.y_train[:64])
g = torch.Generator().manual_seed(0)
with torch.random.fork_rng(devices=[]):
    torch.manual_seed(0)
    net = ChainSupernet(ChainPrecisionSpace(preset="digits"), data.input_shape, 10, "darts", share=share)
opt = torch.optim.SGD(net.parameters(), lr=0.01)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
times = []
for step in range(12):
    t = time.perf_counter()
    loss = torch.nn.functional.cross_entropy(net(x), y)
    opt.zero_grad(); loss.backward(); opt.step()
    times.append(time.perf_counter() - t)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
times = sorted(times[2:])
print(json.dumps({"share": share, "step_ms": 1000 * times[len(times) // 2], "peak_rss_growth_mb": (after - before) / 1024}))
"""


def part_sharing() -> dict:
    root = str(Path(__file__).resolve().parent.parent)
    results = {}
    for share in ("1", "0"):
        run = subprocess.run([sys.executable, "-c", SHARING_SCRIPT, share], capture_output=True, text=True,
                             env={"PYTHONPATH": root, "PATH": "/usr/bin:/bin"}, timeout=600)
        if run.returncode != 0:
            raise SystemExit(run.stderr[-2000:])
        results["shared" if share == "1" else "per_bit_pair"] = json.loads(run.stdout.strip().splitlines()[-1])
    s, p = results["shared"], results["per_bit_pair"]
    results["speedup"] = p["step_ms"] / s["step_ms"]
    results["memory_ratio"] = p["peak_rss_growth_mb"] / max(s["peak_rss_growth_mb"], 1e-9)
    print_table(["variant", "step ms (median of 10, batch 64)", "peak RSS growth MB"],
                [["one conv per layer (shared)", s["step_ms"], s["peak_rss_growth_mb"]],
                 ["one conv per bit pair (16)", p["step_ms"], p["peak_rss_growth_mb"]]])
    print(f"speed-up {results['speedup']:.2f}x, memory {results['memory_ratio']:.2f}x")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["precision", "nsga2", "sharing", "all"], default="all")
    parser.add_argument("--datasets", nargs="+", default=["digits", "mnist1d"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--penalties", nargs="+", type=float, default=[0.05, 0.2])
    args = parser.parse_args()
    parts = ["precision", "nsga2", "sharing"] if args.part == "all" else [args.part]
    for part in parts:
        print(f"\n== {part} ==")
        if part == "precision":
            payload = part_precision(args.datasets, args.seeds, args.penalties)
        elif part == "nsga2":
            payload = part_nsga2(args.seeds[0])
        else:
            payload = part_sharing()
        suffix = "_" + "_".join(args.datasets) if part == "precision" else ""
        write_json(f"lowprec_{part}{suffix}", {"uptime": uptime(), **payload})


if __name__ == "__main__":
    main()
