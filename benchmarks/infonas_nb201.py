"""info-NAS vs arch2vec on NAS-Bench-201: embeddings as predictor features, Kendall tau with few labels.

Protocol: per seed, 1,000 NB201 cells held out at random; n training cells (50 / 100 / 400) drawn
from the rest, labelled with CIFAR-10 validation accuracy after 200 epochs (``cifar10-valid/200/valid``).
Both VAEs share one architecture and budget (GIN 3 x 64, 16-d latents, Adam, batch 64, same epochs)
and see every one of the 15,625 cells unlabelled (as arch2vec pretraining does); arch2vec is trained
once per seed without labels, info-NAS once per (seed, n) with the n training cells labelled (its
accuracy heads trained jointly). Each embedding is then the only feature of an MLP ensemble and of
XGBoost fitted on the same n cells; the info-NAS heads are also scored as a predictor themselves.
Score: Kendall tau of predicted vs true accuracy on the 1,000 held-out cells.

Usage: nice -n 10 python benchmarks/infonas_nb201.py [--seeds 10] [--train 50,100,400] [--epochs 4]  (~10 min)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
from _common import print_table, uptime, write_json  # noqa: E402

from nasforge.evaluators.tabular import ACCURACY_FILE, NB201Tabular  # noqa: E402
from nasforge.paths import data_file  # noqa: E402
from nasforge.predictors.base import make_predictor  # noqa: E402
from nasforge.spaces.nb201 import NUM_ARCHS, OPS, NB201Space  # noqa: E402

MODEL = {"hidden": 64, "latent": 16, "layers": 3}
REGRESSORS = {"mlp_ensemble": {"encoding": "none"}, "xgboost": {"encoding": "none"}}


def main(argv: list[str] | None = None) -> dict:
    import torch
    from scipy.stats import kendalltau

    from nasforge.predictors.arch2vec import embed, graph_tensors, pretrain, reconstruction_accuracy
    from nasforge.predictors.infonas import predict_heads, train_semi_supervised
    from nasforge.training.seeding import torch_threads

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--train", default="50,100,400")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--data", default=None)
    parser.add_argument("--name", default="infonas_nb201")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.train.split(",")]

    space = NB201Space()
    valid = NB201Tabular(space, "cifar10", data_dir=args.data, hardware=False).column("valid_accuracy", 200)
    archs = [space.from_index(i) for i in range(NUM_ARCHS)]
    strings = np.asarray([a.string for a in archs])
    ops, adj = graph_tensors(space, archs, ("input",) + OPS + ("output",))
    labels = [f"{reg}({emb})" for emb in ("arch2vec", "infonas") for reg in REGRESSORS] + ["infonas heads"]
    taus = {label: {n: [] for n in sizes} for label in labels}
    recon: dict[str, list[float]] = {"arch2vec": [], "infonas": []}
    seconds = {"arch2vec": 0.0, "infonas": 0.0}
    options = dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=0, **MODEL)
    with tempfile.TemporaryDirectory() as tmp, torch_threads(1):
        for seed in range(args.seeds):
            order = np.random.default_rng(seed).permutation(NUM_ARCHS)
            test, pool = order[:1000], order[1000:]
            test_archs = [archs[i] for i in test]
            started = time.perf_counter()
            base, _ = pretrain(ops, adj, **{**options, "seed": seed})
            seconds["arch2vec"] += time.perf_counter() - started
            recon["arch2vec"].append(reconstruction_accuracy(base, ops[test], adj[test])["ops"])
            files = {"arch2vec": _save(Path(tmp) / f"a{seed}.npz", embed(base, ops, adj), strings)}
            for n in sizes:
                train = pool[:n]
                train_archs = [archs[i] for i in train]
                started = time.perf_counter()
                info, _, scale = train_semi_supervised(ops, adj, train, valid[train], **{**options, "seed": seed})
                seconds["infonas"] += time.perf_counter() - started
                recon["infonas"].append(reconstruction_accuracy(info, ops[test], adj[test])["ops"])
                files["infonas"] = _save(Path(tmp) / f"i{seed}_{n}.npz", embed(info, ops, adj), strings)
                heads = predict_heads(info, ops[torch.as_tensor(test)], adj[torch.as_tensor(test)], scale).mean(axis=0)
                taus["infonas heads"][n].append(float(kendalltau(heads, valid[test])[0]))
                for emb, path in files.items():
                    for reg, reg_options in REGRESSORS.items():
                        predictor = make_predictor(reg, space, seed=seed, embeddings=str(path), **reg_options)
                        mean, _ = predictor.fit(train_archs, valid[train]).predict(test_archs)
                        taus[f"{reg}({emb})"][n].append(float(kendalltau(mean, valid[test])[0]))
                print(f"seed {seed} n {n:4d} " + "  ".join(f"{k} {v[n][-1]:.3f}" for k, v in taus.items()), file=sys.stderr, flush=True)

    summary = {label: {str(n): {"mean": float(np.mean(taus[label][n])), "std": float(np.std(taus[label][n]))} for n in sizes}
               for label in labels}  # fmt: skip
    rows = [[label] + [f"{summary[label][str(n)]['mean']:.3f} ± {summary[label][str(n)]['std']:.3f}" for n in sizes] for label in labels]
    print(f"\nKendall tau on 1,000 held-out NB201 cells (CIFAR-10 valid, 200 epochs), mean ± std over {args.seeds} seeds "
          f"(0..{args.seeds - 1}); VAEs {MODEL}, {args.epochs} epochs over all {NUM_ARCHS} cells, batch {args.batch_size}")
    print_table(["predictor (features)"] + [f"{n} labels" for n in sizes], rows)
    print(f"op reconstruction of the 1,000 test cells (seen unlabelled): arch2vec {np.mean(recon['arch2vec']):.4f}, info-NAS {np.mean(recon['infonas']):.4f}; "
          f"VAE training s/model: arch2vec {seconds['arch2vec'] / args.seeds:.1f}, info-NAS {seconds['infonas'] / (args.seeds * len(sizes)):.1f}")
    return write_json(args.name, {
        "protocol": __doc__.split("\n\n")[1].replace("\n", " "),
        "data_files": [str(data_file(ACCURACY_FILE, args.data))], "seeds": list(range(args.seeds)), "train_sizes": sizes,
        "vae": {**MODEL, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "cells": NUM_ARCHS},
        "kendall_tau": summary, "per_seed": {label: {str(n): taus[label][n] for n in sizes} for label in labels},
        "reconstruction_ops_test_cells_seen_unlabelled": {k: float(np.mean(v)) for k, v in recon.items()},
        "vae_seconds_per_model": {"arch2vec": seconds["arch2vec"] / args.seeds, "infonas": seconds["infonas"] / (args.seeds * len(sizes))},
        "uptime": uptime(),
    })  # fmt: skip


def _save(path: Path, vectors: np.ndarray, strings: np.ndarray) -> Path:
    """An embedding file in the format `nasforge embed` writes (what Featurizer reads)."""
    np.savez_compressed(path, embeddings=vectors, strings=strings)
    return path


if __name__ == "__main__":
    main()
