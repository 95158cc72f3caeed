"""Study-loop overhead: trials/s of ask -> evaluate -> record -> tell, nasforge vs Optuna, side by
side under three storage settings:

- ``sqlite``: each library's default SQLite file (Optuna: SQLAlchemy defaults, rollback journal,
  synchronous=FULL; nasforge: WAL, synchronous=NORMAL);
- ``sqlite-wal``: Optuna on a SQLite file with the settings nasforge uses (WAL, synchronous=NORMAL),
  so the comparison is about the loop, not the fsyncs;
- ``memory``: both in memory (Optuna's InMemoryStorage, nasforge's ``:memory:`` SQLite).

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

from _common import print_table, uptime, write_json

from nasforge.evaluators.tabular import NB201Tabular
from nasforge.objectives import Objective
from nasforge.spaces.nb201 import NB201Space
from nasforge.study import create_study
from nasforge.registry import resolve

OBJ = [Objective("valid_accuracy", "max")]


def run_nasforge(strategy: str, trials: int, folder: Path, data: str | None, seed: int,
                 memory: bool = False) -> float:
    space = NB201Space()
    evaluator = NB201Tabular(space, dataset="cifar10", data_dir=data)
    evaluator.prepare()
    study = create_study(name=f"{strategy}-{seed}", space=space,
                         strategy=resolve("strategy", strategy)(space, seed=seed, objectives=OBJ),
                         evaluator=evaluator, objectives=OBJ, seed=seed,
                         storage=None if memory else folder / "nf.db")  # fmt: skip
    start = time.perf_counter()
    study.optimize(n_trials=trials)
    elapsed = time.perf_counter() - start
    assert study.counts()["COMPLETE"] == trials
    return trials / elapsed


def optuna_storage(kind: str, folder: Path):
    """Optuna's storage for ``kind``: default SQLite file, SQLite with nasforge's pragmas, memory."""
    import sqlite3

    import optuna

    path = folder / "optuna.db"
    if kind == "memory":
        return optuna.storages.InMemoryStorage()
    if kind == "sqlite":
        return f"sqlite:///{path}"

    def connect() -> sqlite3.Connection:
        db = sqlite3.connect(str(path))
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    return optuna.storages.RDBStorage(f"sqlite:///{path}", engine_kwargs={"creator": connect})


def run_optuna(sampler_name: str, trials: int, folder: Path, data: str | None, seed: int,
               storage_kind: str = "sqlite") -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = NB201Space()
    evaluator = NB201Tabular(space, dataset="cifar10", data_dir=data)
    evaluator.prepare()
    ops = space.genes()[0].choices
    sampler = (optuna.samplers.TPESampler(seed=seed) if sampler_name == "tpe"
               else optuna.samplers.RandomSampler(seed=seed))  # fmt: skip
    study = optuna.create_study(direction="maximize", sampler=sampler,
                                storage=optuna_storage(storage_kind, folder),
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

    t, d = args.trials, args.data
    methods = {
        "nasforge random / sqlite": lambda f, s: run_nasforge("random", t, f, d, s),
        "nasforge evolution / sqlite": lambda f, s: run_nasforge("evolution", t, f, d, s),
        "optuna random / sqlite": lambda f, s: run_optuna("random", t, f, d, s, "sqlite"),
        "optuna tpe / sqlite": lambda f, s: run_optuna("tpe", t, f, d, s, "sqlite"),
        "optuna random / sqlite-wal": lambda f, s: run_optuna("random", t, f, d, s, "sqlite-wal"),
        "optuna tpe / sqlite-wal": lambda f, s: run_optuna("tpe", t, f, d, s, "sqlite-wal"),
        "nasforge random / memory": lambda f, s: run_nasforge("random", t, f, d, s, memory=True),
        "optuna random / memory": lambda f, s: run_optuna("random", t, f, d, s, "memory"),
        "optuna tpe / memory": lambda f, s: run_optuna("tpe", t, f, d, s, "memory"),
    }
    rates: dict[str, list[float]] = {m: [] for m in methods}
    for seed in range(args.repeats):
        for name, fn in methods.items():
            with tempfile.TemporaryDirectory() as tmp:
                rates[name].append(fn(Path(tmp), seed))
    medians = {m: statistics.median(r) for m, r in rates.items()}
    # each nasforge figure against Optuna random under the same storage kind (and default sqlite)
    ratios = {
        "random, each default sqlite": medians["nasforge random / sqlite"] / medians["optuna random / sqlite"],
        "random, same sqlite settings": medians["nasforge random / sqlite"] / medians["optuna random / sqlite-wal"],
        "random, memory": medians["nasforge random / memory"] / medians["optuna random / memory"],
        "evolution vs tpe, each default sqlite": medians["nasforge evolution / sqlite"] / medians["optuna tpe / sqlite"],
        "evolution vs tpe, same sqlite settings": medians["nasforge evolution / sqlite"] / medians["optuna tpe / sqlite-wal"],
    }  # fmt: skip
    rows = [[name, median, min(rates[name]), max(rates[name])] for name, median in medians.items()]
    print(f"NB201 cifar10 table look-ups, {args.trials} trials per run, {args.repeats} runs "
          f"(seeds 0..{args.repeats - 1}); load: {uptime()}")  # fmt: skip
    print_table(["method / storage", "trials/s (median)", "min", "max"], rows)
    print()
    print_table(["nasforge / optuna", "ratio of medians"], [[k, v] for k, v in ratios.items()])
    write_json("study_overhead", {"trials": args.trials, "repeats": args.repeats,
                                  "data": "nb201/nb201_accuracy.csv.gz", "rates": rates,
                                  "median": medians, "ratios": ratios, "load": uptime()})  # fmt: skip

if __name__ == "__main__":
    main()
