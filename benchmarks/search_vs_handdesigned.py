"""Search vs hand-designed: the default chain-space search against a documented hand-designed CNN,
both trained by the same trainer with the same settings.

For each dataset (digits: examples/digits.yaml; MNIST-1D: examples/mnist1d.yaml) the search runs
once per study seed through the Python API (config loaded from the YAML, storage in a temporary
folder, the config's own trials/timeout budget unless overridden). The hand-designed network
(``ChainSpace.hand_designed(dataset)``) is trained by an evaluator built from the same config (same
epochs, patience, batch size, split, threads) with several training seeds.

Primary figure: the search's best trial selected by validation accuracy (ties -- common with 288
digits validation images -- go to the lower validation loss), with its test accuracy and params as
measured in the search. Target: test accuracy >= the baseline's mean test accuracy with at most
half its parameters. Secondary figures: the best architecture retrained with the baseline's
training seeds (mean +- std), and the smallest architecture whose validation accuracy is within
``--within`` points of the best (also retrained with the baseline's seeds).

Config variants run with ``--config digits=variant.yaml --label NAME`` and are kept next to the
default run in the JSON (``--append``, or ``--merge`` of their result files). The budget is the
config's trials *and* timeout, so on a loaded machine a timeout-bound study completes fewer trials:
the JSON records the trials completed, the wall time and ``uptime`` before and after.

    python benchmarks/search_vs_handdesigned.py --seeds 0 1            # the default configs
    python benchmarks/search_vs_handdesigned.py --datasets digits --seeds 0 --trials 6   # quick
    python benchmarks/search_vs_handdesigned.py --datasets digits --seeds 0 1 \
        --config digits=my.yaml --label "my variant" --append
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from _common import print_table, uptime, write_json

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {"digits": ROOT / "examples" / "digits.yaml", "mnist1d": ROOT / "examples" / "mnist1d.yaml"}


def load_config(dataset: str, args: argparse.Namespace, seed: int, folder: Path) -> dict[str, Any]:
    """The dataset's YAML config with this run's seed, a temp store and optional budget overrides."""
    data = yaml.safe_load(config_path(dataset, args).read_text())
    data["seed"] = seed
    data["name"] = f"{data.get('name') or dataset}-s{seed}"
    data["storage"] = str(folder / f"{dataset}-s{seed}.db")
    if args.trials is not None:
        data["trials"] = args.trials
    if args.timeout is not None:
        data["timeout"] = args.timeout
    if args.workers is not None:
        data["workers"] = args.workers
    return data


def config_path(dataset: str, args: argparse.Namespace) -> Path:
    for item in args.config or []:
        name, _, path = item.partition("=")
        if name == dataset:
            return Path(path).resolve()
    return CONFIGS[dataset]


def run_search(config: dict[str, Any]) -> dict[str, Any]:
    """Run one study; return its complete trials (params in units, accuracies in %)."""
    from nasforge.study import create_study_from_config
    from nasforge.trial import TrialState

    start = time.perf_counter()
    study = create_study_from_config(config)
    study.optimize(n_trials=config.get("trials"), timeout=config.get("timeout"))
    wall = time.perf_counter() - start
    trials = study.trials
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    rows = [{"number": t.number, "arch": t.arch, "seed": t.seed,
             "valid_accuracy": t.metrics["valid_accuracy"], "test_accuracy": t.metrics["test_accuracy"],
             "valid_loss": t.metrics["valid_loss"], "n_params": round(t.metrics["params_m"] * 1e6),
             "epochs": t.metrics.get("epochs")}
            for t in complete]  # fmt: skip
    first = study.best_trial  # what the study reports: best valid accuracy, ties -> earliest
    return {"wall_s": wall, "trials": len(trials), "complete": len(complete),
            "failed": sum(t.state == TrialState.FAILED for t in trials),
            "study_best_number": None if first is None else first.number, "rows": rows}  # fmt: skip


def best_by_valid(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Highest validation accuracy; ties (common: 288 digits valid images) -> lower valid loss."""
    return max(rows, key=lambda r: (r["valid_accuracy"], -r["valid_loss"], -r["number"]))


def smallest_within(rows: list[dict[str, Any]], within: float) -> dict[str, Any]:
    """Smallest network whose validation accuracy is within ``within`` points of the best."""
    top = max(r["valid_accuracy"] for r in rows)
    near = [r for r in rows if r["valid_accuracy"] >= top - within - 1e-9]
    return min(near, key=lambda r: (r["n_params"], -r["valid_accuracy"], r["number"]))


def train_seeds(config: dict[str, Any], arch_text: str, seeds: list[int]) -> dict[str, Any]:
    """Train one architecture with each seed using the config's own evaluator settings."""
    from nasforge.config import build_components, parse_config

    parts = build_components(parse_config(config))
    space, evaluator = parts["space"], parts["evaluator"]
    arch = space.from_string(arch_text)
    runs = []
    for seed in seeds:
        m = evaluator.evaluate(arch, seed=seed)
        runs.append({"seed": seed, "valid_accuracy": m["valid_accuracy"],
                     "test_accuracy": m["test_accuracy"], "train_time": m["train_time"]})  # fmt: skip
    tests = [r["test_accuracy"] for r in runs]
    valids = [r["valid_accuracy"] for r in runs]
    return {"arch": arch_text, "n_params": round(m["params_m"] * 1e6), "runs": runs,
            "test_mean": statistics.fmean(tests), "test_std": _std(tests),
            "valid_mean": statistics.fmean(valids), "valid_std": _std(valids)}  # fmt: skip


def covering(config: dict[str, Any], arch_text: str) -> dict[str, Any]:
    """``config`` with filters/kernels widened so the space holds ``arch_text`` (a config may search
    a narrower space than the baseline's); the trainer settings stay the same."""
    from nasforge.spaces.chain import parse_chain, parse_function

    options = dict(config.get("space_options") or {})
    funcs = [parse_function(f) for f in parse_chain(arch_text)[0]]
    for key, needed in (("filters", {f.filters for f in funcs if f.filters}),
                        ("kernels", {f.kernel for f in funcs if f.kernel})):  # fmt: skip
        if key in options:
            options[key] = sorted(set(options[key]) | needed)
    return {**config, "space_options": options}


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _std(xs: list[float]) -> float:
    return statistics.stdev(xs) if len(xs) > 1 else 0.0


def _pm(mean: float, std: float) -> str:
    return f"{mean:.2f} +- {std:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["digits", "mnist1d"], choices=sorted(CONFIGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="study seeds")
    parser.add_argument("--baseline-seeds", nargs="+", type=int, default=[0, 1, 2],
                        help="training seeds for the baseline and the retrained search results")  # fmt: skip
    parser.add_argument("--trials", type=int, default=None, help="override the config's trials")
    parser.add_argument("--timeout", type=float, default=None, help="override the config's timeout (s)")
    parser.add_argument("--workers", type=int, default=None, help="override the config's workers")
    parser.add_argument("--within", type=float, default=0.5,
                        help="valid-accuracy slack (points) for the 'smallest near best' figure")  # fmt: skip
    parser.add_argument("--config", nargs="+", metavar="DATASET=YAML",
                        help="use another config file for a dataset (e.g. digits=my.yaml)")
    parser.add_argument("--out", default="search_vs_handdesigned", help="results/<out>.json")
    parser.add_argument("--label", default="default configs", help="name of this run in the JSON")
    parser.add_argument("--append", action="store_true",
                        help="keep the runs already in the JSON (e.g. config variants next to the default)")
    parser.add_argument("--merge", nargs="+", metavar="JSON",
                        help="only add the labelled runs of these result files to results/<out>.json")
    parser.add_argument("--note", default=None, help="with --merge: a note stored in the JSON")
    args = parser.parse_args()
    if args.merge:
        runs = previous_runs(args.out)
        for path in args.merge:
            runs.update(json.loads(Path(path).read_text())["runs"])
        note = args.note or previous_note(args.out)
        write_json(args.out, {"note": note, "runs": runs} if note else {"runs": runs})
        return

    import torch

    torch.set_num_threads(1)
    from nasforge.spaces.chain import HAND_DESIGNED

    load_before = uptime()
    results: dict[str, Any] = {}
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for dataset in args.datasets:
            base_cfg = load_config(dataset, args, args.seeds[0], folder)
            baseline = train_seeds(covering(base_cfg, HAND_DESIGNED[dataset]), HAND_DESIGNED[dataset],
                                   args.baseline_seeds)
            print(f"[{dataset}] baseline {baseline['n_params']:,} params, test "
                  f"{_pm(baseline['test_mean'], baseline['test_std'])}", flush=True)  # fmt: skip
            table.append([dataset, "hand-designed", "-", baseline["n_params"],
                          _pm(baseline["valid_mean"], baseline["valid_std"]),
                          _pm(baseline["test_mean"], baseline["test_std"]), "-"])  # fmt: skip
            searches = []
            for seed in args.seeds:
                cfg = load_config(dataset, args, seed, folder)
                print(f"[{dataset}] search seed {seed}: trials {cfg.get('trials')}, timeout "
                      f"{cfg.get('timeout')} s, {cfg.get('workers')} workers ...", flush=True)  # fmt: skip
                search = run_search(cfg)
                rows = search.pop("rows")
                best = best_by_valid(rows)
                small = smallest_within(rows, args.within)
                best_rt = train_seeds(cfg, best["arch"], args.baseline_seeds)
                small_rt = train_seeds(cfg, small["arch"], args.baseline_seeds)
                ratio = best["n_params"] / baseline["n_params"]
                meets = best["test_accuracy"] >= baseline["test_mean"] and ratio <= 0.5
                small_ratio = small["n_params"] / baseline["n_params"]
                small_meets = small["test_accuracy"] >= baseline["test_mean"] and small_ratio <= 0.5
                searches.append({"seed": seed, "config": {k: cfg[k] for k in ("trials", "timeout", "workers")},
                                 **search, "best": best, "best_retrained": best_rt,
                                 "best_params_ratio": ratio, "best_meets_target": meets,
                                 "smallest_within": small, "smallest_retrained": small_rt,
                                 "smallest_params_ratio": small_ratio,
                                 "smallest_meets_target": small_meets, "all_trials": rows})  # fmt: skip
                label = f"search s{seed} ({search['complete']} trials, {search['wall_s']:.0f} s)"
                table.append([dataset, label + ": best by valid", best["arch"].split("|")[0],
                              best["n_params"], f"{best['valid_accuracy']:.2f}",
                              f"{best['test_accuracy']:.2f}", "yes" if meets else "no"])  # fmt: skip
                table.append([dataset, "  same arch retrained, baseline seeds", "", best_rt["n_params"],
                              _pm(best_rt["valid_mean"], best_rt["valid_std"]),
                              _pm(best_rt["test_mean"], best_rt["test_std"]), "-"])  # fmt: skip
                table.append([dataset, f"  smallest within {args.within} pt of best valid",
                              small["arch"].split("|")[0], small["n_params"],
                              f"{small['valid_accuracy']:.2f}", f"{small['test_accuracy']:.2f}",
                              "yes" if small_meets else "no"])  # fmt: skip
                table.append([dataset, "  smallest retrained, baseline seeds", "", small_rt["n_params"],
                              _pm(small_rt["valid_mean"], small_rt["valid_std"]),
                              _pm(small_rt["test_mean"], small_rt["test_std"]), "-"])  # fmt: skip
            results[dataset] = {"config_file": _rel(config_path(dataset, args)),
                                "config": {k: v for k, v in base_cfg.items()
                                           if k not in ("storage", "name", "seed")},
                                "baseline": baseline, "searches": searches}  # fmt: skip
    print(f"\nstudy seeds {args.seeds}, baseline/retrain training seeds {args.baseline_seeds}; "
          f"accuracies in %; target: test >= baseline mean with <= 0.5x params")  # fmt: skip
    print_table(["dataset", "network", "chain", "params", "valid acc", "test acc", "target met"], table)
    run = {
        "protocol": {"study_seeds": args.seeds, "baseline_seeds": args.baseline_seeds,
                     "budget_override": {"trials": args.trials, "timeout": args.timeout,
                                         "workers": args.workers},
                     "within_points": args.within,
                     "target": "best-by-valid test accuracy >= baseline mean test accuracy, "
                               "params <= 0.5 x baseline",
                     "data": "digits: sklearn.datasets.load_digits; mnist1d: mnist1d.data.make_dataset "
                             "(offline), splits from the evaluator's split_seed"},
        "load_before": load_before, "load_after": uptime(), "cpus": os.cpu_count(),
        "table": table, "results": results}  # fmt: skip
    runs = previous_runs(args.out) if args.append else {}
    runs[args.label] = run
    note = previous_note(args.out) if args.append else None
    write_json(args.out, {"note": note, "runs": runs} if note else {"runs": runs})


def previous_note(out: str) -> str | None:
    path = Path(__file__).resolve().parent / "results" / f"{out}.json"
    return json.loads(path.read_text()).get("note") if path.is_file() else None


def previous_runs(out: str) -> dict[str, Any]:
    """Runs already stored under ``out`` (a file from before labels counts as the default run)."""
    path = Path(__file__).resolve().parent / "results" / f"{out}.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    if "runs" in data:
        return data["runs"]
    return {"default configs": {k: v for k, v in data.items() if k not in ("benchmark", "when", "machine")}}


if __name__ == "__main__":
    main()
