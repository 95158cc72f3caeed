"""SegQNAS on MNI152 tissue segmentation: the searched U-Net vs MONAI's UNet vs a ResU-Net, and
Q-NAS vs random search at equal evaluations.

Data: nilearn's bundled MNI152 T1 (1 mm) with GM / WM probability maps as 3-class labels, axial
slices resized to ``--size``, split by slabs of 10 slices (2 dropped per slab) -- the
``examples/segqnas_mni.yaml`` setup, whose evaluator settings every run here shares (``--size`` /
``--epochs`` override them for a smaller budget). Nothing is downloaded.

1. Q-NAS (small_budget preset) and random search run the same space, evaluator, splits and search
   seed, each for ``--trials`` evaluations or ``--timeout`` seconds (2 worker processes, one torch
   thread each). Compared: the best validation Dice after the same number of evaluations.
2. The best-by-validation Q-NAS network, MONAI's UNet (channels 16..256, 2 residual units) and a
   ResU-Net (16..128) are trained by the same evaluator with each of ``--seeds``; reported: test
   Dice per class (GM, WM) and mean, validation Dice, parameters. Target: mean test Dice >= MONAI
   UNet's with <= 25 % of its parameters.

    python benchmarks/segqnas_mni.py                                   # defaults below
    python benchmarks/segqnas_mni.py --trials 6 --timeout 300 --seeds 0  # quick look
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from _common import print_table, uptime, write_json

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "examples" / "segqnas_mni.yaml"


def config(args: argparse.Namespace, strategy: str, folder: Path) -> dict[str, Any]:
    data = yaml.safe_load(CONFIG.read_text())
    data.update(name=f"mni-{strategy}", strategy=strategy, storage=str(folder / "mni.db"), seed=args.search_seed,
                trials=args.trials, timeout=args.timeout, workers=args.workers)
    if strategy != "qnas":
        data["strategy_options"] = {}
    data["evaluator_options"].update(size=args.size, epochs=args.epochs)
    if args.size < 64:
        data["space_options"]["max_down"] = min(4, (args.size // 8).bit_length())
    return data


def search(args: argparse.Namespace, strategy: str, folder: Path) -> dict[str, Any]:
    from nasforge.study import create_study_from_config

    cfg = config(args, strategy, folder)
    started = time.perf_counter()
    study = create_study_from_config(cfg)
    study.optimize(n_trials=cfg["trials"], timeout=cfg["timeout"])
    wall = time.perf_counter() - started
    done = sorted((t for t in study.trials if t.state.value == "COMPLETE"), key=lambda t: t.number)
    failed = [t for t in study.trials if t.state.value == "FAILED"]
    curve, best = [], None
    for t in done:
        if best is None or t.metrics["valid_dice"] > best.metrics["valid_dice"]:
            best = t
        curve.append(round(best.metrics["valid_dice"], 4))
    return {"strategy": strategy, "completed": len(done), "failed": len(failed), "wall_s": round(wall, 1),
            "curve": curve, "trials": [{"number": t.number, "arch": t.arch, "valid_dice": t.metrics["valid_dice"],
                                        "test_dice": t.metrics["test_dice"], "params_m": t.metrics["params_m"]}
                                       for t in done],
            "failures": [t.error for t in failed],
            "best_arch": None if best is None else best.arch, "config": cfg}


def train(args: argparse.Namespace, cfg: dict[str, Any], arch: str | None, factory: str | None, seed: int) -> dict:
    from nasforge.evaluators.segmentation import SegmentationEvaluator
    from nasforge.spaces.unet import UNetSpace

    space = UNetSpace(**cfg["space_options"])
    options = dict(cfg["evaluator_options"])
    if factory is not None:
        options.update(model_factory=factory, model_options={})
    evaluator = SegmentationEvaluator(space, cfg["dataset"], **options)
    a = space.from_string(arch) if arch else space.sample(__import__("numpy").random.default_rng(0))
    m = evaluator.evaluate(a, seed=seed)
    return {k: m[k] for k in ("valid_dice", "test_dice", "test_dice_grey_matter", "test_dice_white_matter",
                              "params_m", "train_time")}


def mean_std(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} +- {statistics.stdev(values):.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12, help="evaluations per search")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per search")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--size", type=int, default=32, help="slice size (the example config uses 64)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--search-seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds of the final models")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    load_before = uptime()
    with tempfile.TemporaryDirectory() as tmp:
        searches = {s: search(args, s, Path(tmp)) for s in ("qnas", "random")}
    n = min(s["completed"] for s in searches.values())
    print(f"\nQ-NAS vs random search, {n} evaluations each (search seed {args.search_seed}, "
          f"{args.epochs} epochs, {args.size}x{args.size} slices)")
    rows = []
    for name, s in searches.items():
        first = s["trials"][:n]
        best = max(first, key=lambda t: t["valid_dice"]) if first else None
        rows.append([name, s["completed"], s["failed"], s["wall_s"], best and round(best["valid_dice"], 4),
                     best and round(best["test_dice"], 4), best and round(best["params_m"], 4), best and best["arch"]])
    print_table(["search", "completed", "failed", "wall s", f"best valid Dice @{n}", "its test Dice",
                 "params M", "architecture"], rows)

    cfg = searches["qnas"]["config"]
    models = {"SegQNAS best": (searches["qnas"]["best_arch"], None), "MONAI UNet": (None, "monai_unet"),
              "ResU-Net": (None, "resunet")}
    final: dict[str, list[dict]] = {}
    for label, (arch, factory) in models.items():
        if label == "SegQNAS best" and arch is None:
            continue
        final[label] = [train(args, cfg, arch, factory, seed) for seed in args.seeds]
    print(f"\nfinal models, training seeds {args.seeds}: test Dice (mean +- std over seeds)")
    table = []
    for label, runs in final.items():
        table.append([label, round(runs[0]["params_m"], 4), mean_std([r["test_dice_grey_matter"] for r in runs]),
                      mean_std([r["test_dice_white_matter"] for r in runs]), mean_std([r["test_dice"] for r in runs]),
                      mean_std([r["valid_dice"] for r in runs])])
    print_table(["model", "params M", "test Dice GM", "test Dice WM", "test Dice mean", "valid Dice"], table)
    if "SegQNAS best" in final:
        ours = statistics.mean(r["test_dice"] for r in final["SegQNAS best"])
        monai = statistics.mean(r["test_dice"] for r in final["MONAI UNet"])
        ratio = final["SegQNAS best"][0]["params_m"] / final["MONAI UNet"][0]["params_m"]
        print(f"\ntarget (Dice >= MONAI UNet with <= 25 % of its params): Dice {ours:.4f} vs {monai:.4f}, "
              f"params {100 * ratio:.1f} % -> {'met' if ours >= monai and ratio <= 0.25 else 'not met'}")
    name = "segqnas_mni" if args.search_seed == 0 else f"segqnas_mni_s{args.search_seed}"
    write_json(name, {
        "data": "nilearn MNI152 1mm T1 + GM/WM maps (bundled), axial slices, slab split (10, gap 2)",
        "size": args.size, "epochs": args.epochs, "search_seed": args.search_seed, "training_seeds": args.seeds,
        "trials_per_search": args.trials, "timeout_per_search_s": args.timeout, "workers": args.workers,
        "equal_evaluations": n, "searches": {k: {kk: vv for kk, vv in v.items() if kk != "config"}
                                             for k, v in searches.items()},
        "final": final, "uptime_before": load_before, "uptime_after": uptime(),
    })


if __name__ == "__main__":
    main()
