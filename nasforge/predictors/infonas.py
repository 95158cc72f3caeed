"""info-NAS: arch2vec trained semi-supervised, with a head that predicts accuracy from the latents.

The paper (Kadlecova et al., "Graph Embedding for NAS with Input-Output Information", 2021) keeps
the arch2vec VAE and its unlabelled loss and adds, for the few labelled architectures, a head whose
loss is trained jointly with the VAE loss, so the latent space is shaped by what is being predicted.
This module implements the *accuracy* target (the paper's "Accuracy Model", the better of its
variants on NB101: Pearson 0.758 vs 0.701 for arch2vec); the "IO" target (output features of each
trained network on images) is not implemented.

Training, per Adam step: the arch2vec loss on a batch of unlabelled cells, plus ``label_weight`` x
(arch2vec loss + MSE of the heads) on a batch drawn from the labelled cells (with replacement, so a
few labels recur across the whole run, as the paper's bursts of labelled batches do). ``heads``
independent small MLPs read the pooled node means; their mean is the prediction and their spread
the uncertainty (a cheap ensemble: one encoder, several heads).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ..architecture import Architecture
from ..errors import ConfigError
from ..spaces.base import SearchSpace
from ..validation import check_int
from .arch2vec import Arch2Vec, graph_tensors
from .base import Predictor


class InfoNAS(Arch2Vec):
    """Arch2Vec plus ``heads`` MLP regressors on the architecture embedding (mean of node means)."""

    def __init__(self, n_ops: int, hidden: int = 128, latent: int = 16, layers: int = 5, heads: int = 3,
                 head_width: int = 64) -> None:  # fmt: skip
        super().__init__(n_ops, hidden=hidden, latent=latent, layers=layers)
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(latent, head_width), nn.ReLU(), nn.Linear(head_width, 1)) for _ in range(heads)
        )

    def head_outputs(self, mu: torch.Tensor) -> torch.Tensor:
        """(heads, B) standardised predictions from node means [B, N, latent]."""
        pooled = mu.mean(dim=1)
        return torch.stack([head(pooled)[:, 0] for head in self.heads])

    def labelled_loss(self, ops: torch.Tensor, adj: torch.Tensor, z: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """VAE loss + MSE of every head on standardised targets ``z``."""
        mu, _ = self.encode(ops, adj)
        return self.loss(ops, adj, generator) + ((self.head_outputs(mu) - z[None, :]) ** 2).mean()


def train_semi_supervised(
    ops: torch.Tensor,
    adj: torch.Tensor,
    labelled: np.ndarray,
    targets: np.ndarray,
    epochs: int = 3,
    batch_size: int = 32,
    lr: float = 1e-3,
    label_weight: float = 1.0,
    seed: int = 0,
    **model_options: Any,
) -> tuple[InfoNAS, list[float], tuple[float, float]]:
    """Train an InfoNAS on all graphs (``ops``, ``adj``), the rows ``labelled`` having ``targets``.

    Returns the model (eval mode), the mean loss per epoch and the (mean, std) used to standardise
    the targets (the heads predict ``(y - mean) / std``).
    """
    from ..training.seeding import seeded_torch

    labelled = np.asarray(labelled, dtype=int)
    targets = np.asarray(targets, dtype=float)
    if len(labelled) != len(targets) or len(labelled) < 2:
        raise ConfigError(f"info-NAS needs >= 2 labelled cells with one target each, got {len(labelled)} and {len(targets)}")
    y_mean, y_std = float(targets.mean()), float(targets.std()) or 1.0
    z_all = torch.as_tensor((targets - y_mean) / y_std, dtype=torch.float32)
    lab = torch.as_tensor(labelled)
    with seeded_torch(seed) as generator:
        model = InfoNAS(ops.shape[-1], **model_options)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999))
        history = []
        for _ in range(epochs):
            model.train()
            order = torch.randperm(len(ops), generator=generator)
            total, steps = 0.0, 0
            for start in range(0, len(ops), batch_size):
                rows = order[start : start + batch_size]
                if len(rows) < 2:
                    continue
                pick = torch.randint(len(lab), (min(batch_size, len(lab)),), generator=generator)
                loss = model.loss(ops[rows], adj[rows], generator)
                loss = loss + label_weight * model.labelled_loss(ops[lab[pick]], adj[lab[pick]], z_all[pick], generator)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total, steps = total + float(loss.detach()), steps + 1
            history.append(total / max(steps, 1))
    model.eval()
    return model, history, (y_mean, y_std)


@torch.no_grad()
def predict_heads(model: InfoNAS, ops: torch.Tensor, adj: torch.Tensor, scale: tuple[float, float]) -> np.ndarray:
    """(heads, B) predictions in the units of the targets, from the latent means."""
    mu, _ = model.encode(ops, adj)
    return model.head_outputs(mu).numpy().astype(float) * scale[1] + scale[0]


class InfoNASPredictor(Predictor):
    """info-NAS as a Predictor: fitting trains the VAE on ``unlabelled`` cells sampled from the space
    (plus the labelled ones) jointly with the heads; the prediction is the heads' mean, the std
    their spread. Needs a space with a fixed-size graph form (NB201)."""

    name = "infonas"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        unlabelled: int = 2000,
        epochs: int = 3,
        batch_size: int = 32,
        lr: float = 2e-3,
        label_weight: float = 1.0,
        hidden: int = 64,
        latent: int = 16,
        layers: int = 3,
        heads: int = 3,
    ) -> None:
        super().__init__(space, seed)
        for label, value, low in (("unlabelled", unlabelled, 0), ("epochs", epochs, 1), ("batch_size", batch_size, 2),
                                  ("hidden", hidden, 1), ("latent", latent, 1), ("layers", layers, 1), ("heads", heads, 1)):  # fmt: skip
            check_int("infonas", label, value, low)
        for label, value in (("lr", lr), ("label_weight", label_weight)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ConfigError(f"parameter {label} of infonas must be a positive number, got {value!r}")
        self.vocabulary = _vocabulary(space)
        self.options = {"unlabelled": unlabelled, "epochs": epochs, "batch_size": batch_size, "lr": lr,
                        "label_weight": label_weight, "hidden": hidden, "latent": latent, "layers": layers, "heads": heads}  # fmt: skip
        self.model: InfoNAS | None = None
        self.scale = (0.0, 1.0)

    def _model_options(self) -> dict[str, int]:
        return {k: self.options[k] for k in ("hidden", "latent", "layers", "heads")}

    def _fit(self, archs: list[Architecture], y: np.ndarray) -> None:
        from ..training.seeding import torch_threads

        rng = np.random.default_rng(self.seed)
        extra = [self.space.sample(rng) for _ in range(self.options["unlabelled"])]
        with torch_threads(1):
            ops, adj = graph_tensors(self.space, list(archs) + extra, self.vocabulary)
            o = self.options
            self.model, _, self.scale = train_semi_supervised(
                ops, adj, np.arange(len(archs)), y, epochs=o["epochs"], batch_size=o["batch_size"], lr=o["lr"],
                label_weight=o["label_weight"], seed=self.seed, **self._model_options())  # fmt: skip

    def member_predictions(self, archs: Sequence[Architecture]) -> np.ndarray:
        """(heads, n) predictions: Thompson sampling can pick one head per candidate."""
        from ..training.seeding import torch_threads

        if self.model is None:
            raise ConfigError("infonas.member_predictions called before fit")
        with torch_threads(1):
            ops, adj = graph_tensors(self.space, list(archs), self.vocabulary)
            return predict_heads(self.model, ops, adj, self.scale)

    def _predict(self, archs: list[Architecture]) -> tuple[np.ndarray, np.ndarray]:
        out = self.member_predictions(archs)
        return out.mean(axis=0), out.std(axis=0)

    def embed(self, archs: Sequence[Architecture]) -> np.ndarray:
        """The info-NAS embedding (mean of node means) of each architecture."""
        from .arch2vec import embed

        if self.model is None:
            raise ConfigError("infonas.embed called before fit")
        ops, adj = graph_tensors(self.space, list(archs), self.vocabulary)
        return embed(self.model, ops, adj)

    def state_dict(self) -> dict[str, Any]:
        # float32 -> JSON float -> float32 is exact, so a loaded predictor predicts bit for bit the same
        weights = {k: v.tolist() for k, v in self.model.state_dict().items()}
        return {"weights": weights, "scale": list(self.scale)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model = InfoNAS(len(self.vocabulary), **self._model_options())
        reference = self.model.state_dict()
        self.model.load_state_dict({k: torch.as_tensor(v, dtype=reference[k].dtype) for k, v in state["weights"].items()})
        self.model.eval()
        self.scale = (float(state["scale"][0]), float(state["scale"][1]))


def _vocabulary(space: SearchSpace) -> tuple[str, ...]:
    if space.name == "nb201":
        from ..spaces.nb201 import OPS

        return ("input",) + tuple(OPS) + ("output",)
    raise ConfigError(f"infonas needs a space with fixed-size graphs (nb201), not {space.name!r}")
