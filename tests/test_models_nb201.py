"""NB201 network builder: parameter counts equal the published NB201 table, forward shapes."""

from __future__ import annotations

import csv
import gzip

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nasforge.errors import ArchitectureError, ConfigError  # noqa: E402
from nasforge.models import build_model  # noqa: E402
from nasforge.spaces.nb201 import NB201Space  # noqa: E402

SHAPES = {"cifar10": ((3, 32, 32), 10), "ImageNet16-120": ((3, 16, 16), 120)}


def _params(model) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("dataset, n", [("cifar10", 50), ("ImageNet16-120", 10)])
def test_parameter_counts_match_the_nb201_table(data_dir, dataset: str, n: int) -> None:
    with gzip.open(data_dir / "nb201" / "nb201_zero_cost.csv.gz", "rt") as fh:
        rows = [r for r in csv.DictReader(fh) if r["dataset"] == dataset]
    picked = np.random.default_rng(2024).choice(len(rows), size=n, replace=False)
    space = NB201Space()
    shape, classes = SHAPES[dataset]
    mismatches = []
    for i in picked:
        row = rows[int(i)]
        model = build_model(space, space.from_string(row["arch"]), shape, classes)
        if round(_params(model) / 1e6, 6) != float(row["params"]):
            mismatches.append((row["arch"], _params(model), row["params"]))
    assert not mismatches


def test_forward_shapes_and_options() -> None:
    space = NB201Space()
    arch = space.from_string("|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|")
    for shape in [(3, 32, 32), (1, 8, 8), (1, 7, 7)]:
        model = build_model(space, arch, shape, 10, C=8, N=1)
        assert model(torch.randn(2, *shape)).shape == (2, 10)
    small = build_model(space, arch, (3, 32, 32), 10, C=8, N=1)
    assert _params(small) < _params(build_model(space, arch, (3, 32, 32), 10))


def test_none_edges_cut_the_cell() -> None:
    space = NB201Space()
    cut = space.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|")
    model = build_model(space, cut, (1, 8, 8), 5, seed=0, C=4, N=1).eval()
    # every cell outputs zeros, so the logits are the classifier bias for any input
    out = model(torch.randn(3, 1, 8, 8))
    assert torch.allclose(out, model.classifier.bias.expand(3, -1).detach())


def test_seeded_builds_are_identical_and_leave_global_rng_alone() -> None:
    space = NB201Space()
    arch = space.from_index(123)
    state = torch.get_rng_state()
    a = build_model(space, arch, (3, 16, 16), 10, seed=5, C=4, N=1)
    b = build_model("nb201", arch, (3, 16, 16), 10, seed=5, C=4, N=1)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_bad_inputs() -> None:
    space = NB201Space()
    arch = space.from_index(0)
    with pytest.raises(ConfigError, match="image inputs"):
        build_model(space, arch, (1, 40), 10)
    with pytest.raises(ConfigError, match="parameter C of the nb201 builder"):
        build_model(space, arch, (3, 32, 32), 10, C=0)
    with pytest.raises(ConfigError, match="num_classes"):
        build_model(space, arch, (3, 32, 32), 0)
    with pytest.raises(ConfigError, match="input_shape"):
        build_model(space, arch, (3, 0, 32), 10)
    with pytest.raises(ConfigError, match="no model builder"):
        build_model("nb101", arch, (3, 32, 32), 10)
    with pytest.raises(ArchitectureError):
        build_model(space, type(arch)("nb201", "|conv~0|+|", ()), (3, 32, 32), 10)
