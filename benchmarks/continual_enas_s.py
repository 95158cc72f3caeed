"""ENAS-S (stability fitness) vs the same GA with accuracy-only fitness, then PST on the winners.

Both searches run through a Study with the same seed, space, GA settings and budget: the ENAS-S
block space (2 blocks per module, widths 8/16/32), population POP x GENERATIONS generations,
every candidate trained on task 0 of the digits 5+1+1+1+1+1 stream (validation split of task 0;
noise alpha 0.8, 5 draws). The best architecture of each search (by its own objective) is then
trained through the whole stream with PST for several training seeds; reported: task-0 noise
drop and the forgetting / average incremental accuracy on the test split.

    nice -n 10 python benchmarks/continual_enas_s.py [--pop 6] [--generations 3] [--seeds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import print_table, uptime, write_json  # noqa: E402
from nasforge.evaluators.continual import ContinualEvaluator  # noqa: E402
from nasforge.objectives import Objective  # noqa: E402
from nasforge.spaces.enas_s import ENASSSpace  # noqa: E402
from nasforge.strategies.enas_s import ENASS  # noqa: E402
from nasforge.study import create_study  # noqa: E402

SEARCH = dict(dataset="digits", division="5,1,1,1,1,1", tasks=1, epochs=6, noise_alpha=0.8, noise_draws=5)
STREAM = dict(dataset="digits", division="5,1,1,1,1,1", method="pst", epochs=15, edge_epochs=30, edge_lr=0.02)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pop", type=int, default=6)
    parser.add_argument("--generations", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--search-seed", type=int, default=0)
    args = parser.parse_args()
    space = ENASSSpace(blocks=2, widths=(8, 16, 32))
    picks, rows, out = {}, [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, objective in (("enas_s", "stability_fitness"), ("accuracy_only", "valid_accuracy")):
            objectives = [Objective(objective, "max")]
            started = time.perf_counter()
            study = create_study(
                name=label, space=space, objectives=objectives, storage=f"{tmp}/s.db", seed=args.search_seed,
                strategy=ENASS(space, seed=args.search_seed, objectives=objectives, population=args.pop,
                               generations=args.generations),
                evaluator=ContinualEvaluator(space, **SEARCH))
            study.optimize(n_trials=args.pop * args.generations)
            best = study.best_trial
            picks[label] = best.arch
            out[label] = {"arch": best.arch, "search_seconds": time.perf_counter() - started,
                          "search_metrics": {k: best.metrics[k] for k in (
                              "valid_accuracy", "noisy_accuracy", "noise_drop", "stability_fitness", "params_m")}}
            print(label, best.arch, out[label]["search_metrics"], flush=True)
    stream = ContinualEvaluator(space, **STREAM)
    for label, arch_string in picks.items():
        arch = space.from_string(arch_string)
        runs = [stream.evaluate(arch, None, seed) for seed in range(args.seeds)]
        keys = ("forgetting", "avg_incremental_accuracy", "final_accuracy", "noise_drop")
        out[label]["pst"] = {k: [r[k] for r in runs] for k in keys}
        rows.append([label, arch_string] + [f"{statistics.mean(r[k] for r in runs):.2f} ± "
                                             f"{statistics.pstdev(r[k] for r in runs):.2f}" for k in keys])
    print()
    print_table(["fitness", "selected arch", "forgetting", "avg_incr_acc", "final_acc", "task0_noise_drop"], rows)
    write_json("continual_enas_s", {"search": SEARCH, "stream": STREAM, "population": args.pop,
                                    "generations": args.generations, "search_seed": args.search_seed,
                                    "pst_seeds": args.seeds, "results": out, "load": uptime()})


if __name__ == "__main__":
    main()
