"""Zero-cost proxies against the NB201 zero-cost table, their invariants, and the evaluator on digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nasforge.cli.app import main  # noqa: E402
from nasforge.errors import ConfigError  # noqa: E402
from nasforge.evaluators.zero_cost import ZERO_COST_METRICS, ZeroCostEvaluator  # noqa: E402
from nasforge.metrics.zero_cost import PROXIES, SENTINEL, zero_cost_proxies  # noqa: E402
from nasforge.models.build import build_model  # noqa: E402
from nasforge.predictors.features import ZERO_COST_PROXIES, zero_cost_table  # noqa: E402
from nasforge.spaces.chain import ChainSpace  # noqa: E402
from nasforge.spaces.nb201 import NB201Space  # noqa: E402
from nasforge.store.sqlite import SQLiteStore  # noqa: E402

SPACE = NB201Space()


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: on a shared 2-core machine more threads only contend."""
    from nasforge.training.seeding import torch_threads

    with torch_threads(1):
        yield


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_metric_names_match_the_module():
    assert ZERO_COST_METRICS == PROXIES


def test_synflow_and_params_of_full_nb201_networks_match_the_table(data_dir):
    table = zero_cost_table("cifar10", str(data_dir))
    cells = [0, 1, 5]  # all have table rows
    ours, theirs = [], []
    for index in cells:
        model = build_model(SPACE, SPACE.from_index(index), (3, 32, 32), 10, seed=index)
        got = zero_cost_proxies(model, torch.zeros(2, 3, 32, 32), torch.zeros(2, dtype=torch.long),
                                ("synflow", "params_m", "flops_m"))  # fmt: skip
        row = table[index]
        assert got["params_m"] == pytest.approx(row[ZERO_COST_PROXIES.index("params")], abs=1e-9)
        assert got["flops_m"] == pytest.approx(row[ZERO_COST_PROXIES.index("flops")], abs=0.006)
        ours.append(got["synflow"])
        theirs.append(row[ZERO_COST_PROXIES.index("synflow")])
    # ln(synflow) depends on the random init only slightly: same order, within 1 unit
    assert np.argsort(ours).tolist() == np.argsort(theirs).tolist()
    assert np.max(np.abs(np.asarray(ours) - theirs)) < 1.0


def test_invariants_on_a_small_network():
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(16, 3, 8, 8, generator=generator), torch.randint(0, 10, (16,), generator=generator)
    small = {"C": 4, "N": 1}
    conv = build_model(SPACE, SPACE.from_ops(["nor_conv_3x3"] * 6), (3, 8, 8), 10, seed=0, **small)
    before = {k: v.clone() for k, v in conv.state_dict().items()}
    got = zero_cost_proxies(conv, x, y)
    assert all(np.isfinite(v) for v in got.values())
    assert got["jacov"] <= -16  # ln(l + k) + 1/(l + k) >= 1 for every eigenvalue
    assert got["snip"] > 0 and got["grad_norm"] > 0 and got["fisher"] >= 0 and got["nwot"] > 0
    assert all(torch.equal(before[k], v) for k, v in conv.state_dict().items())  # the model is untouched
    empty = build_model(SPACE, SPACE.from_ops(["none"] * 6), (3, 8, 8), 10, seed=0, **small)
    nothing = zero_cost_proxies(empty, x, y, ("synflow", "jacov"))
    assert nothing["synflow"] == 0.0  # no input-output path: zero, and ln leaves 0 at 0
    assert nothing["jacov"] == SENTINEL  # constant output: undefined correlation -> NASLib's sentinel


def test_unknown_proxy_is_one_line():
    with pytest.raises(ConfigError, match="unknown zero-cost proxies"):
        zero_cost_proxies(torch.nn.Linear(2, 2), torch.zeros(2, 2), torch.zeros(2, dtype=torch.long), ["grasp"])
    with pytest.raises(ConfigError, match="proxies of zero_cost"):
        ZeroCostEvaluator(SPACE, proxies=["zen"])


def test_evaluator_on_digits_is_deterministic_for_nb201_and_chain_networks():
    evaluator = ZeroCostEvaluator(SPACE, "digits", batch_size=16, model_options={"C": 4, "N": 1})
    arch = SPACE.from_index(1)
    first = evaluator.evaluate(arch, seed=3)
    assert set(first) == set(ZERO_COST_METRICS) and first == evaluator.evaluate(arch, seed=3)
    assert first != evaluator.evaluate(arch, seed=4)  # another init and mini-batch
    chain = ChainSpace()
    chain_arch = chain.sample(np.random.default_rng(0))
    metrics = ZeroCostEvaluator(chain, "digits", batch_size=16).evaluate(chain_arch, seed=0)
    assert all(np.isfinite(v) for v in metrics.values()) and metrics["params_m"] > 0


def test_cli_example_searches_by_a_proxy(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["search", "--config", str(EXAMPLES / "zero_cost_digits.yaml"), "--trials", "4"]) == 0
    store = SQLiteStore("zero_cost.db")
    trials = store.trials(store.get_study("digits-zero-cost").study_id)
    assert len(trials) == 4 and all("nwot" in t.metrics for t in trials)
