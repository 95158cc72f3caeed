"""Export a mixed-precision chain as integer weights + scales in a plain PyTorch program.

The trial is retrained with its seed and fidelity (training is deterministic), then written as:

- ``model.pt2``: a ``torch.export`` program on RAW inputs (normalisation built in). Each
  convolution holds int8 codes (its b-bit values) and one float scale, dequantised at run time;
  activations are quantised with the scales frozen from training; BatchNorm uses its running
  statistics. Load with ``torch.export.load(path).module()`` -- no nasforge needed.
- ``quantized.pt``: the same integer codes, scales, bit-widths and BN statistics as a plain dict.
- ``architecture.json`` and ``metrics.json``: the architecture, input format, and the cost
  (``bitops_m``, ``weight_kb``, ``energy_nj``, ``boo``) computed from the real codes, the
  retrained metrics, the recorded ones, and the exported program's own test accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ..architecture import Architecture
from ..errors import ConfigError
from ..evaluators.trainer import TrainedModel
from ..export import (
    ARCH_FILE,
    CHECKPOINT_FILE,
    LOAD_HINT,
    METRICS_FILE,
    MODEL_FILE,
    Normalised,
    _save_program,
    build_from_meta,
    pick_trial,
    prepare_folder,
)
from ..models.chain_precision import QuantChainNetwork, QuantConvBlock
from .quant import FLOAT_BITS, code_range, weight_codes

QUANT_FILE = "quantized.pt"


class IntegerConv(nn.Module):
    """Quantise the input, convolve with ``codes * scale``, BatchNorm (running stats), ReLU."""

    def __init__(self, block: QuantConvBlock) -> None:
        super().__init__()
        self.dims, self.padding = block.dims, block.padding
        self.a_bits, self.signed = block.a_bits, block.act.signed
        low, high = code_range(block.a_bits, block.act.signed) if block.a_bits < FLOAT_BITS else (0, 0)
        self.low, self.high = low, high
        self.register_buffer("a_scale", block.act.scale(block.a_bits).detach().clone()
                             if block.a_bits < FLOAT_BITS else torch.ones(()))
        self.w_bits = block.w_bits
        if block.w_bits < FLOAT_BITS:
            codes, scale = weight_codes(block.conv.weight, block.w_bits)
            self.register_buffer("codes", codes.clone())
            self.register_buffer("w_scale", scale.detach().clone())
        else:
            self.register_buffer("codes", block.conv.weight.detach().clone())
            self.register_buffer("w_scale", torch.ones(()))
        bn = block.bn
        for name in ("running_mean", "running_var"):
            self.register_buffer(name, getattr(bn, name).detach().clone())
        self.register_buffer("gamma", bn.weight.detach().clone())
        self.register_buffer("beta", bn.bias.detach().clone())
        self.eps = bn.eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.a_bits < FLOAT_BITS:
            x = _quantize(x, self.a_scale, self.low, self.high)
        weight = self.codes.float() * self.w_scale if self.w_bits < FLOAT_BITS else self.codes
        conv = F.conv1d if self.dims == 1 else F.conv2d
        x = conv(x, weight, padding=self.padding)
        x = F.batch_norm(x, self.running_mean, self.running_var, self.gamma, self.beta, False, 0.0, self.eps)
        return F.relu(x)


class IntegerHead(nn.Module):
    def __init__(self, net: QuantChainNetwork) -> None:
        super().__init__()
        head = net.head
        self.bits, self.pool = head.bits, head.pool
        self.low, self.high = code_range(head.bits, False) if head.bits < FLOAT_BITS else (0, 0)
        self.register_buffer("a_scale", head.act.scale(head.bits).detach().clone()
                             if head.bits < FLOAT_BITS else torch.ones(()))
        if head.bits < FLOAT_BITS:
            codes, scale = weight_codes(head.linear.weight, head.bits)
        else:
            codes, scale = head.linear.weight.detach(), torch.ones(())
        self.register_buffer("codes", codes.clone())
        self.register_buffer("w_scale", scale.detach().clone())
        self.register_buffer("bias", head.linear.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(self.pool(x), 1)
        if self.bits < FLOAT_BITS:
            x = _quantize(x, self.a_scale, self.low, self.high)
            weight = self.codes.float() * self.w_scale
        else:
            weight = self.codes
        return F.linear(x, weight, self.bias)


class IntegerChain(nn.Module):
    """The integer form of a trained :class:`QuantChainNetwork` (same outputs in eval mode)."""

    def __init__(self, net: QuantChainNetwork) -> None:
        super().__init__()
        layers = []
        for module in net.features:
            layers.append(IntegerConv(module) if isinstance(module, QuantConvBlock) else module)
        self.features = nn.Sequential(*layers)
        self.head = IntegerHead(net)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def export_quantized(
    evaluator: Any,
    arch: Architecture,
    out_dir: str | Path,
    seed: int = 0,
    fidelity: int | None = None,
    recorded: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    force: bool = False,
    checkpoint: Path | None = None,
) -> Path:
    """Write the integer export folder of ``arch``: from the trial's saved weights when
    ``checkpoint`` exists (no training), else retrained with ``evaluator`` (quant_trainer)."""
    if getattr(evaluator, "name", None) != "quant_trainer":
        raise ConfigError(f"quantised export needs the quant_trainer evaluator, got {getattr(evaluator, 'name', evaluator)!r}")
    out = prepare_folder(out_dir, force, files=(QUANT_FILE,))  # never overwrites or follows a link
    trained = _trained(evaluator, arch, seed, fidelity, checkpoint)
    net = trained.model.to("cpu").eval()
    integer = IntegerChain(net).eval()
    wrapped = Normalised(integer, trained.mean, trained.std, len(trained.input_shape)).eval()
    dynamic = _save_program(wrapped, trained.input_shape, out / MODEL_FILE)
    torch.save({name: t for name, t in integer.state_dict().items()}, out / QUANT_FILE)

    dataset = evaluator.data()
    program = torch.export.load(out / MODEL_FILE).module()
    raw = torch.from_numpy(dataset.x_test) * _channel(trained.std, dataset.x_test.ndim) + _channel(
        trained.mean, dataset.x_test.ndim)
    with torch.no_grad():
        if dynamic:
            logits = program(raw)
        else:
            logits = torch.cat([program(raw[i : i + 1]) for i in range(len(raw))])
    accuracy = 100.0 * int((logits.argmax(1) == torch.from_numpy(dataset.y_test)).sum()) / len(dataset.y_test)
    cost = net.hardware_cost()
    layers = [
        {"layer": i, "kind": type(m).__name__, "w_bits": getattr(m, "w_bits", None), "a_bits": getattr(m, "a_bits", None)}
        for i, m in enumerate(integer.features)
    ]
    description = {
        "space": evaluator.space.name, "arch": arch.string, "input_shape": list(trained.input_shape),
        "num_classes": trained.num_classes,
        "normalisation": {"mean": list(trained.mean), "std": list(trained.std), "built_into": MODEL_FILE},
        "model_file": MODEL_FILE, "load": LOAD_HINT,
        "model_input": "raw float32 tensor [batch, " + ", ".join(map(str, trained.input_shape)) + "]",
        "quantized_file": QUANT_FILE, "layers": layers, "head_bits": net.head_bits,
        "weights": "int8 tensors holding b-bit two's-complement codes; weight = codes * w_scale",
        "activations": "clamp(round(x * (1 / a_scale)), low, high) * a_scale before each layer",
        "seed": seed, "fidelity": fidelity, "trained_with": trained.hparams,
        "retrained": checkpoint is None or not checkpoint.is_file(), **dict(extra or {}),
    }
    metrics: dict[str, Any] = {"hardware": cost, "exported_test_accuracy": accuracy}
    if description["retrained"]:
        metrics["retrained"] = trained.metrics
    if recorded is not None:
        metrics["recorded"] = dict(recorded)
    for path, data in ((out / ARCH_FILE, description), (out / METRICS_FILE, metrics)):
        path.write_text(json.dumps(data, indent=2) + "\n")
    return out


def export_quantized_trial(
    study: Any, out_dir: str | Path, trial_number: int | None = None, force: bool = False
) -> Path:
    """Export the study's best trial (one notion of best) or trial ``trial_number``, quantised,
    from the weights the trial saved."""
    trial = pick_trial(study.name, study.trials, study.objectives[0], trial_number)
    if trial.state.value != "COMPLETE":
        raise ConfigError(f"trial {trial.number} is {trial.state.value}; only COMPLETE trials can be exported")
    fidelity = trial.fidelity if trial.fidelity is not None else study.fidelity
    checkpoint = study.store.artifacts.trial_dir(study.name, trial.number) / CHECKPOINT_FILE
    return export_quantized(study.evaluator, study.space.from_string(trial.arch), out_dir, trial.seed, fidelity,
                            recorded=trial.metrics, extra={"study": study.name, "trial": trial.number},
                            force=force, checkpoint=checkpoint)


def _trained(evaluator: Any, arch: Architecture, seed: int, fidelity: int | None,
             checkpoint: Path | None) -> TrainedModel:
    """The trial's network with its saved weights, or a deterministic retraining without them."""
    if checkpoint is None or not checkpoint.is_file():
        return evaluator.train(arch, fidelity, seed)
    from ..training.checkpoint import load_best_weights

    weights, meta = load_best_weights(checkpoint)
    net = build_from_meta(evaluator.space, arch, meta)
    net.load_state_dict(weights)
    return TrainedModel(net, {}, dict(meta.get("hparams") or {}), tuple(meta["input_shape"]),
                        int(meta["num_classes"]), tuple(meta["mean"]), tuple(meta["std"]))


def _quantize(x: torch.Tensor, scale: torch.Tensor, low: int, high: int) -> torch.Tensor:
    """``fake_quantize_per_tensor_affine``'s arithmetic (round half to even of ``x * (1 / scale)``)
    in plain ops, which torch.export keeps batch-dynamic."""
    inverse = 1.0 / scale
    return torch.clamp(torch.round(x * inverse), low, high) * scale


def _channel(values: Any, ndim: int) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32).reshape((1, len(values)) + (1,) * (ndim - 2))
