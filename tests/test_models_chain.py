"""Chain network builder: 1-D and 2-D shapes, pooling rule, real training on digits."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from nasforge.errors import ConfigError  # noqa: E402
from nasforge.models import build_model  # noqa: E402
from nasforge.models.chain import ResidualBlock  # noqa: E402
from nasforge.spaces.chain import ChainSpace  # noqa: E402

TRAIN = "|lr=0.05,mom=0.9,wd=0.0005,opt=sgd"


@pytest.fixture(scope="module")
def space() -> ChainSpace:
    return ChainSpace()


@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 9, 5), (1, 40), (2, 7)])
def test_forward_shapes_for_images_and_signals(space: ChainSpace, shape: tuple) -> None:
    arch = space.from_string("conv_5_16>res_32>max_pool>res_proj_32>avg_pool>conv_1_64>max_pool" + TRAIN)
    model = build_model(space, arch, shape, 7).eval()
    assert model(torch.randn(3, *shape)).shape == (3, 7)
    conv = torch.nn.Conv2d if len(shape) == 3 else torch.nn.Conv1d
    assert any(isinstance(m, conv) for m in model.modules())


def test_pooling_is_skipped_once_the_signal_is_too_small(space: ChainSpace) -> None:
    arch = space.from_string(">".join(["max_pool", "conv_3_16"] * 4) + TRAIN)
    pools = lambda m: sum(isinstance(x, (torch.nn.MaxPool1d, torch.nn.MaxPool2d)) for x in m.modules())  # noqa: E731
    assert pools(build_model(space, arch, (1, 8, 8), 10)) == 3  # 8 -> 4 -> 2 -> 1, fourth skipped
    assert pools(build_model(space, arch, (1, 40), 10)) == 4
    assert space.skipped_reductions(arch, (8, 8)) == 1 and space.skipped_reductions(arch, (40,)) == 0
    model = build_model(space, arch, (1, 8, 8), 10)
    assert model(torch.randn(2, 1, 8, 8)).shape == (2, 10)


def test_residual_shortcuts(space: ChainSpace) -> None:
    same = build_model(space, space.from_string("conv_3_32>res_32" + TRAIN), (1, 8, 8), 10)
    proj = build_model(space, space.from_string("conv_3_32>res_proj_32" + TRAIN), (1, 8, 8), 10)
    grow = build_model(space, space.from_string("conv_3_16>res_32" + TRAIN), (1, 8, 8), 10)
    blocks = [next(m for m in net.modules() if isinstance(m, ResidualBlock)) for net in (same, proj, grow)]
    assert isinstance(blocks[0].shortcut, torch.nn.Identity)
    assert not isinstance(blocks[1].shortcut, torch.nn.Identity)
    assert not isinstance(blocks[2].shortcut, torch.nn.Identity)
    # conv_3_32 (288 + 64) + res_proj_32 (2 * 9216 + 2 * 64 + 1024 + 64) + head (330)
    assert sum(p.numel() for p in proj.parameters()) == 288 + 64 + 18432 + 128 + 1024 + 64 + 330


def test_bad_input_shapes(space: ChainSpace) -> None:
    arch = space.hand_designed("digits")
    with pytest.raises(ConfigError, match="input_shape"):
        build_model(space, arch, (64,), 10)
    with pytest.raises(ConfigError, match="input_shape"):
        build_model(space, arch, (1, 2, 8, 8), 10)


def test_a_chain_model_trains_on_digits(space: ChainSpace) -> None:
    from sklearn.datasets import load_digits

    torch.set_num_threads(1)
    digits = load_digits()
    x = torch.tensor(digits.images[:512] / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(digits.target[:512])
    arch = space.from_string("conv_3_16>max_pool>conv_3_32>max_pool|lr=0.05,mom=0.9,wd=0.0001,opt=sgd")
    hp = space.training_hparams(arch)
    model = build_model(space, arch, (1, 8, 8), 10, seed=0)
    opt = torch.optim.SGD(model.parameters(), lr=hp["lr"], momentum=hp["momentum"], weight_decay=hp["weight_decay"])
    loss_fn = torch.nn.CrossEntropyLoss()

    def full_loss() -> float:
        model.eval()
        with torch.no_grad():
            return loss_fn(model(x), y).item()

    before = full_loss()
    gen = torch.Generator().manual_seed(0)
    for _ in range(4):
        model.train()
        for idx in torch.randperm(len(y), generator=gen).split(64):
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
    after = full_loss()
    model.eval()
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    assert after < 0.5 * before
    assert accuracy > 0.8
