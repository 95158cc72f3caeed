"""NB101 table look-ups on the 500-row sample, and pool mode (PoolSpace) over it."""

from __future__ import annotations

import csv
import gzip
import pickle

import numpy as np
import pytest

from nasforge.errors import ArchitectureError, ConfigError, DataError
from nasforge.evaluators.nb101_tabular import NB101Tabular
from nasforge.spaces.nb101 import NB101Space
from nasforge.spaces.pool import PoolSpace
from nasforge.testing import check_space

SAMPLE = "nb101/nb101_sample500.csv.gz"


@pytest.fixture(scope="module")
def evaluator(data_dir):
    return NB101Tabular(NB101Space(), data_dir=data_dir)


@pytest.fixture(scope="module")
def raw_rows(data_dir):
    with gzip.open(data_dir / SAMPLE, "rt") as handle:
        return list(csv.DictReader(handle))


def test_rows_of_one_cell_are_averaged_under_its_hash(evaluator, raw_rows):
    space = evaluator.space
    bare = space.from_string("0100|input,output")  # the cell many unpruned rows reduce to
    rows = [r for r in raw_rows if space.from_string(f"{r['adjacency']}|{r['ops']}") == bare]
    assert len(rows) > 1
    metrics = evaluator.evaluate(bare)
    assert metrics["n_rows"] == len(rows)
    assert metrics["valid_accuracy"] == pytest.approx(np.mean([float(r["valid_accuracy"]) for r in rows]))
    assert metrics["params_m"] == pytest.approx(float(rows[0]["params_m"]))


def test_pool_holds_one_member_per_hash_and_every_member_evaluates(evaluator, raw_rows):
    pool = evaluator.pool()
    space = evaluator.space
    hashes = {space.identity(a) for a in pool}
    assert len(hashes) == len(pool)
    assert hashes == {space.identity(space.from_string(f"{r['adjacency']}|{r['ops']}")) for r in raw_rows}
    best = max(evaluator.evaluate(a)["valid_accuracy"] for a in pool)
    assert best == pytest.approx(max(float(r["valid_accuracy"]) for r in raw_rows))


def test_isomorphic_cell_finds_the_same_row_and_absent_cell_is_an_error(evaluator):
    space = evaluator.space
    a = space.from_string("0111000001000010000100000|input,conv3x3-bn-relu,maxpool3x3,maxpool3x3,output")
    b = space.from_string("0111000001000010000100000|input,maxpool3x3,maxpool3x3,conv3x3-bn-relu,output")
    assert a != b and evaluator.evaluate(a) == evaluator.evaluate(b)
    pool_hashes = {space.identity(p) for p in evaluator.pool()}
    rng = np.random.default_rng(0)
    absent = next(x for x in (space.sample(rng) for _ in range(100)) if space.identity(x) not in pool_hashes)
    with pytest.raises(DataError, match="pool mode"):
        evaluator.evaluate(absent)


def test_options_are_validated_and_evaluator_pickles_without_its_table(evaluator, tmp_path):
    with pytest.raises(ConfigError, match="dataset"):
        NB101Tabular(NB101Space(), dataset="cifar100")
    with pytest.raises(ConfigError, match="fidelity"):
        evaluator.evaluate(evaluator.pool()[0], fidelity=12)
    with pytest.raises(DataError, match="not found"):
        NB101Tabular(NB101Space(), path=tmp_path / "missing.csv.gz").evaluate(evaluator.pool()[0])
    assert len(pickle.dumps(evaluator)) < 2000
    bad = tmp_path / "bad.csv"
    bad.write_text("adjacency,ops,valid_accuracy\n0100,\"input,output\",oops\n")
    with pytest.raises(DataError, match="not a number"):
        NB101Tabular(NB101Space(), path=bad).evaluate(NB101Space().from_string("0100|input,output"))


def test_pool_space_keeps_every_operator_inside_the_pool(evaluator):
    pool_space = PoolSpace(evaluator.space, evaluator.pool())
    check_space(pool_space, rng_seed=1)
    members = set(pool_space.members())
    rng = np.random.default_rng(3)
    for _ in range(30):
        arch = pool_space.sample(rng)
        assert arch in members and pool_space.mutate(arch, rng) in members
        assert len(pool_space.neighbours(arch)) == pool_space.k
    # arbitrary genes project onto the nearest member; an outside string is refused
    projected = pool_space.from_genes([1] * 21 + [0] * 5)
    assert projected in members
    outside = next(x for x in (evaluator.space.sample(rng) for _ in range(100)) if x not in pool_space)
    with pytest.raises(ArchitectureError, match="not in the pool"):
        pool_space.from_string(outside.string)
    with pytest.raises(ConfigError, match="k of PoolSpace"):
        PoolSpace(evaluator.space, evaluator.pool(), k=0)
