"""Augmentations: real transforms of real batches, and real training on digits that they change."""

from __future__ import annotations

import pytest
import torch

from nasforge.errors import ConfigError
from nasforge.evaluators.trainer import TrainerEvaluator
from nasforge.spaces.chain import ChainSpace
from nasforge.training.augment import RandomAffine, RandomCrop, RandomFlip, make_augmenter

ARCH = "conv_3_8>max_pool>conv_3_16|lr=0.05,mom=0.9,wd=0.0005,opt=sgd"


def _gen(seed: int) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def _batch() -> torch.Tensor:
    return torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8) + 1.0


def test_crop_shifts_each_image_inside_its_zero_padding() -> None:
    x = _batch()
    out = RandomCrop(padding=2)(x, _gen(0))
    assert out.shape == x.shape
    for i in range(2):
        # every kept pixel is a pixel of the same image or padding zero; the content is a shift
        found = False
        padded = torch.nn.functional.pad(x[i], (2, 2, 2, 2))
        for dy in range(5):
            for dx in range(5):
                if torch.equal(padded[:, dy : dy + 8, dx : dx + 8], out[i]):
                    found = True
        assert found


def test_crop_works_on_1d_signals() -> None:
    x = torch.arange(40, dtype=torch.float32).reshape(2, 2, 10) + 1
    out = RandomCrop(padding=3)(x, _gen(1))
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (3, 3))
    for i in range(2):
        assert any(torch.equal(padded[i, :, s : s + 10], out[i]) for s in range(7))


def test_flip_mirrors_a_seeded_subset_and_p_bounds_work() -> None:
    x = torch.randn(64, 1, 4, 4, generator=_gen(2))
    out = RandomFlip(p=0.5)(x, _gen(3))
    flipped = [torch.equal(out[i], x[i].flip(-1)) for i in range(64)]
    kept = [torch.equal(out[i], x[i]) for i in range(64)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 10 < sum(flipped) < 54
    assert torch.equal(RandomFlip(p=0.0)(x, _gen(3)), x)
    assert torch.equal(RandomFlip(p=1.0)(x, _gen(3)), x.flip(-1))


def test_affine_is_identity_at_zero_and_changes_images_otherwise() -> None:
    x = torch.randn(4, 1, 8, 8, generator=_gen(4))
    same = RandomAffine(degrees=0, translate=0, scale=0)(x, _gen(5))
    assert torch.allclose(same, x, atol=1e-5)
    moved = RandomAffine(degrees=15, translate=0.1, scale=0.1)(x, _gen(5))
    assert moved.shape == x.shape and not torch.allclose(moved, x, atol=1e-3)
    again = RandomAffine(degrees=15, translate=0.1, scale=0.1)(x, _gen(5))
    assert torch.equal(moved, again)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (["rotate"], "augmentation must be one of crop, flip, affine, got 'rotate'"),
        ({"crop": {"padding": 0}}, "parameter padding of augmentation crop must be an integer >= 1, got 0"),
        ({"flip": {"q": 1}}, "augmentation flip takes parameters p, got q"),
        ({"affine": {"degrees": 400}}, "parameter degrees of augmentation affine must be a number in [0, 180]"),
    ],
)
def test_bad_specs_fail_in_one_line(spec, message) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        make_augmenter(spec)


def test_list_and_mapping_spellings() -> None:
    assert make_augmenter(None) is None and make_augmenter([]) is None
    assert make_augmenter(["crop", "flip"]).config() == {"crop": {"padding": 4}, "flip": {"p": 0.5}}
    assert make_augmenter({"crop": {"padding": 1}, "affine": None}).config() == {
        "crop": {"padding": 1}, "affine": {"degrees": 10.0, "translate": 0.1, "scale": 0.1}}


def test_augmentation_changes_training_on_digits_but_stays_deterministic_per_seed() -> None:
    space = ChainSpace(max_nodes=3, filters=(8, 16), kernels=(3,))
    arch = space.from_string(ARCH)
    common = {"epochs": 2, "max_train": 300, "batch_size": 32, "latency_repeats": 1}
    plain = TrainerEvaluator(space, **common).evaluate(arch, seed=0)
    spec = {"crop": {"padding": 1}, "flip": {"p": 0.5}, "affine": {"degrees": 10}}
    augmented = TrainerEvaluator(space, augment=spec, **common)
    first = augmented.evaluate(arch, seed=0)
    second = TrainerEvaluator(space, augment=spec, **common).evaluate(arch, seed=0)
    other = augmented.evaluate(arch, seed=1)
    keys = ("train_loss", "valid_loss", "valid_accuracy", "test_accuracy")
    assert [first[k] for k in keys] == [second[k] for k in keys]
    assert first["train_loss"] != plain["train_loss"]
    assert first["train_loss"] != other["train_loss"]
    assert first["valid_accuracy"] > 12.0  # above chance (10 %) after 2 short epochs
    assert augmented.config()["augment"] == {
        "crop": {"padding": 1}, "flip": {"p": 0.5}, "affine": {"degrees": 10.0, "translate": 0.1, "scale": 0.1}}


def test_cli_search_on_an_image_folder_with_augmentation(tmp_path, capsys) -> None:
    """The practitioner's path: PNGs in class folders, searched from the CLI with augmentation."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    from nasforge.cli.app import main
    from nasforge.store.sqlite import SQLiteStore

    digits = load_digits()
    keep = np.isin(digits.target, [0, 1, 7])
    root = tmp_path / "digits"
    for i, (pixels, label) in enumerate(zip(digits.images[keep][:300], digits.target[keep][:300])):
        folder = root / f"class_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((pixels * 255 / 16).astype(np.uint8), mode="L").save(folder / f"{i}.png")
    db = tmp_path / "s.db"
    args = ["search", "--space", "chain", "--strategy", "random", "--dataset", str(root), "--trials", "2",
            "--name", "aug", "--storage", str(db), "-o", "space.max_nodes=2", "-o", "space.filters=[8]",
            "-o", "space.numeric_genes=false", "-o", "evaluator.epochs=4", "-o", "evaluator.latency_repeats=1",
            "-o", "evaluator.augment={crop: {padding: 1}, affine: {degrees: 5}}"]
    assert main(args) == 0
    store = SQLiteStore(db)
    record = store.get_study("aug")
    trials = store.trials(record.study_id)
    assert [t.state.value for t in trials] == ["COMPLETE", "COMPLETE"]
    assert max(t.values[0] for t in trials) > 45  # above chance (33 %) for 3 classes
    assert record.config["evaluator_options"]["augment"] == {"crop": {"padding": 1}, "affine": {"degrees": 5}}
    bad = list(args)
    bad[bad.index("aug")], bad[-1] = "bad", "evaluator.augment=[rotate]"
    assert main(bad) == 2  # one line naming the bad augmentation, nothing stored
    assert "augmentation must be one of crop, flip, affine, got 'rotate'" in capsys.readouterr().err
    assert store.study_names() == ["aug"]
