"""Export a trial's network as files usable without nasforge.

Trials store only (architecture, seed, fidelity); training is deterministic, so export retrains the
trial with the study's evaluator and writes:

- ``model.pt2``: a ``torch.export`` program taking RAW inputs ``[batch, *input_shape]`` (the
  dataset normalisation is built in); load with ``torch.export.load(path).module()``. torch.export
  rather than TorchScript because ``torch.jit`` is deprecated in current torch.
- ``weights.pt``: the network's ``state_dict`` (expects normalised inputs; rebuild the network with
  ``nasforge.models.build_model`` from ``architecture.json``).
- ``architecture.json``: space, architecture string and genes, input shape, classes, normalisation,
  training hyper-parameters, seed, fidelity and the evaluator settings used.
- ``metrics.json``: the retrained metrics, and the recorded ones when exporting a stored trial.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping

import torch

from .architecture import Architecture, genes_to_list
from .errors import ConfigError, TrialFailed
from .trial import Trial, TrialState

MODEL_FILE = "model.pt2"
WEIGHTS_FILE = "weights.pt"
ARCH_FILE = "architecture.json"
METRICS_FILE = "metrics.json"
#: metrics that must agree between a stored trial and its retraining (timings never do)
REPRODUCIBLE = ("train_accuracy", "valid_accuracy", "test_accuracy", "params", "flops", "epochs",
                "valid_dice", "test_dice")


class Normalised(torch.nn.Module):
    """``net((x - mean) / std)`` with per-channel statistics, so exported models take raw data."""

    def __init__(self, net: torch.nn.Module, mean: tuple[float, ...], std: tuple[float, ...], ndim: int):
        super().__init__()
        shape = (1, len(mean)) + (1,) * (ndim - 1)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).reshape(shape))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).reshape(shape))
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)


def export_architecture(
    evaluator: Any,
    arch: Architecture,
    out_dir: str | Path,
    seed: int = 0,
    fidelity: int | None = None,
    recorded: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Retrain ``arch`` with ``evaluator`` (a TrainerEvaluator) and write the export folder."""
    if not hasattr(evaluator, "train"):
        raise ConfigError(
            f"export needs a training evaluator (trainer), got {getattr(evaluator, 'name', evaluator)!r}: "
            "tabular evaluators have no weights to export"
        )
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"export folder {str(out)!r} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)

    trained = evaluator.train(arch, fidelity, seed)
    net = trained.model.to("cpu").eval()
    wrapped = Normalised(net, trained.mean, trained.std, len(trained.input_shape)).eval()
    dynamic_batch = _save_program(wrapped, trained.input_shape, out / MODEL_FILE)
    torch.save(net.state_dict(), out / WEIGHTS_FILE)

    space = evaluator.space
    description = {
        "space": space.name,
        "space_repr": repr(space),
        "arch": arch.string,
        "genes": genes_to_list(space.to_genes(arch)),
        "input_shape": list(trained.input_shape),
        "num_classes": trained.num_classes,
        "normalisation": {"mean": list(trained.mean), "std": list(trained.std),
                          "per": "channel", "built_into": MODEL_FILE},
        "model_file": MODEL_FILE,
        "model_input": f"raw float32 tensor [batch, {', '.join(map(str, trained.input_shape))}]"
        + ("" if dynamic_batch else " with batch = 1 (this network exported with a fixed batch)"),
        "load": f"torch.export.load('{MODEL_FILE}').module()",
        "weights_file": WEIGHTS_FILE,
        "hparams": trained.hparams,
        "seed": seed,
        "fidelity": fidelity,
        "evaluator": evaluator.config() if hasattr(evaluator, "config") else evaluator.describe(),
        **getattr(trained, "extra", {}),
        **dict(extra or {}),
    }
    metrics: dict[str, Any] = {"retrained": trained.metrics}
    if recorded is not None:
        metrics["recorded"] = dict(recorded)
        metrics["matches_record"] = _matches(recorded, trained.metrics)
    _write_json(out / ARCH_FILE, description)
    _write_json(out / METRICS_FILE, metrics)
    return out


def export_trial(
    trial: Trial, space: Any, evaluator: Any, out_dir: str | Path, default_fidelity: int | None = None
) -> Path:
    """Export a stored trial record: rebuild its architecture, retrain with its seed and fidelity."""
    if trial.state != TrialState.COMPLETE:
        raise ConfigError(f"trial {trial.number} is {trial.state.value}; only COMPLETE trials can be exported")
    arch = space.from_string(trial.arch)
    fidelity = trial.fidelity if trial.fidelity is not None else default_fidelity
    return export_architecture(
        evaluator, arch, out_dir, seed=trial.seed, fidelity=fidelity, recorded=trial.metrics,
        extra={"trial": trial.number},
    )


def export_study(study: Any, out_dir: str | Path, trial_number: int | None = None) -> Path:
    """Export the study's best trial (by its first objective) or trial ``trial_number``."""
    if trial_number is None:
        trial = study.best_trial
        if trial is None:
            raise ConfigError(f"study {study.name!r} has no COMPLETE trial to export")
    else:
        matches = [t for t in study.trials if t.number == trial_number]
        if not matches:
            raise ConfigError(f"study {study.name!r} has no trial {trial_number}")
        trial = matches[0]
    return export_trial(trial, study.space, study.evaluator, out_dir, study.fidelity)


def _save_program(module: torch.nn.Module, input_shape: tuple[int, ...], path: Path) -> bool:
    """torch.export with a dynamic batch axis; a fixed batch of 1 if the network refuses that."""
    example = torch.zeros((2, *input_shape))
    try:
        batch = torch.export.Dim("batch", min=1, max=1 << 20)
        program = torch.export.export(module, (example,), dynamic_shapes=({0: batch},))
        dynamic = True
    except Exception:  # noqa: BLE001 - some graphs specialise on batch size; export them fixed
        program = torch.export.export(module, (example[:1],))
        dynamic = False
    try:
        torch.export.save(program, path)
    except Exception as exc:  # noqa: BLE001
        raise TrialFailed(f"could not save the exported model to {path}: {exc}") from exc
    return dynamic


def _matches(recorded: Mapping[str, Any], retrained: Mapping[str, Any]) -> bool:
    for key in REPRODUCIBLE:
        if key in recorded and key in retrained:
            a, b = float(recorded[key]), float(retrained[key])
            if not math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9):
                return False
    return True


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
