

def test_cli_search_on_an_image_folder_with_augmentation(tmp_path) -> None:
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
    assert '"augment"' in str(record.config) or "augment" in str(record.config)
    assert main(args[:9] + ["bad", *args[10:-1], "evaluator.augment=[rotate]"]) == 2
