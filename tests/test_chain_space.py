"""ChainSpace (Q-NAS chain space): canonical genes/strings, validity, options, queries."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from nasforge.architecture import Architecture, Categorical, Float
from nasforge.errors import ArchitectureError, ConfigError
from nasforge.registry import resolve
from nasforge.spaces.chain import HAND_DESIGNED, ChainSpace, pool_plan


@pytest.fixture(scope="module")
def space() -> ChainSpace:
    return ChainSpace()


def test_registry_resolves_chain() -> None:
    assert resolve("space", "chain") is ChainSpace


def test_gene_description(space: ChainSpace) -> None:
    genes = list(space.genes())
    assert [g.name for g in genes] == [f"node_{i}" for i in range(8)] + ["lr", "momentum", "weight_decay", "optimizer"]
    assert all(isinstance(g, Categorical) and g.choices[-1] == "no_op" for g in genes[:8])
    assert "conv_5_64" in genes[0].choices and "res_proj_16" in genes[0].choices and "max_pool" in genes[0].choices
    assert isinstance(genes[8], Float) and genes[8].log and (genes[8].low, genes[8].high) == (1e-4, 0.1)
    assert genes[11].choices == ("sgd", "rmsprop", "adam")
    assert space.size() is None
    assert ChainSpace(max_nodes=3, numeric_genes=False).size() == 18**3


def test_sampling_is_seeded_and_round_trips(space: ChainSpace) -> None:
    a = [space.sample(np.random.default_rng(7)) for _ in range(2)]
    assert a[0] == a[1] and a[0].genes == a[1].genes
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(200)]
    assert len({x.string for x in archs}) == 200
    for arch in archs:
        space.validate(arch)
        back = space.from_string(arch.string)
        assert back == arch and back.genes == arch.genes
        assert Architecture.from_json(arch.to_json(), space) == arch
        json.dumps(list(arch.genes))  # plain python scalars


def test_no_op_nodes_are_dropped_and_genes_canonicalised() -> None:
    space = ChainSpace(max_nodes=4)
    f = space.functions
    no_op = len(f) - 1
    conv, pool = f.index("conv_3_32"), f.index("max_pool")
    a = space.from_genes([no_op, conv, no_op, pool, 0.01, 0.9, 5e-4, 0])
    b = space.from_genes([conv, pool, no_op, no_op, 0.01, 0.9, 5e-4, 0])
    assert a == b and a.genes == b.genes
    assert a.string == "conv_3_32>max_pool|lr=0.01,mom=0.9,wd=0.0005,opt=sgd"
    assert a.genes[:4] == (conv, pool, no_op, no_op)
    assert space.from_string("no_op>conv_3_32>no_op>max_pool|lr=0.01,mom=0.9,wd=0.0005,opt=sgd") == a
    space.validate(a)
    # a non-canonical (string, genes) pair is caught by validate
    with pytest.raises(ArchitectureError, match="not canonical"):
        space.validate(Architecture("chain", "max_pool>conv_3_32|lr=0.01,mom=0.9,wd=0.0005,opt=sgd", a.genes))


def test_numeric_genes_are_rounded_so_strings_are_exact(space: ChainSpace) -> None:
    genes = [0] + [len(space.functions) - 1] * 7 + [0.0123456789, 0.912345, 3.33333e-5, 2]
    arch = space.from_genes(genes)
    assert arch.string == "conv_1_16|lr=0.01235,mom=0.9123,wd=3.333e-05,opt=adam"
    assert arch.genes[8:] == (0.01235, 0.9123, 3.333e-05, 2)
    assert space.training_hparams(arch) == {"lr": 0.01235, "momentum": 0.9123, "weight_decay": 3.333e-05, "optimizer": "adam"}
    assert space.from_string(arch.string).genes == arch.genes


def test_min_active_and_invalid_members(space: ChainSpace) -> None:
    no_op = len(space.functions) - 1
    with pytest.raises(ArchitectureError, match="active"):
        space.from_genes([no_op] * 8 + [0.01, 0.9, 5e-4, 0])
    two = ChainSpace(max_nodes=4, min_active=2)
    with pytest.raises(ArchitectureError, match="at least 2"):
        two.from_string("conv_3_32|lr=0.01,mom=0.9,wd=0.0005,opt=sgd")
    bad = [
        "conv_3_32>conv_7_32|lr=0.01,mom=0.9,wd=0.0005,opt=sgd",  # kernel 7 not in the space
        "conv_3_32>dense|lr=0.01,mom=0.9,wd=0.0005,opt=sgd",  # unknown function
        ">".join(["conv_3_32"] * 9) + "|lr=0.01,mom=0.9,wd=0.0005,opt=sgd",  # too long
        "conv_3_32|lr=1.0,mom=0.9,wd=0.0005,opt=sgd",  # lr out of range
        "conv_3_32|lr=0.01,mom=0.9,wd=0.0005,opt=lbfgs",
        "conv_3_32|lr=0.01,mom=0.9,wd=0.0005",
        "conv_3_32|lr=0.01,mom=x,wd=0.0005,opt=sgd",
        "conv_3_32",  # the training part is required when the space has numeric genes
        "",
    ]
    for text in bad:
        with pytest.raises(ArchitectureError):
            space.from_string(text)
    with pytest.raises(ArchitectureError, match="gene values"):
        space.from_genes([0, 1])
    with pytest.raises(ArchitectureError, match="node_0"):
        space.from_genes([99] + [0] * 7 + [0.01, 0.9, 5e-4, 0])


def test_operators_keep_members_valid(space: ChainSpace) -> None:
    rng = np.random.default_rng(3)
    a, b = space.sample(rng), space.sample(rng)
    for _ in range(30):
        child = space.mutate(a, rng)
        assert child != a
        space.validate(child)
        space.validate(space.crossover(a, b, rng))
    neighbours = space.neighbours(a)
    assert neighbours and a not in neighbours
    for n in neighbours:
        space.validate(n)
    assert space.encode(a).shape == space.encode(b).shape


def test_queries_graph_reductions_and_hparams(space: ChainSpace) -> None:
    arch = space.from_string("conv_3_32>max_pool>res_32>avg_pool>max_pool|lr=0.01,mom=0.9,wd=0.0005,opt=sgd")
    assert space.layers(arch) == ("conv_3_32", "max_pool", "res_32", "avg_pool", "max_pool")
    assert space.reductions(arch) == 3
    assert space.skipped_reductions(arch, (8, 8)) == 0
    assert space.skipped_reductions(arch, (4, 4)) == 1
    assert space.skipped_reductions(arch, (1,)) == 3
    graph = space.to_graph(arch)
    assert graph.labels == ("input", "conv_3_32", "max_pool", "res_32", "avg_pool", "max_pool", "output")
    assert graph.edges == tuple((i, i + 1) for i in range(6))
    assert pool_plan(["max_pool", "conv_1_16", "max_pool"], (3, 40)) == [True, False]
    plain = ChainSpace(numeric_genes=False)
    p = plain.from_string("conv_3_32>max_pool")
    assert p.string == "conv_3_32>max_pool"
    assert plain.training_hparams(p) == {}  # the trainer's own settings apply
    custom = ChainSpace(numeric_genes=False, default_hparams={"lr": 0.1, "optimizer": "adam"})
    assert custom.training_hparams(custom.from_string("conv_3_32"))["lr"] == 0.1


def test_hand_designed_baselines_are_members(space: ChainSpace) -> None:
    for name, text in HAND_DESIGNED.items():
        arch = space.hand_designed(name)
        assert arch.string == text
        space.validate(arch)
    assert ChainSpace(numeric_genes=False).hand_designed("digits").string.startswith("conv_3_32>")


def test_explicit_function_set() -> None:
    space = ChainSpace(max_nodes=5, functions=["conv_1_8", "conv_3_8", "res_proj_8", "max_pool"])
    assert space.functions == ("conv_1_8", "conv_3_8", "res_proj_8", "max_pool", "no_op")
    with pytest.raises(ArchitectureError, match="not in this space"):
        space.from_string("conv_3_32|lr=0.01,mom=0.9,wd=0.0005,opt=sgd")


@pytest.mark.parametrize(
    "options, fragment",
    [
        ({"max_nodes": 0}, "max_nodes"),
        ({"max_nodes": 2, "min_active": 3}, "min_active"),
        ({"min_active": 0}, "min_active"),
        ({"filters": []}, "filters"),
        ({"kernels": (2, 3)}, "kernels"),
        ({"include_residual": "yes"}, "include_residual"),
        ({"functions": ["conv_3_32", "dense_10"]}, "functions"),
        ({"functions": ["no_op"]}, "functions"),
        ({"functions": ["conv_4_32"]}, "functions"),
        ({"lr": (0.1, 0.01)}, "lr"),
        ({"lr": (0.0, 0.1)}, "lr"),
        ({"weight_decay": (1.23456e-6, 1e-2)}, "weight_decay"),
        ({"momentum": "high"}, "momentum"),
        ({"optimizers": ["sgd", "lbfgs"]}, "optimizers"),
        ({"default_hparams": {"lrate": 0.1}}, "default_hparams"),
    ],
)
def test_bad_options_raise_one_line_config_errors(options: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        ChainSpace(**options)
    message = str(info.value)
    assert f"parameter {fragment} of ChainSpace" in message and "\n" not in message


def test_space_module_does_not_import_torch() -> None:
    code = "import sys, nasforge.spaces.chain; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "options",
    [{}, {"max_nodes": 3, "numeric_genes": False}, {"max_nodes": 5, "min_active": 3, "include_residual": False}],
)
def test_conformance_suite(options: dict) -> None:
    from nasforge.testing.conformance import check_space

    check_space(ChainSpace(**options), rng_seed=0)
