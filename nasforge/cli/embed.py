"""`nasforge embed`: pretrain arch2vec on every cell of a space without labels and save the embeddings."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import ConfigError


def embed(
    out: Path = typer.Option(..., "--out", help="file to write (.npz: embeddings, strings, reconstruction)"),
    space: str = typer.Option("nb201", help="space whose every cell is embedded (nb201)"),
    epochs: int = typer.Option(3, help="pretraining epochs over the unlabelled cells"),
    batch_size: int = typer.Option(128, help="graphs per Adam step"),
    lr: float = typer.Option(3e-3, help="Adam learning rate"),
    seed: int = typer.Option(0, help="seed for the init, the batches and the 10 % held-out split"),
    cells: int = typer.Option(0, help="embed only the first N cells by index (quick runs); 0 = all"),
) -> None:
    """Pretrain arch2vec on all cells of the space (no labels) and write one embedding per cell."""
    import numpy as np
    import torch

    from ..predictors.arch2vec import embed as embed_cells
    from ..predictors.arch2vec import graph_tensors, pretrain, reconstruction_accuracy
    from ..registry import resolve
    from ..training.seeding import torch_threads

    if space != "nb201":
        raise ConfigError(f"embed enumerates every cell, which only nb201 allows (15,625 cells); got space {space!r}")
    if epochs < 1 or batch_size < 2 or not lr > 0:
        raise ConfigError(f"embed needs epochs >= 1, batch_size >= 2 and lr > 0, got {epochs}, {batch_size}, {lr}")
    from ..spaces.nb201 import NUM_ARCHS, OPS

    space_obj = resolve("space", space)()
    if cells < 0 or cells == 1:
        raise ConfigError(f"--cells must be 0 (all) or at least 2, got {cells}")
    total = cells or NUM_ARCHS
    archs = [space_obj.from_index(i) for i in range(min(total, NUM_ARCHS))]
    with torch_threads(1):
        ops, adj = graph_tensors(space_obj, archs, ("input",) + OPS + ("output",))
        order = np.random.default_rng(seed).permutation(len(archs))
        cut = int(0.9 * len(archs))
        train, held = torch.as_tensor(order[:cut]), torch.as_tensor(order[cut:])
        model, history = pretrain(ops[train], adj[train], epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
        recon = reconstruction_accuracy(model, ops[held], adj[held])
        vectors = embed_cells(model, ops, adj)
    np.savez_compressed(out, embeddings=vectors, strings=np.asarray([a.string for a in archs]),
                        loss=np.asarray(history), **{f"reconstruction_{k}": v for k, v in recon.items()})  # fmt: skip
    typer.echo(f"arch2vec on {len(train)} {space} cells, {epochs} epochs: loss {history[-1]:.3f}; held-out reconstruction "
               f"ops {recon['ops']:.4f}, adjacency {recon['adjacency']:.4f}, exact graphs {recon['graphs_exact']:.4f}; written {out}")
