"""Export a trial's network as files usable without nasforge.

A trial trained by the trainer left ``checkpoint.pt`` in its artifact folder: export writes those
weights as they were trained, with no evaluator and no data needed. Only a trial without a
checkpoint (an in-memory study, or a study from before checkpoints) is retrained, deterministically
from its seed and fidelity, and the export says so. The folder holds:

- ``model.pt2``: a ``torch.export`` program taking RAW inputs ``[batch, *input_shape]`` (the
  dataset normalisation is built in) and returning logits. Load it with
  ``torch.export.unflatten(torch.export.load(path))``: a plain ``nn.Module`` (``.eval()`` works;
  the program was traced in inference mode). torch.export rather than TorchScript because
  ``torch.jit`` is deprecated in current torch.
- ``weights.pt``: the network's ``state_dict`` (expects normalised inputs; rebuild the network with
  ``nasforge.models.build_model`` from ``architecture.json``).
- ``architecture.json``: space, architecture string and genes, input shape, classes, normalisation,
  output kind, and the hyperparameters the network was actually trained with.
- ``metrics.json``: the trial's recorded metrics (and the retrained ones when it was retrained).
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
CHECKPOINT_FILE = "checkpoint.pt"
LOAD_HINT = f"torch.export.unflatten(torch.export.load('{MODEL_FILE}'))"
#: metrics that must agree between a stored trial and its retraining (timings never do)
REPRODUCIBLE = ("train_accuracy", "valid_accuracy", "test_accuracy", "params_m", "flops_m", "epochs",
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
    force: bool = False,
) -> Path:
    """Train ``arch`` with ``evaluator`` (a TrainerEvaluator) and write the export folder."""
    if not hasattr(evaluator, "train"):
        raise ConfigError(
            f"export needs a training evaluator (trainer), got {getattr(evaluator, 'name', evaluator)!r}: "
            "tabular evaluators have no weights to export"
        )
    out = prepare_folder(out_dir, force)
    trained = evaluator.train(arch, fidelity, seed)
    meta = {"input_shape": list(trained.input_shape), "num_classes": trained.num_classes,
            "mean": list(trained.mean), "std": list(trained.std), "hparams": trained.hparams,
            "output": "logits", "epochs": trained.metrics.get("epochs"),
            "best_epoch": trained.metrics.get("best_epoch"), **getattr(trained, "extra", {})}
    metrics: dict[str, Any] = {"retrained": trained.metrics}
    if recorded is not None:
        metrics["recorded"] = dict(recorded)
        metrics["matches_record"] = _matches(recorded, trained.metrics)
    description = {"seed": seed, "fidelity": fidelity, "retrained": True, **dict(extra or {})}
    _write(out, evaluator.space, arch, trained.model, meta, description, metrics)
    return out


def export_checkpoint(
    space: Any,
    arch: Architecture,
    checkpoint: Path,
    out_dir: str | Path,
    recorded: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    force: bool = False,
) -> Path:
    """Write the export folder from a trial's saved weights (no training, no data)."""
    from .training.checkpoint import load_best_weights

    weights, meta = load_best_weights(checkpoint)
    net = build_from_meta(space, arch, meta)
    net.load_state_dict(weights)
    out = prepare_folder(out_dir, force)
    metrics = {"recorded": dict(recorded or {})}
    _write(out, space, arch, net, meta, {"retrained": False, **dict(extra or {})}, metrics)
    return out


def export_trial(
    trial: Trial,
    space: Any,
    out_dir: str | Path,
    checkpoint_dir: Path | None = None,
    evaluator: Any = None,
    default_fidelity: int | None = None,
    force: bool = False,
) -> tuple[Path, bool]:
    """Export a stored trial from its checkpoint, else by retraining with ``evaluator``.

    Returns (folder, retrained).
    """
    if trial.state != TrialState.COMPLETE:
        raise ConfigError(f"trial {trial.number} is {trial.state.value}; only COMPLETE trials can be exported")
    arch = space.from_string(trial.arch)
    fidelity = trial.fidelity if trial.fidelity is not None else default_fidelity
    extra = {"trial": trial.number, "seed": trial.seed, "fidelity": fidelity}
    checkpoint = None if checkpoint_dir is None else Path(checkpoint_dir) / CHECKPOINT_FILE
    if checkpoint is not None and checkpoint.is_file():
        return export_checkpoint(space, arch, checkpoint, out_dir, trial.metrics, extra, force), False
    if evaluator is None:
        raise ConfigError(
            f"trial {trial.number} has no saved weights ({checkpoint}) and no evaluator was given "
            "to retrain it"
        )
    folder = export_architecture(evaluator, arch, out_dir, trial.seed, fidelity, trial.metrics, extra, force)
    return folder, True


def export_study(study: Any, out_dir: str | Path, trial_number: int | None = None) -> tuple[Path, bool]:
    """Export the study's best trial (by its first objective) or trial ``trial_number``."""
    trial = pick_trial(study.name, study.trials, study.objectives[0], trial_number)
    folder = study.store.artifacts.trial_dir(study.name, trial.number)
    return export_trial(trial, study.space, out_dir, folder, study.evaluator, study.fidelity)


def pick_trial(study: str, trials: list[Trial], objective: Any, number: int | None) -> Trial:
    """The best trial (one notion of best: ``best_of``) or trial ``number``."""
    from .study.study import best_of

    if number is None:
        trial = best_of(trials, objective)
        if trial is None:
            raise ConfigError(f"study {study!r} has no COMPLETE trial to export")
        return trial
    matches = [t for t in trials if t.number == number]
    if not matches:
        raise ConfigError(f"study {study!r} has no trial {number}")
    return matches[0]


def build_from_meta(space: Any, arch: Architecture, meta: Mapping[str, Any]) -> torch.nn.Module:
    """The untrained network a checkpoint's weights belong to (builder or model_factory)."""
    from .registry import load_object

    shape, classes = tuple(meta["input_shape"]), int(meta["num_classes"])
    options = dict(meta.get("model_options") or {})
    factory = meta.get("model_factory")
    if factory:
        return load_object(factory)(space, arch, shape, classes, **options)
    from .models import build_model

    return build_model(space, arch, shape, classes, **options)


FILES = (MODEL_FILE, WEIGHTS_FILE, ARCH_FILE, METRICS_FILE)


def prepare_folder(out_dir: str | Path, force: bool = False, files: tuple[str, ...] = ()) -> Path:
    """The export folder, made safe to write: existing export files are refused unless ``force``,
    and a file that is a symlink is removed (never followed), so nothing outside it is written."""
    out = Path(out_dir)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ConfigError(f"export folder {str(out)!r} exists and is not a plain folder")
    out.mkdir(parents=True, exist_ok=True)
    present = [name for name in FILES + tuple(files) if (out / name).exists() or (out / name).is_symlink()]
    if present and not force:
        raise ConfigError(
            f"export folder {str(out)!r} already holds {', '.join(present)}; pass --force to "
            "overwrite them or choose another --output"
        )
    for name in present:
        (out / name).unlink()  # a symlink is removed, its target left alone
    return out


def _write(
    out: Path, space: Any, arch: Architecture, net: torch.nn.Module, meta: Mapping[str, Any],
    description: Mapping[str, Any], metrics: Mapping[str, Any],
) -> None:
    net = net.to("cpu").eval()
    shape = tuple(meta["input_shape"])
    wrapped = Normalised(net, tuple(meta["mean"]), tuple(meta["std"]), len(shape)).eval()
    dynamic_batch = _save_program(wrapped, shape, out / MODEL_FILE)
    torch.save(net.state_dict(), out / WEIGHTS_FILE)
    trained_with = {k: meta[k] for k in ("hparams", "batch_size", "schedule", "schedule_epochs",
                                         "epochs", "best_epoch", "dataset") if k in meta}  # fmt: skip
    _write_json(out / ARCH_FILE, {
        "space": space.name,
        "space_repr": repr(space),
        "arch": arch.string,
        "genes": genes_to_list(space.to_genes(arch)),
        "input_shape": list(shape),
        "num_classes": int(meta["num_classes"]),
        "class_names": meta.get("class_names") or [str(i) for i in range(int(meta["num_classes"]))],
        "output": meta.get("output", "logits"),
        "normalisation": {"mean": list(meta["mean"]), "std": list(meta["std"]),
                          "per": "channel", "built_into": MODEL_FILE},
        "model_file": MODEL_FILE,
        "model_input": f"raw float32 tensor [batch, {', '.join(map(str, shape))}]"
        + ("" if dynamic_batch else " with batch = 1 (this network exported with a fixed batch)"),
        "load": LOAD_HINT,
        "weights_file": WEIGHTS_FILE,
        "trained_with": trained_with,
        **({"preprocessing": meta["preprocessing"]} if "preprocessing" in meta else {}),  # nasforge segment
        **{k: meta[k] for k in ("task", "target_mean", "target_std") if k in meta},  # regression: un-standardise
        **dict(description),
    })
    _write_json(out / METRICS_FILE, dict(metrics))


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
