"""GraphBO: conformance (seeded, resumable, parallel/failed tells), pool mode, batches, options."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nasforge.errors import ConfigError
from nasforge.evaluators.nb101_tabular import NB101Tabular
from nasforge.objectives import Objective
from nasforge.registry import resolve
from nasforge.spaces.nb101 import NB101Space
from nasforge.spaces.nb201 import NB201Space
from nasforge.spaces.pool import PoolSpace
from nasforge.strategies.bo import GraphBO
from nasforge.testing import check_strategy, run_strategy


def conv_score(arch) -> list[float]:
    """A cheap real objective on NB201 cells: 3x3 convs count, skips help a little."""
    ops = NB201Space().ops(arch)
    return [ops.count("nor_conv_3x3") + 0.3 * ops.count("skip_connect")]


@pytest.fixture(scope="module")
def nb101_pool(data_dir):
    evaluator = NB101Tabular(NB101Space(), data_dir=data_dir)
    return evaluator, PoolSpace(evaluator.space, evaluator.pool())


def test_registry_entry_is_graphbo():
    assert resolve("strategy", "bo") is GraphBO


@pytest.mark.parametrize("kernel", ["wl", "gcn"])
def test_conforms_on_nb201(kernel):
    space = NB201Space()
    check_strategy(lambda seed: GraphBO(space, seed=seed, kernel=kernel, n_init=5, pool_size=40), space, conv_score, steps=24)


def test_conforms_in_pool_mode_on_nb101(nb101_pool):
    evaluator, space = nb101_pool
    evaluate_fn = lambda arch: [evaluator.evaluate(arch)["valid_accuracy"]]  # noqa: E731
    check_strategy(lambda seed: GraphBO(space, seed=seed, n_init=5), space, evaluate_fn, steps=20)


def test_bo_beats_its_own_random_phase_on_a_structured_objective():
    space = NB201Space()
    bo = GraphBO(space, seed=0, n_init=10, pool_size=100)
    asked = run_strategy(bo, conv_score, steps=40)
    values = [conv_score(space.from_string(s))[0] for s in asked]
    assert max(values[10:]) > max(values[:10])
    assert max(values) == 6.0  # all six edges 3x3 convs: the unique optimum
    assert len({space.identity(space.from_string(s)) for s in asked}) == len(asked)  # no repeats


def test_batches_and_pending_asks_are_distinct_and_in_pool(nb101_pool):
    evaluator, space = nb101_pool
    bo = GraphBO(space, seed=1, n_init=4)
    first = bo.ask(4)
    for arch in first[:3]:
        bo.tell(arch, [evaluator.evaluate(arch)["valid_accuracy"]])
    batch = bo.ask(5) + bo.ask(2)  # kriging believer with 1 + 5 pending
    keys = [space.identity(a) for a in first + batch]
    assert len(set(keys)) == len(keys) == 11
    assert all(a in space for a in batch)


def test_pool_is_exhausted_cleanly():
    space = NB101Space()
    pool = [space.from_string(s) for s in ("0100|input,output", "010001000|input,conv3x3-bn-relu,output", "010001000|input,maxpool3x3,output")]
    bo = GraphBO(PoolSpace(space, pool, k=1), seed=0, n_init=1)
    seen = []
    for _ in range(5):
        archs = bo.ask(1)
        for arch in archs:
            bo.tell(arch, [float(len(arch.string))])
        seen += archs
    assert sorted(a.string for a in seen) == sorted(a.string for a in pool)


def test_state_is_json_and_refits_on_load():
    space = NB201Space()
    bo = GraphBO(space, seed=4, n_init=3, kernel="gcn", pool_size=30)
    run_strategy(bo, conv_score, steps=8)
    state = json.loads(json.dumps(bo.state_dict()))
    assert [s for s, _ in state["history"]] and state["pending"] == []
    clone = GraphBO(space, seed=4, n_init=3, kernel="gcn", pool_size=30)
    clone.load_state_dict(state)
    assert clone.ask(2) == bo.ask(2)
    assert clone.last_fit == bo.last_fit


@pytest.mark.parametrize(
    "options, message",
    [
        ({"kernel": "rbf"}, "kernel of GraphBO"),
        ({"acquisition": "pi"}, "acquisition of GraphBO"),
        ({"n_init": 0}, "n_init of GraphBO"),
        ({"pool_size": 2.5}, "pool_size of GraphBO"),
        ({"mutation_share": 1.5}, "mutation_share of GraphBO"),
        ({"objectives": [Objective("valid_accuracy"), Objective("params_m", "min")]}, "one objective"),
        ({"target_transform": "log"}, "target_transform of GraphBO"),
        ({"kernel_options": {"depth": 3}}, "kernel_options of GraphBO"),
        ({"kernel": "gcn", "kernel_options": {"dim": 0}}, "dim of GCNKernel"),
        ({"graph_options": {"prune": "yes"}}, "prune"),
        ({"graph_options": {"colour": 1}}, "graph_options of GraphBO"),
    ],
)
def test_bad_options_raise_one_line(options, message):
    with pytest.raises(ConfigError, match=message):
        GraphBO(NB201Space(), **options)


def test_graph_and_kernel_options_reach_the_kernel():
    space = NB201Space()
    bo = GraphBO(space, seed=0, graph_options={"prune": True}, kernel_options={"direction": "both", "h_values": (0, 1)})
    run_strategy(bo, conv_score, steps=14)
    assert bo.kernel.direction == "both" and bo.last_fit.theta in (0, 1)
    assert bo._graphs and all("none" not in g.labels for g in bo._graphs.values())


def test_ucb_and_minimised_objective():
    space = NB201Space()
    bo = GraphBO(space, seed=2, acquisition="ucb", objectives=[Objective("loss", "min")], n_init=5, pool_size=60)
    asked = run_strategy(bo, lambda a: [-conv_score(a)[0]], steps=25)
    assert max(conv_score(space.from_string(s))[0] for s in asked[5:]) >= 5.0


def test_yeo_johnson_warp_matches_scipy_and_keeps_order():
    from scipy.stats import yeojohnson

    from nasforge.strategies.bo.targets import warp, yeo_johnson

    x = np.r_[np.random.default_rng(0).normal(size=60), -8.0, -9.0]  # a long lower tail, as in NB201
    ours, (theirs, _) = yeo_johnson(x), yeojohnson(x)
    assert np.abs(ours - theirs).max() < 0.15
    assert np.array_equal(np.argsort(ours), np.argsort(x))
    ranked = warp([3.0, 1.0, 2.0, 10.0], "rank")
    assert np.array_equal(np.argsort(ranked), [1, 2, 0, 3]) and abs(ranked.mean()) < 1e-12
