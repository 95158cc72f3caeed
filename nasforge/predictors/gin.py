"""An ensemble of GIN regressors on the architecture graph (torch_geometric); spread = uncertainty.

The graph counterpart of :mod:`.mlp`: where the MLP reads a fixed encoding, a Graph Isomorphism
Network (Xu et al., ICLR 2019) reads the space's labelled DAG (``to_graph``) directly, so it works
for any space with a graph form and needs no path vocabulary; NASLib's GCN/GIN predictors and
BANANAS' ensemble idea combined. Each member is a GIN (one-hot op labels, messages along both edge
directions, sum aggregation) with a mean-pooled readout and a linear head, independently
initialised and trained with Adam on MSE of standardised targets. Op labels seen at fit time form
the vocabulary (saved with the state); an unseen label sets the extra "other" column.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ..architecture import Architecture, LabelledDAG
from ..errors import ConfigError, require
from ..spaces.base import SearchSpace
from ..validation import check_int
from .base import Predictor


class GINEnsemble(Predictor):
    """``members`` GINs (``layers`` x ``width``), ``epochs`` of Adam over minibatches of graphs."""

    name = "gin_ensemble"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        members: int = 3,
        layers: int = 3,
        width: int = 32,
        epochs: int = 60,
        batch_size: int = 32,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        prune: bool = True,
    ) -> None:
        super().__init__(space, seed)
        for label, value, low in (("members", members, 1), ("layers", layers, 1), ("width", width, 1),
                                  ("epochs", epochs, 1), ("batch_size", batch_size, 1)):  # fmt: skip
            check_int("gin_ensemble", label, value, low)
        for label, value in (("lr", lr), ("weight_decay", weight_decay)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (label == "lr" and value == 0):
                raise ConfigError(f"parameter {label} of gin_ensemble must be a {'positive' if label == 'lr' else 'non-negative'} number, got {value!r}")
        if not isinstance(prune, bool):
            raise ConfigError(f"parameter prune of gin_ensemble must be true or false, got {prune!r}")
        try:
            self._graph(space.sample(np.random.default_rng(0)), prune)
        except Exception as exc:  # noqa: BLE001 - any space without a graph form
            raise ConfigError(f"gin_ensemble needs a space with a graph form; {space.name!r}: {exc}") from None
        self.options = {"members": members, "layers": layers, "width": width, "epochs": epochs, "batch_size": batch_size,
                        "lr": lr, "weight_decay": weight_decay, "prune": prune}  # fmt: skip
        self.vocabulary: list[str] = []
        self._models: list[Any] = []
        self._y_mean, self._y_std = 0.0, 1.0

    def _graph(self, arch: Architecture, prune: bool | None = None) -> LabelledDAG:
        prune = self.options["prune"] if prune is None else prune
        if self.space.name == "nb201" and prune:
            return self.space.to_graph(arch, prune=True)  # none-edges carry nothing
        return self.space.to_graph(arch)

    def _data(self, archs: Sequence[Architecture]) -> list[Any]:
        geometric = require("torch_geometric.data", "gnn")
        index = {label: i for i, label in enumerate(self.vocabulary)}
        other = len(self.vocabulary)
        out = []
        for arch in archs:
            graph = self._graph(arch)
            x = torch.zeros(len(graph.labels), other + 1)
            x[torch.arange(len(graph.labels)), [index.get(label, other) for label in graph.labels]] = 1.0
            edges = torch.tensor(graph.edges, dtype=torch.long).reshape(-1, 2).t()
            out.append(geometric.Data(x=x, edge_index=torch.cat([edges, edges.flip(0)], dim=1)))
        return out

    def _new_model(self) -> Any:
        pyg = require("torch_geometric.nn", "gnn")
        width, d_in = self.options["width"], len(self.vocabulary) + 1
        convs = nn.ModuleList(
            pyg.GINConv(nn.Sequential(nn.Linear(d_in if i == 0 else width, width), nn.ReLU(), nn.Linear(width, width)), train_eps=True)
            for i in range(self.options["layers"])
        )
        return _GIN(convs, nn.Linear(width, 1))

    def _fit(self, archs: list[Architecture], y: np.ndarray) -> None:
        from ..training.seeding import seeded_torch, torch_threads

        geometric = require("torch_geometric.data", "gnn")
        self.vocabulary = sorted({label for arch in archs for label in self._graph(arch).labels})
        data = self._data(archs)
        self._y_mean, self._y_std = float(y.mean()), float(y.std()) or 1.0
        targets = torch.as_tensor((y - self._y_mean) / self._y_std, dtype=torch.float32)
        o = self.options
        self._models = []
        with torch_threads(1):
            for member in range(o["members"]):
                with seeded_torch(self.seed * 1000 + member) as generator:
                    model = self._new_model()
                    optimizer = torch.optim.Adam(model.parameters(), lr=o["lr"], weight_decay=o["weight_decay"])
                    model.train()
                    for _ in range(o["epochs"]):
                        order = torch.randperm(len(data), generator=generator).tolist()
                        for start in range(0, len(data), o["batch_size"]):
                            rows = order[start : start + o["batch_size"]]
                            batch = geometric.Batch.from_data_list([data[r] for r in rows])
                            loss = torch.mean((model(batch) - targets[rows]) ** 2)
                            optimizer.zero_grad()
                            loss.backward()
                            optimizer.step()
                    model.eval()
                self._models.append(model)

    def member_predictions(self, archs: Sequence[Architecture]) -> np.ndarray:
        """(members, n) predictions: independent Thompson sampling picks one member per candidate."""
        from ..training.seeding import torch_threads

        geometric = require("torch_geometric.data", "gnn")
        batch = geometric.Batch.from_data_list(self._data(list(archs)))
        with torch_threads(1), torch.no_grad():
            out = np.stack([model(batch).numpy().astype(float) for model in self._models])
        return out * self._y_std + self._y_mean

    def _predict(self, archs: list[Architecture]) -> tuple[np.ndarray, np.ndarray]:
        out = self.member_predictions(archs)
        return out.mean(axis=0), out.std(axis=0)

    def state_dict(self) -> dict[str, Any]:
        # float32 -> JSON float -> float32 is exact: a loaded ensemble predicts bit for bit the same
        return {"vocabulary": self.vocabulary, "y_mean": self._y_mean, "y_std": self._y_std,
                "members": [{k: v.tolist() for k, v in m.state_dict().items()} for m in self._models]}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.vocabulary = list(state["vocabulary"])
        self._y_mean, self._y_std = float(state["y_mean"]), float(state["y_std"])
        self._models = []
        for weights in state["members"]:
            model = self._new_model()
            reference = model.state_dict()
            model.load_state_dict({k: torch.as_tensor(v, dtype=reference[k].dtype) for k, v in weights.items()})
            model.eval()
            self._models.append(model)


class _GIN(nn.Module):
    """GIN layers with ReLU between them, mean-pooled per graph, then a linear head -> (B,)."""

    def __init__(self, convs: nn.ModuleList, head: nn.Linear) -> None:
        super().__init__()
        self.convs, self.head = convs, head

    def forward(self, batch: Any) -> torch.Tensor:
        pyg = require("torch_geometric.nn", "gnn")
        h = batch.x
        for conv in self.convs:
            h = torch.relu(conv(h, batch.edge_index))
        return self.head(pyg.global_mean_pool(h, batch.batch))[:, 0]
