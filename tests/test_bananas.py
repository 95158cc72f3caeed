"""Predictor-guided search: conformance, warm start from the zero-cost table, a real resumed study."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nasforge.cli.app import main
from nasforge.errors import ConfigError
from nasforge.predictors.features import ZERO_COST_PROXIES, zero_cost_table
from nasforge.registry import resolve
from nasforge.spaces.nb201 import NB201Space
from nasforge.store.sqlite import SQLiteStore
from nasforge.strategies.predictor_guided import PredictorGuided
from nasforge.testing import check_strategy, run_strategy

SPACE = NB201Space()
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def conv_score(arch) -> list[float]:
    """A cheap real objective: 3x3 convs count, skips help a little (optimum: six 3x3 convs)."""
    ops = SPACE.ops(arch)
    return [ops.count("nor_conv_3x3") + 0.3 * ops.count("skip_connect")]


def test_registry_entry():
    assert resolve("strategy", "bananas") is PredictorGuided


@pytest.mark.parametrize("predictor, acquisition", [("mlp_ensemble", "its"), ("gp_gcn", "ucb")])
def test_conforms_on_nb201(predictor, acquisition):
    check_strategy(lambda seed: PredictorGuided(SPACE, seed=seed, predictor=predictor, acquisition=acquisition,
                                                n_init=5, pool_size=40), SPACE, conv_score, steps=20)  # fmt: skip


def test_guided_queries_beat_the_random_start_without_repeats():
    strategy = PredictorGuided(SPACE, seed=0, n_init=10, pool_size=100)
    asked = run_strategy(strategy, conv_score, steps=30)
    values = [conv_score(SPACE.from_string(s))[0] for s in asked]
    assert max(values[10:]) > max(values[:10])
    assert np.mean(values[10:]) > np.mean(values[:10]) + 0.5
    assert len({SPACE.identity(SPACE.from_string(s)) for s in asked}) == len(asked)


def test_warm_start_asks_the_best_table_proxies_of_its_pool_first(data_dir):
    strategy = PredictorGuided(SPACE, seed=1, n_init=5, warm_start="jacov", warm_pool=300, data=str(data_dir))
    first = strategy.ask(5)
    jacov = zero_cost_table("cifar10", str(data_dir))[:, ZERO_COST_PROXIES.index("jacov")]
    scores = [jacov[SPACE.index(a)] for a in first]
    assert all(np.isfinite(scores)) and scores == sorted(scores, reverse=True)
    # they beat the median of a random sample of table cells by a wide margin
    sample = jacov[np.isfinite(jacov)][np.random.default_rng(0).permutation(int(np.isfinite(jacov).sum()))[:300]]
    assert min(scores) > np.quantile(sample, 0.9)


def test_bad_options_raise_one_line(data_dir):
    with pytest.raises(ConfigError, match="warm_start"):
        PredictorGuided(SPACE, warm_start="accuracy")
    with pytest.raises(ConfigError, match="predictor"):
        PredictorGuided(SPACE, predictor="forest")
    with pytest.raises(ConfigError, match="acquisition"):
        PredictorGuided(SPACE, acquisition="pi")
    with pytest.raises(ConfigError, match="width"):
        PredictorGuided(SPACE, predictor_options={"width": -1})


def test_cli_example_runs_and_resumes(tmp_path, data_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = EXAMPLES / "bananas_nb201.yaml"
    assert main(["search", "--config", str(config), "--trials", "14", "--data", str(data_dir)]) == 0
    assert main(["resume", "nb201-bananas", "--storage", "bananas.db", "--trials", "18"]) == 0
    store = SQLiteStore("bananas.db")
    trials = store.trials(store.get_study("nb201-bananas").study_id)
    assert len(trials) == 18 and len({t.arch for t in trials}) == 18
    assert main(["report", "nb201-bananas", "--storage", "bananas.db", "--json"]) == 0
