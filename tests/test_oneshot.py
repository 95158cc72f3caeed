"""One-shot and low-precision search: quantisers, cost, supernets (DARTS, GDAS), space, study, export."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from nasforge.data.load import load_dataset
from nasforge.errors import ArchitectureError, ConfigError
from nasforge.metrics.cost import E_FP32_MULT_PJ, E_INT8_MULT_PJ, fixed_layer_cost, mult_energy_pj
from nasforge.objectives import Objective
from nasforge.oneshot.base import DifferentiableSearch
from nasforge.oneshot.quant import ActQuant, MixedQuantConv, quantize_weight, weight_codes
from nasforge.spaces.chain_precision import ChainPrecisionSpace
from nasforge.spaces.nb201 import NB201Space
from nasforge.strategies.fixed_list import FixedList
from nasforge.testing.conformance import check_space, check_strategy

TINY = [["conv_3_8", "conv_1_8"], ["conv_3_8", "conv_1_8", "no_op"], ["max_pool"]]
ARCH = "conv_3_8@w4a8>conv_1_8@w2a4>max_pool"


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0, max_train=256)


def test_fake_quant_codes_ste_and_scaling() -> None:
    g = torch.Generator().manual_seed(0)
    w = torch.randn(16, 8, 3, 3, generator=g, requires_grad=True)
    for bits in (2, 4, 8):
        q, scale = quantize_weight(w, bits)
        codes, eff = weight_codes(w, bits)
        limit = 2 ** (bits - 1) - 1
        assert int(codes.abs().max()) <= limit and len(torch.unique(codes)) <= 2 * limit + 1
        torch.testing.assert_close(codes.float() * eff, q.detach(), rtol=1e-5, atol=1e-6)
        # forward scaling: every bit-width keeps the float weight's spread (2-bit does not vanish)
        assert float(q.detach().std(unbiased=False)) == pytest.approx(float(w.detach().std(unbiased=False)), rel=1e-4)
        # straight-through: gradient flows to the float weight
        (grad,) = torch.autograd.grad(q.sum(), w)
        assert float(grad.abs().sum()) > 0
    assert quantize_weight(w, 32)[0] is w


def test_convolution_sharing_equals_one_conv_per_bit_pair() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.relu(torch.randn(4, 8, 6, 6, generator=g))
    pw = torch.softmax(torch.randn(4, generator=g), 0)
    pa = torch.softmax(torch.randn(4, generator=g), 0)
    shared = MixedQuantConv(2, 8, 16, 3, (2, 4, 8, 32), share=True)
    separate = MixedQuantConv(2, 8, 16, 3, (2, 4, 8, 32), share=False)
    separate.load_state_dict(shared.state_dict())
    act = ActQuant(signed=False)
    act.train()
    xq = act.mixture(x, (2, 4, 8, 32), pa)
    act.eval()
    torch.testing.assert_close(shared(xq, pw), separate(None, pw, x, act, pa), rtol=1e-4, atol=1e-5)


def test_cost_figures_and_gradient() -> None:
    assert mult_energy_pj(8, 8) == pytest.approx(E_INT8_MULT_PJ)
    assert mult_energy_pj(32, 8) == E_FP32_MULT_PJ
    eight = fixed_layer_cost(1000, 100, 50, 9, 8, 8)
    four = fixed_layer_cost(1000, 100, 50, 9, 4, 4)
    assert eight["bitops"] == 64_000 and four["bitops"] == 16_000
    assert four["energy_pj"] < eight["energy_pj"] and four["weight_bits"] == 400


def test_chain_precision_space(digits) -> None:
    space = ChainPrecisionSpace(layers=TINY)
    check_space(space)
    arch = space.from_string(ARCH)
    assert arch.string == ARCH and space.from_genes(list(arch.genes)) == arch
    assert space.uniform(arch, 8).string == "conv_3_8@w8a8>conv_1_8@w8a8>max_pool"
    skip = space.from_string("conv_3_8@w8a8>no_op>max_pool")
    assert skip.genes[-2:] == (3, 3)  # canonical: a skipped position carries float bits
    for bad in ("conv_3_8@w3a8>no_op>max_pool", "conv_5_8@w8a8>no_op>max_pool", "conv_3_8>no_op>max_pool"):
        with pytest.raises(ArchitectureError):
            space.from_string(bad)
    with pytest.raises(ConfigError, match="no_op"):
        ChainPrecisionSpace(layers=[["conv_3_8", "no_op"]])


def test_fixed_list_strategy_conformance() -> None:
    space = ChainPrecisionSpace(layers=TINY)
    rng = np.random.default_rng(0)
    strings = list(dict.fromkeys(space.sample(rng).string for _ in range(30)))
    check_strategy(
        lambda seed: FixedList(space, seed, (Objective("valid_accuracy", "max"),), architectures=strings),
        space, lambda arch: [float(len(arch.string))], steps=12,
    )
    with pytest.raises(ConfigError):
        FixedList(space, architectures=[])


@pytest.mark.parametrize("relaxation", ["darts", "gdas"])
def test_supernet_search_trains_and_derives(digits, relaxation) -> None:
    space = ChainPrecisionSpace(layers=TINY)
    search = DifferentiableSearch(space, relaxation=relaxation, epochs=3, batch_size=32, penalty=0.5,
                                  top_k=3, warmup=0.0, arch_lr=0.05)
    archs = search.run(digits, seed=0)
    assert 1 <= len(archs) <= 3 and len({a.string for a in archs}) == len(archs)
    for arch in archs:
        space.validate(arch)
    report = search.report
    assert len(report["history"]) == 3 and report["history"][-1]["tau"] == pytest.approx(0.1)
    assert report["history"][0]["tau"] == pytest.approx(10.0)
    assert report["derived"][0] == archs[0].string
    # the cost penalty moved the bit-width logits: the expected BitOps fell during the search
    assert report["history"][-1]["expected_bitops"] < report["cost_reference"]
    if relaxation == "darts":  # GDAS trains one sampled path per step: too few steps here to learn
        assert report["history"][-1]["train_loss"] < report["history"][0]["train_loss"] < 2.5
    # same seed, same search
    again = DifferentiableSearch(space, relaxation=relaxation, epochs=3, batch_size=32, penalty=0.5,
                                 top_k=3, warmup=0.0, arch_lr=0.05)
    assert [a.string for a in again.run(digits, seed=0)] == [a.string for a in archs]


def test_skip_collapse_is_detected(digits) -> None:
    space = ChainPrecisionSpace(layers=TINY)
    search = DifferentiableSearch(space, relaxation="darts", epochs=1, batch_size=64)
    search.run(digits, seed=0)
    net = search.supernet
    assert net.skip_share() in (0.0, 1.0)
    with torch.no_grad():
        net.alpha("op_1")[2] = 10.0  # no_op
    assert net.skip_share() == 1.0 and net.derive(1)[0].string.split(">")[1] == "no_op"


def test_nb201_supernet_gdas(digits) -> None:
    space = NB201Space()
    search = DifferentiableSearch(space, relaxation="gdas", epochs=2, batch_size=64, top_k=2,
                                  supernet_options={"C": 4, "N": 1})
    archs = search.run(digits, seed=1)
    assert len(archs) == 2 and all(a.space == "nb201" for a in archs)
    assert set(search.report["probabilities"]) == {"1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"}
    assert isinstance(search.report["collapsed"], bool)
    with pytest.raises(ConfigError, match="cost"):
        DifferentiableSearch(space, penalty=1.0)


LOAD_SCRIPT = """
import sys
sys.modules["nasforge"] = None
import numpy as np, torch
try:
    import nasforge
    raise SystemExit("nasforge was importable")
except ImportError:
    pass
model = torch.export.load("model.pt2").module()
with torch.no_grad():
    logits = model(torch.from_numpy(np.load("raw.npy")))
np.save("logits.npy", logits.numpy())
"""


def test_oneshot_study_resume_and_quantised_export(tmp_path) -> None:
    from nasforge.oneshot.export import export_quantized_trial
    from nasforge.oneshot.study import reports_path, run_oneshot

    storage = str(tmp_path / "lp.db")
    config = {
        "name": "lp", "storage": storage, "seed": 0, "space": "chain_precision",
        "space_options": {"layers": TINY}, "dataset": "digits",
        "oneshot": {"relaxation": "darts", "epochs": 2, "batch_size": 64, "penalties": [0.0, 0.5],
                    "uniform_baselines": [8]},
        "evaluator": "quant_trainer",
        "evaluator_options": {"epochs": 2, "max_train": 256, "latency_repeats": 1},
        "objectives": ["valid_accuracy:max", "bitops_m:min"],
    }
    study = run_oneshot(config)
    trials = study.trials
    assert trials and all(t.state.value == "COMPLETE" for t in trials)
    assert len(trials) == len(study.strategy.archs) <= 4
    assert all(t.metrics["bitops_m"] > 0 and t.metrics["weight_kb"] > 0 for t in trials)
    reports = json.loads(reports_path(storage, "lp").read_text())
    assert [r["penalty"] for r in reports] == [0.0, 0.5]
    again = run_oneshot(config)  # existing study: resumed, not searched again
    assert len(again.trials) == len(trials)

    out = export_quantized_trial(again, tmp_path / "export")
    metrics = json.loads((out / "metrics.json").read_text())
    assert json.loads((out / "architecture.json").read_text())["retrained"] is False  # saved weights
    assert metrics["exported_test_accuracy"] == pytest.approx(metrics["recorded"]["test_accuracy"])
    codes = torch.load(out / "quantized.pt")
    assert any(t.dtype == torch.int8 for t in codes.values())
    data = again.evaluator.data()
    raw = (data.x_test * np.float32(data.std[0]) + np.float32(data.mean[0])).astype(np.float32)
    np.save(out / "raw.npy", raw)
    run = subprocess.run([sys.executable, "-I", "-c", LOAD_SCRIPT], cwd=out, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    logits = np.load(out / "logits.npy")
    accuracy = 100.0 * int((logits.argmax(1) == data.y_test).sum()) / len(data.y_test)
    assert accuracy == pytest.approx(metrics["recorded"]["test_accuracy"])
    assert metrics["hardware"]["bitops_m"] == pytest.approx(metrics["recorded"]["bitops_m"])


@pytest.mark.parametrize("strategy", ["qnas", "nsga2"])
def test_baseline_strategies_search_precision(strategy) -> None:
    from nasforge.study.api import create_study_from_config

    study = create_study_from_config({
        "name": strategy, "storage": ":memory:", "space": "chain_precision",
        "space_options": {"layers": TINY}, "strategy": strategy, "evaluator": "quant_trainer",
        "dataset": "digits", "evaluator_options": {"epochs": 1, "max_train": 128, "latency_repeats": 1},
        "objectives": ["valid_accuracy:max", "bitops_m:min"],
    })
    study.optimize(n_trials=3)
    trials = study.trials
    assert len(trials) == 3 and all(t.state.value == "COMPLETE" for t in trials)
    assert len({t.metrics["bitops_m"] for t in trials}) > 1  # bit genes change the cost


def test_cli_oneshot_bad_option_is_one_line_exit_2(tmp_path, capsys) -> None:
    from nasforge.cli.app import main

    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nspace: chain_precision\noneshot:\n  relaxation: snas\n")
    assert main(["oneshot", "--config", str(path), "--storage", str(tmp_path / "x.db")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "relaxation" in err[0] and "darts" in err[0]
    path.write_text("name: x\nspace: chain_precision\noneshot:\n  temperature: 3\n")
    assert main(["oneshot", "--config", str(path), "--storage", str(tmp_path / "x.db")]) == 2
    assert "unknown oneshot option" in capsys.readouterr().err
