"""Training throughput of TrainerEvaluator against a bare PyTorch loop (target ratio >= 0.95).

Both sides train the same network (same seed, so the same initial weights) on the same
pre-normalised tensors with the same optimiser, batch size, epoch count and torch threads. The bare
loop is the textbook one: shuffle, forward, loss, zero_grad, backward, step, plus one no-grad
validation pass per epoch (any loop that early-stops or keeps the best epoch needs it). Runs are
interleaved (bare, trainer, trainer, bare, ...) so machine load hits both alike.

Two ratios are reported, images/s of the trainer divided by images/s of the bare loop:
- ``fit``: the trainer's own training phase (its ``train_time`` metric);
- ``end_to_end``: the whole ``evaluate()`` call, including model build, final train/valid/test
  scoring, FLOP counting and latency timing.

Usage: python benchmarks/trainer_overhead.py [--epochs 10] [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from nasforge.evaluators.trainer import TrainerEvaluator
from nasforge.models import build_model
from nasforge.spaces.chain import ChainSpace

RESULTS = Path(__file__).resolve().parent / "results" / "trainer_overhead.json"


def bare_loop(space, arch, data, epochs: int, batch_size: int, seed: int, hparams: dict) -> float:
    """Seconds for a plain training loop with per-epoch validation (no nasforge training code)."""
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    xv, yv = torch.from_numpy(data.x_valid), torch.from_numpy(data.y_valid)
    start = time.perf_counter()
    torch.manual_seed(seed)
    model = build_model(space, arch, data.input_shape, data.num_classes)
    opt = torch.optim.SGD(model.parameters(), lr=hparams["lr"], momentum=hparams["momentum"],
                          weight_decay=hparams["weight_decay"], nesterov=True)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    gen = torch.Generator().manual_seed(seed)
    n = len(y)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        xs, ys = x[perm], y[perm]
        for i in range(0, n, batch_size):
            loss = F.cross_entropy(model(xs[i : i + batch_size]), ys[i : i + batch_size])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        model.eval()
        with torch.no_grad():
            (model(xv).argmax(1) == yv).float().mean().item()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--arch", default=None, help="chain string (default: hand-designed for dataset)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    space = ChainSpace()
    arch = space.from_string(args.arch) if args.arch else space.hand_designed(args.dataset)
    evaluator = TrainerEvaluator(space, dataset=args.dataset, epochs=args.epochs,
                                 batch_size=args.batch_size, threads=args.threads, latency_repeats=20)
    hparams = evaluator.hparams(arch)
    if hparams["optimizer"] != "sgd":
        raise SystemExit("this benchmark's bare loop uses SGD; pick an architecture with opt=sgd")
    data = evaluator.data()
    images = args.epochs * len(data.y_train)

    # warm-up: imports, allocator, data tensors
    bare_loop(space, arch, data, 1, args.batch_size, args.seed, hparams)
    evaluator.evaluate(arch, 1, args.seed)

    rows = []
    for r in range(args.repeats):
        order = ("bare", "trainer") if r % 2 == 0 else ("trainer", "bare")
        row: dict[str, float] = {}
        for side in order:
            if side == "bare":
                row["bare_s"] = bare_loop(space, arch, data, args.epochs, args.batch_size, args.seed, hparams)
            else:
                start = time.perf_counter()
                metrics = evaluator.evaluate(arch, args.epochs, args.seed)
                row["trainer_total_s"] = time.perf_counter() - start
                row["trainer_fit_s"] = metrics["train_time"]
                row["valid_accuracy"] = metrics["valid_accuracy"]
        row["fit_ratio"] = row["bare_s"] / row["trainer_fit_s"]
        row["end_to_end_ratio"] = row["bare_s"] / row["trainer_total_s"]
        rows.append(row)

    def ips(key: str) -> float:
        return images / statistics.median(r[key] for r in rows)

    summary = {
        "bare_images_per_s": ips("bare_s"),
        "trainer_fit_images_per_s": ips("trainer_fit_s"),
        "trainer_end_to_end_images_per_s": ips("trainer_total_s"),
        "fit_ratio_median": statistics.median(r["fit_ratio"] for r in rows),
        "end_to_end_ratio_median": statistics.median(r["end_to_end_ratio"] for r in rows),
        "target_ratio": 0.95,
    }
    result = {
        "benchmark": "trainer_overhead",
        "setup": {
            "dataset": args.dataset, "data_source": data.origin, "n_train": len(data.y_train),
            "arch": arch.string, "epochs": args.epochs, "batch_size": args.batch_size,
            "repeats": args.repeats, "threads": args.threads, "seed": args.seed,
            "torch": torch.__version__, "python": platform.python_version(),
            "note": "shared 2-core machine under load from other jobs; ratios are per interleaved pair",
        },
        "summary": summary,
        "rows": rows,
    }
    print(f"trainer overhead: {args.dataset} ({len(data.y_train)} train images), {arch.string}")
    print(f"epochs={args.epochs} batch={args.batch_size} threads={args.threads} seed={args.seed} "
          f"repeats={args.repeats} (interleaved)")
    print(f"{'repeat':>6} {'bare s':>8} {'fit s':>8} {'total s':>8} {'fit ratio':>10} {'e2e ratio':>10}")
    for i, r in enumerate(rows):
        print(f"{i:>6} {r['bare_s']:>8.3f} {r['trainer_fit_s']:>8.3f} {r['trainer_total_s']:>8.3f} "
              f"{r['fit_ratio']:>10.3f} {r['end_to_end_ratio']:>10.3f}")
    print(f"images/s: bare {summary['bare_images_per_s']:.0f}, trainer fit "
          f"{summary['trainer_fit_images_per_s']:.0f}, trainer end-to-end "
          f"{summary['trainer_end_to_end_images_per_s']:.0f}")
    print(f"median ratio (target >= 0.95): fit {summary['fit_ratio_median']:.3f}, "
          f"end-to-end {summary['end_to_end_ratio_median']:.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
