"""Data pipeline: the trainer on an image folder (Pillow decode + augmentation) vs the same tensors
already in memory (target ratio >= 0.8), and a trial's start-up cost (process to first batch).

Part 1 writes scikit-learn's digits as 32x32 RGB PNGs in one folder per class (nothing is
downloaded), then trains the same small CNN, with the same seed and the same augmentation
(``crop`` + ``affine``), twice, interleaved over ``--repeats``:

- ``folder``: a fresh ``TrainerEvaluator`` on the folder, the process cache cleared, so the time
  includes reading and decoding every PNG, splitting and normalising, then training;
- ``memory``: the same pixels handed over as NumPy arrays (``from_arrays``), so the time includes
  splitting, normalising and training only.

images/s = training images seen (train split x epochs) / wall seconds of the whole ``evaluate``.
nasforge decodes once per worker process and then trains from tensors (no DataLoader), so there are
no loader workers to vary: the folder's cost is one decode pass, paid once per process however many
trials the process runs; the table also shows it per trial for the first trial of a process, the
worst case. A no-augmentation run on memory shows what augmentation itself costs.

Part 2 measures, per executor, the wall time from creating the study (before any worker process
exists) to the first training batch of its first trial (worker start, imports, data load, model
build), read from a timestamp the evaluator takes just before ``fit``: ``serial`` (in process),
``local`` (a spawned worker process), ``ray`` (a local Ray cluster started for the study).

Usage: python benchmarks/data_pipeline.py [--epochs 3] [--repeats 3] [--seed 0] [--no-ray]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import print_table, uptime, write_json

from nasforge.data import from_arrays
from nasforge.data.files import load_image_folder_raw
from nasforge.evaluators.trainer import TrainerEvaluator
from nasforge.spaces.chain import ChainSpace

ARCH = "conv_3_16>max_pool>conv_3_32>max_pool|lr=0.05,mom=0.9,wd=0.0005,opt=sgd"
AUGMENT = {"crop": {"padding": 4}, "affine": {"degrees": 10}}


def write_folder(root: Path) -> int:
    """Digits as 32x32 RGB PNGs (a random tint per image, so the three channels differ)."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    tints = np.random.default_rng(0).uniform(0.4, 1.0, size=(len(digits.target), 3))  # per image: no label leak
    for i, (pixels, label) in enumerate(zip(digits.images, digits.target)):
        grey = Image.fromarray((pixels * 255 / 16).astype(np.uint8), mode="L").resize((32, 32), Image.BILINEAR)
        rgb = (np.asarray(grey, dtype=np.float32)[..., None] * tints[i]).astype(np.uint8)
        folder = root / f"digit_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rgb, mode="RGB").save(folder / f"{i}.png")
    return len(digits.target)


def run_once(space: ChainSpace, dataset: Any, epochs: int, augment: Any, seed: int) -> dict[str, float]:
    from nasforge.data.load import _cached

    _cached.cache_clear()  # the folder is decoded again, as in a fresh worker process
    started = time.perf_counter()
    evaluator = TrainerEvaluator(space, dataset=dataset, epochs=epochs, batch_size=64, augment=augment,
                                 latency_repeats=1, threads=1)
    metrics = evaluator.evaluate(space.from_string(ARCH), seed=seed)
    wall = time.perf_counter() - started
    n_train = len(evaluator.data().y_train)
    return {"wall_s": wall, "fit_s": metrics["train_time"], "images_per_s": n_train * epochs / wall,
            "valid_accuracy": metrics["valid_accuracy"], "n_train": n_train}


class FirstBatchTrainer(TrainerEvaluator):
    """The trainer, plus the wall-clock time at which training is about to start (``first_batch_at``)."""

    def _fit_inputs(self, arch, splits, task):
        self._first_batch_at = time.time()
        return super()._fit_inputs(arch, splits, task)

    def evaluate(self, arch, fidelity=None, seed=0, context=None):
        metrics = super().evaluate(arch, fidelity, seed, context)
        return {**metrics, "first_batch_at": self._first_batch_at}


def startup(kind: str, folder: Path, seed: int) -> float:
    """Seconds from creating the study to its first trial's first batch."""
    from nasforge.strategies.fixed_list import FixedList
    from nasforge.study import create_study

    space = ChainSpace(max_nodes=4, filters=(16, 32), kernels=(3,))
    executor = None
    if kind == "local":
        from nasforge.study.pool import LocalPoolExecutor

        executor = LocalPoolExecutor(workers=1)
    elif kind == "ray":
        from nasforge.study.ray_executor import RayExecutor

        executor = RayExecutor(workers=1)
    from nasforge.data.load import _cached

    _cached.cache_clear()
    started = time.time()
    evaluator = FirstBatchTrainer(space, dataset=str(folder), epochs=1, latency_repeats=1, threads=1)
    study = create_study(name=f"startup-{kind}", space=space, evaluator=evaluator, executor=executor,
                         strategy=FixedList(space, seed=seed, architectures=[ARCH]), seed=seed)
    study.optimize(n_trials=1)
    trial = study.trials[0]
    if trial.state.value != "COMPLETE":
        raise RuntimeError(f"{kind}: trial {trial.state.value}: {trial.error}")
    return trial.metrics["first_batch_at"] - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    space = ChainSpace(max_nodes=4, filters=(16, 32), kernels=(3,))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "digits32"
        count = write_folder(folder)
        raw = load_image_folder_raw(folder)
        arrays = from_arrays(raw.x_train, raw.y_train, name="digits32", num_classes=10)
        runs: dict[str, list[dict[str, float]]] = {"folder": [], "memory": [], "memory_no_aug": []}
        for _ in range(args.repeats):  # interleaved, so machine load hits all alike
            runs["folder"].append(run_once(space, str(folder), args.epochs, AUGMENT, args.seed))
            runs["memory"].append(run_once(space, arrays, args.epochs, AUGMENT, args.seed))
            runs["memory_no_aug"].append(run_once(space, arrays, args.epochs, None, args.seed))
        starts = {"serial": startup("serial", folder, args.seed), "local": startup("local", folder, args.seed)}
        if not args.no_ray:
            starts["ray"] = startup("ray", folder, args.seed)

    print(f"data pipeline: {count} digits as 32x32 RGB PNGs, {ARCH}")
    print(f"epochs={args.epochs} batch=64 threads=1 seed={args.seed} repeats={args.repeats} augment={AUGMENT}")
    rows = []
    summary: dict[str, Any] = {}
    for name, values in runs.items():
        med = {k: statistics.median(v[k] for v in values) for k in values[0]}
        summary[name] = med
        rows.append([name, med["n_train"], f"{med['wall_s']:.2f}", f"{med['fit_s']:.2f}",
                     f"{med['images_per_s']:.0f}", f"{med['valid_accuracy']:.1f}"])
    print_table(["source", "train imgs", "wall s", "fit s", "images/s", "valid acc %"], rows)
    ratio = summary["folder"]["images_per_s"] / summary["memory"]["images_per_s"]
    aug = summary["memory"]["images_per_s"] / summary["memory_no_aug"]["images_per_s"]
    same = summary["folder"]["valid_accuracy"] == summary["memory"]["valid_accuracy"]
    print(f"\nfolder / memory images/s (target >= 0.8): {ratio:.3f}   (same result: {same})")
    print(f"augmented / plain images/s (memory): {aug:.3f}")
    print()
    print_table(["executor", "study start -> first batch s"], [[k, f"{v:.2f}"] for k, v in starts.items()])
    write_json("data_pipeline", {
        "data": f"sklearn digits as {count} 32x32 RGB PNGs (written by the script)", "arch": ARCH,
        "epochs": args.epochs, "batch_size": 64, "seed": args.seed, "repeats": args.repeats,
        "augment": AUGMENT, "runs": runs, "median": summary, "folder_over_memory": ratio,
        "augmented_over_plain": aug, "same_result": same, "startup_s": starts, "uptime": uptime(),
    })


if __name__ == "__main__":
    main()
