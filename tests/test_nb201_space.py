"""NB201 space: official index rule, isomorphism key, strings, graph form — checked on the real table."""

from __future__ import annotations

import csv
import gzip

import numpy as np
import pytest

from nasforge.architecture import Architecture
from nasforge.errors import ArchitectureError
from nasforge.spaces.nb201 import EDGE_NAMES, OPS, NB201Space


@pytest.fixture(scope="module")
def rows(data_dir):
    with gzip.open(data_dir / "nb201" / "nb201_accuracy.csv.gz", "rt", newline="") as handle:
        reader = csv.DictReader(handle)
        return [(int(r["index"]), r["arch"], r["isomorphism_key"]) for r in reader]


def test_index_rule_matches_every_table_row(rows):
    space = NB201Space()
    assert len(rows) == 15625
    for index, string, _ in rows:
        arch = space.from_index(index)
        assert arch.string == string
        assert space.index(space.from_string(string)) == index


def test_identity_reproduces_isomorphism_key_column(rows):
    space = NB201Space()
    ours = {}
    theirs = {}
    for index, string, key in rows:
        identity = space.identity(space.from_string(string))
        assert identity == key, string
        ours.setdefault(identity, set()).add(index)
        theirs.setdefault(key, set()).add(index)
    assert len(ours) == 6466
    assert sorted(map(sorted, ours.values())) == sorted(map(sorted, theirs.values()))


def test_genes_and_canonical_string():
    space = NB201Space()
    assert [g.name for g in space.genes()] == ["1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2"]
    assert list(EDGE_NAMES) == [g.name for g in space.genes()]
    assert all(g.choices == OPS for g in space.genes())
    arch = space.from_ops(["nor_conv_3x3", "skip_connect", "none", "avg_pool_3x3", "nor_conv_1x1", "skip_connect"])
    assert arch.string == "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|"
    assert space.from_string(" " + arch.string + "\n") == arch
    assert Architecture.from_json(arch.to_json(), space) == arch
    assert space.size() == 15625


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv' on edge 1<-0; allowed: none, skip_connect"),
        ("|none~0|+|none~0|none~1|", "must have 3 nodes"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 part '|none~0|' needs 2"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "entry 'none~1' of node 1 must be 'op~0'"),
        ("none~0+|none~0|none~1|+|none~0|none~1|none~2|", "must be enclosed in '|'"),
    ],
)
def test_malformed_strings_give_one_clear_line(text, fragment):
    with pytest.raises(ArchitectureError) as info:
        NB201Space().from_string(text)
    message = str(info.value)
    assert fragment in message and "\n" not in message


def test_bad_genes_and_index_rejected():
    space = NB201Space()
    with pytest.raises(ArchitectureError, match="edge 2<-1"):
        space.from_genes([0, 0, 5, 0, 0, 0])
    with pytest.raises(ArchitectureError, match="6 gene values"):
        space.from_genes([0, 0])
    with pytest.raises(ArchitectureError, match="0..15624"):
        space.from_index(15625)


def test_graph_form_is_a_labelled_dag():
    space = NB201Space()
    arch = space.from_string("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|")
    graph = space.to_graph(arch)
    assert graph.labels == ("input", "nor_conv_3x3", "none", "skip_connect", "avg_pool_3x3", "none", "nor_conv_1x1", "output")
    assert all(src < dst for src, dst in graph.edges)
    # 2<-1 (skip) reads from 1<-0; 3<-2 (conv1x1) reads from both edges into node 2
    assert (1, 3) in graph.edges and (2, 6) in graph.edges and (3, 6) in graph.edges
    pruned = space.to_graph(arch, prune=True)
    assert "none" not in pruned.labels and pruned.labels[0] == "input" and pruned.labels[-1] == "output"
    assert all(src < dst for src, dst in pruned.edges)
    assert len(pruned.labels) == 6


def test_neighbours_and_encoding():
    space = NB201Space()
    arch = space.from_index(42)
    neighbours = space.neighbours(arch)
    assert len(neighbours) == 24 and arch not in neighbours
    assert all(sum(a != b for a, b in zip(arch.genes, n.genes)) == 1 for n in neighbours)
    vector = space.encode(arch)
    assert vector.shape == (30,) and vector.sum() == 6
    rng = np.random.default_rng(0)
    assert space.mutate(arch, rng) != arch
