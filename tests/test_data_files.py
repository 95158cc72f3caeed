"""Data users already have: an image folder of real PNGs and a CSV table, searched from the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from nasforge.cli.app import main
from nasforge.data.load import load_dataset
from nasforge.errors import DataError
from nasforge.store.sqlite import SQLiteStore


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    """sklearn's digits as 8-bit PNGs in one folder per class (360 images, 3 classes)."""
    from PIL import Image
    from sklearn.datasets import load_digits

    root = tmp_path_factory.mktemp("images") / "digits"
    digits = load_digits()
    keep = np.isin(digits.target, [0, 1, 7])
    for i, (pixels, label) in enumerate(zip(digits.images[keep][:360], digits.target[keep][:360])):
        folder = root / f"class_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((pixels * 255 / 16).astype(np.uint8), mode="L").save(folder / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def wine_csv(tmp_path_factory):
    from sklearn.datasets import load_wine

    wine = load_wine(as_frame=True)
    frame = wine.frame.rename(columns={"target": "label"})
    frame["label"] = frame["label"].map(dict(enumerate(wine.target_names)))
    path = tmp_path_factory.mktemp("tables") / "wine.csv"
    frame.to_csv(path, index=False)
    return path


def test_image_folder_loads_as_grey_images_with_classes_in_folder_order(image_folder):
    data = load_dataset(str(image_folder), seed=0)
    assert data.input_shape == (1, 8, 8) and data.num_classes == 3
    assert sum(data.sizes().values()) == 360


def test_csv_table_loads_columns_as_channels_and_text_labels_as_classes(wine_csv):
    data = load_dataset(str(wine_csv), seed=0)
    assert data.input_shape == (13, 1) and data.num_classes == 3
    assert abs(float(data.x_train.mean())) < 1e-4  # standardised per column on train statistics


@pytest.mark.parametrize("source", ["image_folder", "wine_csv"])
def test_search_runs_from_the_cli_on_the_users_files(source, request, tmp_path):
    path = request.getfixturevalue(source)
    db = tmp_path / "s.db"
    args = ["search", "--space", "chain", "--strategy", "random", "--dataset", str(path),
            "--trials", "2", "--name", "mine", "--storage", str(db), "-o", "space.max_nodes=2",
            "-o", "space.filters=[8]", "-o", "space.numeric_genes=false", "-o", "evaluator.epochs=4", "-o", "evaluator.latency_repeats=1"]
    if source == "wine_csv":
        args += ["-o", "space.kernels=[1]", "-o", "space.include_pooling=false"]
    assert main(args) == 0
    store = SQLiteStore(db)
    trials = store.trials(store.get_study("mine").study_id)
    assert [t.state.value for t in trials] == ["COMPLETE", "COMPLETE"]
    assert max(t.values[0] for t in trials) > 45  # above chance (33 %) for 3 classes


def test_bad_layouts_and_files_name_the_file(tmp_path):
    from PIL import Image

    lonely = tmp_path / "one"
    (lonely / "only").mkdir(parents=True)
    Image.new("L", (4, 4)).save(lonely / "only" / "a.png")
    with pytest.raises(DataError, match="at least 2"):
        load_dataset(str(lonely))
    mixed = tmp_path / "mixed"
    for name, size in (("a", (4, 4)), ("b", (5, 4))):
        (mixed / name).mkdir(parents=True)
        Image.new("L", size).save(mixed / name / "x.png")
    with pytest.raises(DataError, match=r"b/x\.png' is 5x4.*resize"):
        load_dataset(str(mixed))
    broken = tmp_path / "broken"
    for name in ("a", "b"):
        (broken / name).mkdir(parents=True)
        Image.new("L", (4, 4)).save(broken / name / "ok.png")
    (broken / "b" / "bad.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"cannot read image .*bad\.png"):
        load_dataset(str(broken))
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(DataError, match=r"no label column \(label, target, class, y\)"):
        load_dataset(str(table))
