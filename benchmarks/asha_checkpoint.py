"""ASHA on real training: promotion from the trial's checkpoint vs retraining at every rung.

Both arms run the same study (random search, same seeds, same rungs, serial executor) through the
real study loop and trainer. The only difference: the "retrain" arm hides the trial's checkpoint
folder from the trainer, so a promoted trial trains again from epoch 0 (what nasforge did before
spine v2). Because the learning-rate schedule spans the top rung in both arms, a continued run gives
the same weights as a retrained one: the best accuracy must be identical, and the saving is pure.

With geometric rungs of ratio r, a trial that reaches the top rung costs top * r / (r - 1) epochs
when retrained and top epochs when continued, so the saving grows as the rungs get denser: at most
1/3 with eta=3 (1, 3, 9) and 1/2 with eta=2 (1, 2, 4, 8).

    python benchmarks/asha_checkpoint.py --seeds 3 --trials 16 --rungs 1,2,4,8 --eta 2
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from typing import Any

from _common import print_table, uptime, write_json


def make_evaluator(dataset: str, epochs: int, retrain: bool):
    from nasforge.evaluators.trainer import TrainerEvaluator
    from nasforge.spaces.chain import ChainSpace

    class Counting(TrainerEvaluator):
        """Counts the epochs actually trained (one report per epoch)."""

        epochs_trained = 0

        def evaluate(self, arch, fidelity=None, seed=0, context=None):
            if retrain and context is not None:
                context = dataclasses.replace(context, checkpoint_dir=None)
            before = len(context.reports) if context is not None else 0
            try:
                return super().evaluate(arch, fidelity, seed, context)
            finally:
                if context is not None:
                    Counting.epochs_trained += len(context.reports) - before

    space = ChainSpace(max_nodes=4, filters=(8, 16), kernels=(3,))
    options: dict[str, Any] = {"digits": {"batch_size": 64}, "mnist1d": {"batch_size": 128}}[dataset]
    evaluator = Counting(space, dataset=dataset, epochs=epochs, latency_repeats=1, **options)
    Counting.epochs_trained = 0
    return space, evaluator, Counting


def run(dataset: str, seed: int, trials: int, rungs: list[int], eta: int, retrain: bool) -> dict[str, Any]:
    from nasforge.strategies.random import RandomSearch
    from nasforge.study import create_study
    from nasforge.study.schedulers import ASHA

    space, evaluator, counter = make_evaluator(dataset, rungs[-1], retrain)
    study = create_study(name="asha", space=space, strategy=RandomSearch(space, seed=seed),
                         evaluator=evaluator, seed=seed, scheduler=ASHA(rungs, eta=eta))
    started = time.perf_counter()
    study.optimize(n_trials=trials)
    seconds = time.perf_counter() - started
    best = study.best_trial
    return {"epochs": counter.epochs_trained, "seconds": seconds,
            "best_valid": best.values[0], "best_test": best.metrics["test_accuracy"],
            "promoted": sum(t.fidelity == rungs[-1] for t in study.trials)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--rungs", default="1,2,4,8")
    parser.add_argument("--eta", type=int, default=2)
    parser.add_argument("--datasets", default="digits,mnist1d")
    args = parser.parse_args()
    rungs = [int(r) for r in args.rungs.split(",")]
    rows, records = [], []
    for dataset in args.datasets.split(","):
        for seed in range(args.seeds):
            # the arms alternate within a seed, so machine load hits both alike
            pair = {arm: run(dataset, seed, args.trials, rungs, args.eta, arm == "retrain")
                    for arm in ("checkpoint", "retrain")}  # fmt: skip
            saved = 1 - pair["checkpoint"]["epochs"] / pair["retrain"]["epochs"]
            records.append({"dataset": dataset, "seed": seed, **{f"{a}_{k}": v for a, r in pair.items()
                                                                  for k, v in r.items()}})
            rows.append([dataset, seed, pair["checkpoint"]["epochs"], pair["retrain"]["epochs"],
                         f"{100 * saved:.1f}%", f"{pair['checkpoint']['seconds']:.1f}",
                         f"{pair['retrain']['seconds']:.1f}", f"{pair['checkpoint']['best_valid']:.2f}",
                         f"{pair['retrain']['best_valid']:.2f}"])
    print_table(["dataset", "seed", "epochs ckpt", "epochs retrain", "fewer epochs", "s ckpt",
                 "s retrain", "best valid ckpt", "best valid retrain"], rows)
    write_json("asha_checkpoint", {"trials": args.trials, "rungs": rungs, "eta": args.eta,
                                   "load": uptime(), "runs": records})


if __name__ == "__main__":
    main()
