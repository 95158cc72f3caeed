"""`nasforge fit-predictor`: fit a predictor on cells of a tabular benchmark and save it to a file.

The file serves as a surrogate benchmark (``--evaluator surrogate -o evaluator.path=FILE``) or is
loaded in Python with ``nasforge.predictors.load_predictor``. The Kendall tau on up to 1,000 other
cells of the table is printed, so the surrogate's quality is known before anyone searches on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import ConfigError

_EVALUATOR_OF_SPACE = {"nb201": "nb201", "nb101": "nb101", "nb101-pool": "nb101"}


def fit_predictor(
    out: Path = typer.Option(..., "--out", help="file to write (gzip JSON)"),
    predictor: str = typer.Option("xgboost", help="gp_wl, gp_gcn, mlp_ensemble, xgboost, lightgbm"),
    space: str = typer.Option("nb201", help="nb201 or nb101 (the table's cells are the training data)"),
    dataset: Optional[str] = typer.Option(None, help="benchmark dataset (nb201: cifar10, cifar100, ImageNet16-120)"),
    metric: str = typer.Option("valid_accuracy", help="metric to predict"),
    fidelity: Optional[int] = typer.Option(None, help="table fidelity (epochs); default the evaluator's"),
    train: int = typer.Option(1000, help="number of training cells drawn from the table"),
    seed: int = typer.Option(0, help="seed for the cell draw and the predictor"),
    data: Optional[str] = typer.Option(None, help="benchmark data folder"),
    option: Optional[list[str]] = typer.Option(None, "-o", help="predictor option, e.g. -o zero_cost=true"),
) -> None:
    """Fit a predictor on a tabular benchmark and save it (a surrogate benchmark)."""
    import numpy as np
    import yaml
    from scipy.stats import kendalltau

    from ..predictors.base import make_predictor, save_predictor
    from ..registry import resolve

    if space not in _EVALUATOR_OF_SPACE:
        raise ConfigError(f"fit-predictor needs a tabular space; choose one of: {', '.join(_EVALUATOR_OF_SPACE)}, got {space!r}")
    if train < 2:
        raise ConfigError(f"--train must be at least 2, got {train}")
    options = {}
    for item in option or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"option {item!r} must look like 'key=value'")
        options[key] = yaml.safe_load(raw)
    if dataset is not None and "zero_cost" in options:
        options.setdefault("dataset", dataset)
    if data is not None and "zero_cost" in options:
        options.setdefault("data", data)
    space_obj = resolve("space", space)()
    kwargs = {"data_dir": data}
    if dataset is not None:
        kwargs["dataset"] = dataset
    evaluator = resolve("evaluator", _EVALUATOR_OF_SPACE[space])(getattr(space_obj, "base", space_obj), **kwargs)
    rng = np.random.default_rng(seed)
    pool = evaluator.pool() if hasattr(evaluator, "pool") else None
    if pool is not None:
        archs = [pool[i] for i in rng.permutation(len(pool))]
    else:
        found: dict[str, object] = {}
        while len(found) < min(train + 1000, (space_obj.size() or 10**9) // 3):
            arch = space_obj.sample(rng)
            found.setdefault(space_obj.identity(arch), arch)
        archs = list(found.values())
    fidelity = fidelity if fidelity is not None else evaluator.default_fidelity()
    values = []
    for arch in archs[: train + 1000]:
        metrics = evaluator.evaluate(arch, fidelity, seed)
        if metric not in metrics:
            raise ConfigError(f"metric {metric!r} is not produced by evaluator {evaluator.name!r}; available: {', '.join(metrics)}")
        values.append(float(metrics[metric]))
    model = make_predictor(predictor, space_obj, seed=seed, **options)
    model.fit(archs[:train], values[:train])
    held = archs[train : train + 1000]
    tau = float(kendalltau(model.predict(held)[0], values[train:])[0]) if len(held) > 1 else float("nan")
    save_predictor(model, out)
    typer.echo(f"fitted {predictor} on {min(train, len(archs))} {space} cells ({metric}); Kendall tau on "
               f"{len(held)} held-out cells {tau:.3f}; written {out}")
