"""SegQNAS end to end: the unet space, searches from the CLI on synthetic shapes and on a tiny
Decathlon folder written with nibabel, export + `nasforge segment`, the MNI slab split, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

nib = pytest.importorskip("nibabel", reason="segmentation extra (nibabel) not installed")
pytest.importorskip("monai", reason="segmentation extra (monai) not installed")
torch = pytest.importorskip("torch")

from nasforge.cli.app import main
from nasforge.errors import ArchitectureError
from nasforge.models import build_model
from nasforge.spaces.unet import UNetSpace
from nasforge.store import SQLiteStore
from nasforge.strategies.qnas_quantum import initial_probabilities
from nasforge.testing.conformance import check_space

TINY = ["--objective", "valid_dice:max", "--trials", "2", "--seed", "0", "-o", "evaluator.size=16", "-o", "evaluator.epochs=2",
        "-o", "evaluator.last_k=2", "-o", "evaluator.batch_size=8", "-o", "space.max_nodes=2",
        "-o", "evaluator.model_options={filters: 4}", "-o", "evaluator.latency_repeats=1"]  # fmt: skip


def test_space_priors_members_and_feasibility():
    space = UNetSpace()
    check_space(space)
    probs = dict(zip(space.cells, initial_probabilities(space, space.genes()[0])))
    assert probs["down_vgg_3"] == pytest.approx(1 / 48) and probs["non_inception_7"] == pytest.approx(1 / 48)
    assert probs["down_mobile"] == pytest.approx(1 / 16) and probs["non_effnet"] == pytest.approx(1 / 16)
    assert probs["non_attn"] == pytest.approx(1 / 8) and probs["non_identity"] == pytest.approx(1 / 8)
    arch = space.from_string("down_dense_5>non_attn>down_effnet>non_identity>non_inception_7")
    assert space.from_string(arch.string) == arch and space.reductions(arch) == 2
    net = build_model(space, arch, (2, 16, 16), 3, seed=0)
    assert net(torch.zeros(2, 2, 16, 16)).shape == (2, 3, 16, 16)
    deep = space.from_string(">".join(["down_vgg_3"] * 5))
    with pytest.raises(ArchitectureError, match="5 downscaling cells need input sides divisible by 32, got 16x16"):
        build_model(space, deep, (1, 16, 16), 3)
    with pytest.raises(ArchitectureError, match="down_attn"):
        space.from_string("down_attn>non_vgg_3>non_vgg_3>non_vgg_3>non_vgg_3")


def test_search_on_synthetic_from_cli(tmp_path, capsys):
    db = tmp_path / "s.db"
    args = ["search", "--space", "unet", "--strategy", "qnas", "--evaluator", "segmentation",
            "--dataset", "synthetic", "--name", "syn", "--storage", str(db),
            "--scheduler", "median", "-o", "scheduler.fidelities=[1, 2]", *TINY]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "valid_dice=" in out
    store = SQLiteStore(db)
    study_id = store.get_study("syn").study_id
    trials = store.trials(study_id)
    done = [t for t in trials if t.state.value == "COMPLETE"]
    assert len(done) >= 1 and len(trials) == 2
    for t in done:
        assert 0.0 <= t.metrics["valid_dice"] <= 1.0 and "test_dice_shape1" in t.metrics
    curves = store.intermediate(study_id)  # per-epoch Dice reached the context (median stopping)
    assert all(0.0 <= metrics["valid_dice"] <= 1.0 for t in trials for _, metrics in curves[t.number])
    assert [step for step, _ in curves[trials[0].number]] == [1, 2]


def _write_decathlon(root: Path, cases: int = 4, shape=(16, 16, 5)) -> Path:
    rng = np.random.default_rng(0)
    (root / "imagesTr").mkdir(parents=True)
    (root / "labelsTr").mkdir()
    affine = np.diag([1.5, 1.5, 3.0, 1.0])
    training = []
    for i in range(cases):
        label = np.zeros(shape, np.uint8)
        c = rng.integers(4, 12, size=2)
        label[c[0] - 3:c[0] + 3, c[1] - 3:c[1] + 3, 1:4] = 1
        image = (200.0 * label + rng.normal(0, 20, shape) - 50).astype(np.float32)
        nib.save(nib.Nifti1Image(image, affine), str(root / "imagesTr" / f"case_{i}.nii.gz"))
        nib.save(nib.Nifti1Image(label, affine), str(root / "labelsTr" / f"case_{i}.nii.gz"))
        training.append({"image": f"./imagesTr/case_{i}.nii.gz", "label": f"./labelsTr/case_{i}.nii.gz"})
    (root / "imagesTr" / "._case_0.nii.gz").write_bytes(b"\x00\x05\x16\x07AppleDouble")  # must be skipped
    training.append({"image": "./imagesTr/._case_0.nii.gz", "label": "./labelsTr/._case_0.nii.gz"})
    meta = {"name": "Tiny", "modality": {"0": "CT"}, "labels": {"0": "background", "1": "organ"},
            "training": training}
    (root / "dataset.json").write_text(json.dumps(meta))
    return root


def test_decathlon_search_export_segment(tmp_path, capsys):
    task = _write_decathlon(tmp_path / "Task99_Tiny")
    db = tmp_path / "d.db"
    args = ["search", "--space", "unet", "--strategy", "qnas", "--dataset", str(task),
            "--name", "dec", "--storage", str(db), *TINY]
    assert main(args) == 0
    assert main(["export", "dec", "--storage", str(db), "--output", str(tmp_path / "best")]) == 0
    assert "saved weights, not retrained" in capsys.readouterr().out
    meta = json.loads((tmp_path / "best" / "architecture.json").read_text())
    assert meta["preprocessing"]["channels"] == ["ct"] and meta["class_names"] == ["background", "organ"]
    assert main(["segment", str(tmp_path / "best"), str(task / "imagesTr"), "--output", str(tmp_path / "masks")]) == 0
    written = sorted(p.name for p in (tmp_path / "masks").iterdir())
    assert written == [f"case_{i}.nii.gz" for i in range(4)]
    for name in written:
        source = nib.load(str(task / "imagesTr" / name))
        mask = nib.load(str(tmp_path / "masks" / name))
        assert np.allclose(mask.affine, source.affine) and mask.shape == source.shape
        values = np.asanyarray(mask.dataobj)
        assert values.dtype == np.uint8 and set(np.unique(values)) <= {0, 1}


@pytest.mark.parametrize("damage, message", [
    ("label_value", "labelsTr/case_1.nii.gz: label value 7 outside the declared classes 0..1"),
    ("missing", "imagesTr/case_2.nii.gz: listed in dataset.json but missing"),
    ("shape", "case_3.nii.gz: image shape (16, 16, 4) does not match label shape (16, 16, 5)"),
])
def test_bad_decathlon_input_is_one_line_and_nothing_stored(tmp_path, capsys, damage, message):
    task = _write_decathlon(tmp_path / "Task98_Bad")
    if damage == "label_value":
        label = np.zeros((16, 16, 5), np.uint8)
        label[2, 2, 2] = 7
        nib.save(nib.Nifti1Image(label, np.eye(4)), str(task / "labelsTr" / "case_1.nii.gz"))
    elif damage == "missing":
        (task / "imagesTr" / "case_2.nii.gz").unlink()
    else:
        nib.save(nib.Nifti1Image(np.zeros((16, 16, 4), np.float32), np.eye(4)), str(task / "imagesTr" / "case_3.nii.gz"))
    db = tmp_path / "bad.db"
    code = main(["search", "--space", "unet", "--strategy", "qnas", "--dataset", str(task),
                 "--name", "bad", "--storage", str(db), *TINY])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
    if db.exists():
        store = SQLiteStore(db)
        assert "bad" not in store.study_names()


def test_too_many_downscalings_fail_the_trial_with_one_line():
    from nasforge.errors import TrialFailed
    from nasforge.evaluators.segmentation import SegmentationEvaluator

    space = UNetSpace(max_nodes=3)
    evaluator = SegmentationEvaluator(space, "synthetic", size=12, epochs=1)
    arch = space.from_string("down_vgg_3>down_res_3>down_mobile")
    with pytest.raises(TrialFailed, match="3 downscaling cells need input sides divisible by 8, got 12x12"):
        evaluator.evaluate(arch, 1, 0)


def test_mni_loader_slabs_do_not_leak():
    pytest.importorskip("nilearn", reason="segmentation extra (nilearn) not installed")
    from nasforge.data.segmentation import group_split, mni152_tissue

    data = mni152_tissue(size=32, resolution=2, slab=6, gap=1)
    assert data.num_classes == 3 and set(np.unique(data.y)) == {0, 1, 2}
    assert data.x.shape[1:] == (1, 32, 32) and data.y.shape[1:] == (32, 32)
    train, valid, test = group_split(data.groups, 0, 0.2, 0.2)
    assert not (train & valid).any() and not (train & test).any() and not (valid & test).any()
    assert (train | valid | test).all()
    gap = 1
    for a, b in ((train, valid), (train, test), (valid, test)):
        za, zb = data.positions[a], data.positions[b]
        assert np.abs(za[:, None] - zb[None, :]).min() > gap  # neighbouring slices never straddle
    assert np.bincount(data.groups).max() == 5  # a slab of 6 minus its gap of 1


def test_decathlon_multimodal_channels_and_constant_slices(tmp_path):
    from nasforge.data.segmentation import load_segmentation, preprocess_volume

    root = tmp_path / "Task05_Tiny"
    (root / "imagesTr").mkdir(parents=True)
    (root / "labelsTr").mkdir()
    rng = np.random.default_rng(1)
    entries = []
    for i in range(5):
        image = rng.normal(100, 10, (20, 20, 3, 2)).astype(np.float32)
        image[:, :, 0] = 7.0  # a constant slice: z-scoring must not divide by zero
        label = rng.integers(0, 3, (20, 20, 3)).astype(np.uint8)
        nib.save(nib.Nifti1Image(image, np.eye(4)), str(root / "imagesTr" / f"p{i}.nii.gz"))
        nib.save(nib.Nifti1Image(label, np.eye(4)), str(root / "labelsTr" / f"p{i}.nii.gz"))
        entries.append({"image": f"./imagesTr/p{i}.nii.gz", "label": f"./labelsTr/p{i}.nii.gz"})
    (root / "dataset.json").write_text(json.dumps({
        "modality": {"0": "T2", "1": "ADC"}, "labels": {"0": "background", "1": "PZ", "2": "TZ"},
        "training": entries}))
    data = load_segmentation(str(root), size=16, seed=0)
    assert data.input_shape == (2, 16, 16) and data.num_classes == 3
    assert data.y_train.shape[1:] == (16, 16) and np.isfinite(data.x_train).all()
    groups = data.info["groups"]
    assert not set(groups["train"]) & set(groups["valid"]) and not set(groups["train"]) & set(groups["test"])
    assert sum(len(g) for g in groups.values()) == 5
    assert len(data.y_train) + len(data.y_valid) + len(data.y_test) == 5 * 3  # whole volumes per side
    flat = preprocess_volume(np.full((8, 8, 2), -1000.0), ["ct"], 8)
    assert np.all(flat == 0.0)  # constant CT slices: zeros, not NaN


def test_qnas_runs_unmodified_on_the_unet_space():
    from nasforge.strategies.qnas import QNAS
    from nasforge.testing.conformance import check_strategy

    space = UNetSpace(max_nodes=4, max_down=2)

    def fitness(arch):  # a cheap stand-in score: prefers downscaling cells with kernel 5
        return [sum(n.startswith("down") + n.endswith("_5") for n in arch.string.split(">"))]

    check_strategy(lambda seed: QNAS(space, seed=seed, preset="small_budget", reduction_limit=2), space, fitness)


def test_baselines_by_name_and_volume_level_folds():
    from nasforge.data.segmentation import load_segmentation
    from nasforge.errors import ConfigError, TrialFailed
    from nasforge.evaluators.segmentation import SegmentationEvaluator

    space = UNetSpace(max_nodes=2)
    arch = space.from_string("down_vgg_3>non_res_3")
    for name, size in (("resunet", 16), ("monai_unet", 32)):
        evaluator = SegmentationEvaluator(space, "synthetic", size=size, epochs=1, model_factory=name,
                                          latency_repeats=1)
        metrics = evaluator.evaluate(arch, 1, 0)
        assert 0.0 <= metrics["test_dice"] <= 1.0 and metrics["params_m"] > 0.1  # not the tiny searched net
    too_small = SegmentationEvaluator(space, "synthetic", size=16, epochs=1, model_factory="monai_unet")
    with pytest.raises(TrialFailed, match="monai_unet downscales 4 times: .* at least 32, got 16x16"):
        too_small.evaluate(arch, 1, 0)
    with pytest.raises(ConfigError, match="model_factory .* monai_unet, resunet"):
        SegmentationEvaluator(space, "synthetic", model_factory="unet3d")
    folds = [load_segmentation("synthetic", size=16, seed=0, folds=3, fold=k).info["groups"] for k in range(3)]
    assert all(f["test"] == folds[0]["test"] for f in folds)  # test volumes fixed across folds
    valid = [set(f["valid"]) for f in folds]
    assert not (valid[0] & valid[1]) and not (valid[1] & valid[2]) and not (valid[0] & valid[2])
    assert set().union(*valid) == set(folds[0]["train"]) | valid[0]  # the folds cover the non-test volumes
