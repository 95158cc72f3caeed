"""What random search counts as a repeat: identity classes, exact strings, or nothing."""

from __future__ import annotations

import pytest

from nasforge.errors import ConfigError
from nasforge.spaces.nb201 import NB201Space
from nasforge.strategies.random import RandomSearch


def _asks(dedupe, n=3000):
    space = NB201Space()
    strategy = RandomSearch(space, seed=0, dedupe=dedupe)
    archs = strategy.ask(n)
    return space, archs


def test_identity_dedupe_never_repeats_a_class():
    space, archs = _asks("identity")
    assert len({space.identity(a) for a in archs}) == len(archs)


def test_string_dedupe_repeats_classes_but_not_cells():
    space, archs = _asks("string")
    assert len({a.string for a in archs}) == len(archs)
    assert len({space.identity(a) for a in archs}) < len(archs)  # isomorphic cells allowed


def test_no_dedupe_repeats_cells_and_bools_still_work():
    _, archs = _asks("none")
    assert len({a.string for a in archs}) < len(archs)  # 3000 draws from 15,625 collide
    assert RandomSearch(NB201Space(), dedupe=True).dedupe == "identity"
    assert RandomSearch(NB201Space(), dedupe=False).dedupe == "none"
    with pytest.raises(ConfigError, match="identity, string, none"):
        RandomSearch(NB201Space(), dedupe="exact")
