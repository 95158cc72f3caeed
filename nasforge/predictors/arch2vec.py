"""arch2vec: an unsupervised graph VAE whose latent space embeds architectures (Yan et al., NeurIPS 2020).

Encoder: GIN layers on the cell's op-as-node graph (one-hot op labels, adjacency made symmetric
plus self-loops), giving each node a Gaussian latent (mean, log-variance). Decoder: a linear map
from each node's latent to its op, and an inner-product decoder sigmoid(z_i . z_j) for the edges
(i < j: graphs are topologically ordered, so the upper triangle is the whole DAG). Loss = op
cross-entropy + edge binary cross-entropy + KL, pretrained on unlabelled cells (all 15,625 NB201
cells); the architecture embedding is the mean of the node means. Published settings: 5 GIN layers
of 128 units, 16-d latents, Adam 1e-3, batch 32, 8 epochs; the defaults here train fewer epochs on
CPU (say what you used when quoting figures).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ..architecture import Architecture
from ..errors import ConfigError
from ..spaces.base import SearchSpace


def graph_tensors(space: SearchSpace, archs: Sequence[Architecture], vocabulary: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """(one-hot ops [B, N, V], directed adjacency [B, N, N]) of fixed-size graphs (NB201: 8 nodes)."""
    index = {label: i for i, label in enumerate(vocabulary)}
    graphs = [space.to_graph(a) for a in archs]
    n = max(len(g.labels) for g in graphs)
    ops = torch.zeros(len(graphs), n, len(vocabulary))
    adj = torch.zeros(len(graphs), n, n)
    for b, g in enumerate(graphs):
        for i, label in enumerate(g.labels):
            if label not in index:
                raise ConfigError(f"arch2vec: op {label!r} not in the vocabulary {list(vocabulary)}")
            ops[b, i, index[label]] = 1.0
        for src, dst in g.edges:
            adj[b, src, dst] = 1.0
    return ops, adj


class GIN(nn.Module):
    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.eps = nn.Parameter(torch.zeros(1))
        self.mlp = nn.Sequential(nn.Linear(d_in, d_out), nn.BatchNorm1d(d_out), nn.ReLU(), nn.Linear(d_out, d_out))

    def forward(self, h: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        x = (1 + self.eps) * h + a @ h
        b, n, d = x.shape
        return torch.relu(self.mlp(x.reshape(b * n, d)).reshape(b, n, -1))


class Arch2Vec(nn.Module):
    """GIN encoder -> per-node Gaussian latents -> op and edge reconstruction."""

    def __init__(self, n_ops: int, hidden: int = 128, latent: int = 16, layers: int = 5) -> None:
        super().__init__()
        dims = [n_ops] + [hidden] * layers
        self.gins = nn.ModuleList(GIN(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.op_decoder = nn.Linear(latent, n_ops)

    def encode(self, ops: torch.Tensor, adj: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a = adj + adj.transpose(1, 2)
        h = ops
        for gin in self.gins:
            h = gin(h, a)
        return self.mu(h), self.logvar(h)

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.op_decoder(z), z @ z.transpose(1, 2)

    def loss(self, ops: torch.Tensor, adj: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        mu, logvar = self.encode(ops, adj)
        z = mu + torch.randn(mu.shape, generator=generator) * torch.exp(0.5 * logvar)
        op_logits, adj_logits = self.decode(z)
        upper = torch.triu(torch.ones(adj.shape[1:], dtype=torch.bool), diagonal=1)
        op_loss = nn.functional.cross_entropy(op_logits.reshape(-1, op_logits.shape[-1]), ops.argmax(-1).reshape(-1))
        adj_loss = nn.functional.binary_cross_entropy_with_logits(adj_logits[:, upper], adj[:, upper])
        kl = -0.5 * torch.mean(torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=-1))
        return op_loss + adj_loss + kl / ops.shape[1]


def pretrain(ops: torch.Tensor, adj: torch.Tensor, epochs: int = 3, batch_size: int = 32, lr: float = 1e-3,
             seed: int = 0, **model_options: Any) -> tuple[Arch2Vec, list[float]]:  # fmt: skip
    """Train an Arch2Vec on unlabelled graphs; returns the model (eval mode) and the loss per epoch."""
    from ..training.seeding import seeded_torch

    with seeded_torch(seed) as generator:
        model = Arch2Vec(ops.shape[-1], **model_options)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999))
        history = []
        for _ in range(epochs):
            model.train()
            order = torch.randperm(len(ops), generator=generator)
            total = 0.0
            for start in range(0, len(ops), batch_size):
                rows = order[start : start + batch_size]
                if len(rows) < 2:
                    continue
                loss = model.loss(ops[rows], adj[rows], generator)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(rows)
            history.append(total / len(ops))
    model.eval()
    return model, history


@torch.no_grad()
def embed(model: Arch2Vec, ops: torch.Tensor, adj: torch.Tensor) -> np.ndarray:
    """Architecture embeddings: the mean over nodes of the latent means."""
    mu, _ = model.encode(ops, adj)
    return mu.mean(dim=1).numpy()


@torch.no_grad()
def reconstruction_accuracy(model: Arch2Vec, ops: torch.Tensor, adj: torch.Tensor) -> dict[str, float]:
    """Share of nodes whose op and of upper-triangle entries whose edge are decoded right (from the
    latent means), and the share of graphs reconstructed exactly."""
    mu, _ = model.encode(ops, adj)
    op_logits, adj_logits = model.decode(mu)
    upper = torch.triu(torch.ones(adj.shape[1:], dtype=torch.bool), diagonal=1)
    op_ok = op_logits.argmax(-1) == ops.argmax(-1)
    adj_ok = (adj_logits[:, upper] > 0).float() == adj[:, upper]
    return {"ops": float(op_ok.float().mean()), "adjacency": float(adj_ok.float().mean()),
            "graphs_exact": float((op_ok.all(-1) & adj_ok.all(-1)).float().mean())}  # fmt: skip
