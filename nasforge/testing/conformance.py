"""Conformance suites every space and strategy must pass (in the spirit of ``optuna/testing``).

Call them from a test with real parts::

    from nasforge.testing.conformance import check_space, check_strategy

    def test_my_space():
        check_space(MySpace(), rng_seed=0)

    def test_my_strategy():
        check_strategy(lambda seed: MyStrategy(space, seed=seed), space, evaluate_fn)

They raise ``AssertionError`` with a message naming the broken contract, so a failing run reads
like a spec. ``evaluate_fn(arch) -> list[float] | None`` returns objective values in the
strategy's objective order, or None for a failed trial.
"""

from __future__ import annotations

import json
import pickle
from typing import Callable, Sequence

import numpy as np

from ..architecture import Architecture, LabelledDAG
from ..errors import ArchitectureError, ConfigError
from ..spaces.base import SearchSpace
from ..strategies.base import Strategy

EvaluateFn = Callable[[Architecture], "Sequence[float] | None"]


# --- spaces ----------------------------------------------------------------------------------------


def check_space(space: SearchSpace, rng_seed: int = 0, n: int = 20) -> None:
    """Determinism, validity of every operator's output, round trips, fixed encoding, graph form."""
    first = space.sample(np.random.default_rng(rng_seed))
    rng_a, rng_b = np.random.default_rng(rng_seed), np.random.default_rng(rng_seed)
    samples = [space.sample(rng_a) for _ in range(n)]
    again = [space.sample(rng_b) for _ in range(n)]
    assert samples == again, f"{space.name}: sample() differs under the same seed"
    assert first == samples[0], f"{space.name}: sample() depends on something besides the rng"

    rng = np.random.default_rng(rng_seed + 1)
    encodings = set()
    for arch in samples:
        _check_member(space, arch, "sample()")
        child = space.mutate(arch, rng)
        _check_member(space, child, "mutate()")
        assert child != arch, f"{space.name}: mutate() returned its parent {arch.string!r}"
        for neighbour in space.neighbours(arch):
            _check_member(space, neighbour, "neighbours()")
            assert neighbour != arch, f"{space.name}: neighbours() includes the architecture itself"
        other = samples[int(rng.integers(len(samples)))]
        _check_member(space, space.crossover(arch, other, rng), "crossover()")
        vector = np.asarray(space.encode(arch), dtype=float)
        assert vector.ndim == 1 and np.all(np.isfinite(vector)), f"{space.name}: encode() must be a finite 1-d vector"
        encodings.add(vector.shape[0])
        identity = space.identity(arch)
        assert identity == space.identity(space.from_string(arch.string)), f"{space.name}: identity() not deterministic"
        _check_graph(space, arch)
    assert len(encodings) == 1, f"{space.name}: encode() lengths vary: {sorted(encodings)}"
    mutated_a = [space.mutate(a, np.random.default_rng(rng_seed)) for a in samples]
    mutated_b = [space.mutate(a, np.random.default_rng(rng_seed)) for a in samples]
    assert mutated_a == mutated_b, f"{space.name}: mutate() differs under the same seed"
    clone = pickle.loads(pickle.dumps(space))
    assert [clone.from_string(a.string) for a in samples] == samples, f"{space.name}: space does not pickle"


def _check_member(space: SearchSpace, arch: Architecture, origin: str) -> None:
    assert isinstance(arch, Architecture) and arch.space == space.name, (
        f"{space.name}: {origin} returned {arch!r}, not an architecture of this space"
    )
    space.validate(arch)
    assert space.from_string(space.to_string(arch)) == arch, f"{space.name}: string round trip broke {arch.string!r}"
    assert space.from_genes(space.to_genes(arch)) == arch, f"{space.name}: gene round trip broke {arch.string!r}"
    assert Architecture.from_json(arch.to_json(), space) == arch, f"{space.name}: JSON round trip broke {arch.string!r}"
    hash(arch)


def _check_graph(space: SearchSpace, arch: Architecture) -> None:
    try:
        graph = space.to_graph(arch)
    except ArchitectureError:
        return  # the space has no graph form
    assert isinstance(graph, LabelledDAG), f"{space.name}: to_graph() must return a LabelledDAG"
    n = len(graph.labels)
    assert n >= 2 and all(isinstance(label, str) for label in graph.labels), f"{space.name}: bad graph labels"
    for src, dst in graph.edges:
        assert 0 <= src < dst < n, f"{space.name}: graph edge {(src, dst)} is not forward (topological order)"
    assert len(set(graph.edges)) == len(graph.edges), f"{space.name}: duplicate graph edges"


# --- strategies --------------------------------------------------------------------------------------


def run_strategy(
    strategy: Strategy,
    evaluate_fn: EvaluateFn,
    steps: int,
    batch: int = 1,
    reverse: bool = False,
    fail_every: int = 0,
) -> list[str]:
    """Drive ask/tell for ``steps`` asks: ask ``batch``, tell them (reversed if asked), repeat.

    ``fail_every=k`` reports every k-th result as failed (None). Returns the asked strings.
    """
    asked: list[str] = []
    told = 0
    while len(asked) < steps and not getattr(strategy, "finished", False):
        archs = strategy.ask(min(batch, steps - len(asked)))
        assert archs, f"{type(strategy).__name__}: ask() returned nothing with no trial in flight"
        asked.extend(a.string for a in archs)
        for arch in reversed(archs) if reverse else archs:
            told += 1
            failed = fail_every and told % fail_every == 0
            strategy.tell(arch, None if failed else evaluate_fn(arch))
    return asked


def check_strategy(
    make_strategy: Callable[[int], Strategy],
    space: SearchSpace,
    evaluate_fn: EvaluateFn,
    steps: int = 40,
    seed: int = 3,
) -> None:
    """Seed determinism, valid proposals, JSON state round trip mid-run, out-of-order and failed tells.

    ``make_strategy(seed)`` builds a fresh strategy on ``space``.
    """
    name = type(make_strategy(seed)).__name__

    first = run_strategy(make_strategy(seed), evaluate_fn, steps)
    second = run_strategy(make_strategy(seed), evaluate_fn, steps)
    assert first == second, f"{name}: the same seed gave different asks"
    for string in first:
        space.validate(space.from_string(string))

    # state round trip while a batch is in flight: the restored copy must continue identically
    original = make_strategy(seed)
    run_strategy(original, evaluate_fn, steps // 2, batch=3, reverse=True, fail_every=5)
    in_flight = original.ask(3)
    state = json.loads(json.dumps(original.state_dict(), allow_nan=False))
    restored = make_strategy(seed)
    restored.load_state_dict(state)
    for arch in reversed(in_flight):
        values = evaluate_fn(arch)
        original.tell(arch, values)
        restored.tell(arch, values)
    tail_a = run_strategy(original, evaluate_fn, steps // 2, batch=2, reverse=True, fail_every=4)
    tail_b = run_strategy(restored, evaluate_fn, steps // 2, batch=2, reverse=True, fail_every=4)
    assert tail_a == tail_b, f"{name}: a strategy restored from state_dict() continued differently"
    assert original.state_dict() == restored.state_dict(), f"{name}: states diverged after the round trip"

    # out-of-order, parallel and failed tells keep proposals valid; everything failing does not crash it
    for string in run_strategy(make_strategy(seed), evaluate_fn, steps, batch=4, reverse=True, fail_every=3):
        space.validate(space.from_string(string))
    for string in run_strategy(make_strategy(seed), lambda arch: None, steps // 2, batch=2):
        space.validate(space.from_string(string))

    # ask/tell are the base class's: bad arguments are one-line ConfigErrors, never a crash inside
    probe = make_strategy(seed)
    assert type(probe).ask is Strategy.ask and type(probe).tell is Strategy.tell, (
        f"{name}: override _ask/_tell, not ask/tell"
    )
    for bad in (0, -1, 1.5, True):
        try:
            probe.ask(bad)
        except ConfigError:
            continue
        raise AssertionError(f"{name}: ask({bad!r}) did not raise ConfigError")
    arch = probe.ask(1)[0]
    values = evaluate_fn(arch)
    if values is not None:
        try:
            probe.tell(arch, list(values) + [0.0])
        except ConfigError:
            pass
        else:
            raise AssertionError(f"{name}: tell() accepted {len(values) + 1} values for {len(values)} objectives")
