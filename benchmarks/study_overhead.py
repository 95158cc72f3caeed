"""Study-loop overhead: trials/s of ask -> evaluate -> SQLite record -> tell, vs Optuna + SQLite.

The evaluation is an NB201 table look-up (microseconds), so the figure is the loop's own cost.
Methods run interleaved in one process (round robin over repeats) because the machine is noisy.

    python benchmarks/study_overhead.py --trials 300 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _common import print_table, write_json

from nasforge.evaluators.tabular import NB201Tabular
from nasforge.objectives import Objective
from nasforge.spaces.nb201 import NB201Space
from nasforge.study import create_study
from nasforge.registry import resolve

OBJ = [Objective("valid_accuracy", "max")]


def run_nasforge(strategy: str, trials: int, folder: Path, data: str | None, seed: int) -> float:
    space = NB201Space()
    evaluator = NB201Tabular(space, dataset="cifar10", data_dir=data)
    evaluator.prepare()
    study = create_study(name=f"{strategy}-{seed}", space=space,
                         strategy=resolve("strategy", strategy)(space, seed=seed, objectives=OBJ),
                         evaluator=evaluator, objectives=OBJ, storage=folder / "nf.db", seed=seed)  # fmt: skip
    start = time.perf_counter()
    study.optimize(n_trials=trials)
    elapsed = time.perf_counter() - start
    assert study.counts()["COMPLETE"] == trials
    return trials / elapsed


def run_optuna(sampler_name: str, trials: int, folder: Path, data: str | None, seed: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = NB201Space()
    evaluator = NB201Tabular(space, dataset="cifar10", data_dir=data)
    evaluator.prepare()
    ops = space.genes()[0].choices
    sampler = (optuna.samplers.TPESampler(seed=seed) if sampler_name == "tpe"
               else optuna.samplers.RandomSampler(seed=seed))  # fmt: skip
    study = optuna.create_study(direction="maximize", sampler=sampler,
                                storage=f"sqlite:///{folder / 'optuna.db'}",
                                study_name=f"{sampler_name}-{seed}")  # fmt: skip

    def objective(trial: "optuna.Trial") -> float:
        genes = [ops.index(trial.suggest_categorical(g.name, ops)) for g in space.genes()]
        return evaluator.evaluate(space.from_genes(genes), None, 0)["valid_accuracy"]

    start = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    return trials / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", default=None, help="benchmark data folder")
    args = parser.parse_args()

    methods = {
        "nasforge random": lambda f, s: run_nasforge("random", args.trials, f, args.data, s),
        "nasforge evolution": lambda f, s: run_nasforge("evolution", args.trials, f, args.data, s),
        "optuna random": lambda f, s: run_optuna("random", args.trials, f, args.data, s),
        "optuna tpe": lambda f, s: run_optuna("tpe", args.trials, f, args.data, s),
    }
    rates: dict[str, list[float]] = {m: [] for m in methods}
    for seed in range(args.repeats):
        for name, fn in methods.items():
            with tempfile.TemporaryDirectory() as tmp:
                rates[name].append(fn(Path(tmp), seed))
    medians = {m: statistics.median(r) for m, r in rates.items()}
    rows = []
    for name, median in medians.items():
        rows.append([name, median, min(rates[name]), max(rates[name]),
                     median / medians["optuna random"], median / medians["optuna tpe"]])  # fmt: skip
    print(f"NB201 cifar10 table look-ups, {args.trials} trials per run, {args.repeats} runs "
          f"(seeds 0..{args.repeats - 1}), SQLite file storage for both")  # fmt: skip
    print_table(["method", "trials/s (median)", "min", "max", "x optuna random", "x optuna tpe"], rows)
    write_json("study_overhead", {"trials": args.trials, "repeats": args.repeats,
                                  "data": "nb201/nb201_accuracy.csv.gz", "rates": rates,
                                  "median": medians})  # fmt: skip


if __name__ == "__main__":
    main()
