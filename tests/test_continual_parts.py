"""Task streams, stability metrics and PST freezing on real (tiny) digits training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasforge.data.load import load_dataset
from nasforge.data.streams import ClassStream, parse_division
from nasforge.errors import ConfigError
from nasforge.metrics.robustness import noisy_accuracy, roughness, stability_fitness
from nasforge.models import build_model
from nasforge.spaces.chain import ChainSpace
from nasforge.training.continual.pst import FrozenUnits, accumulate_gradients, unit_layers
from nasforge.training.continual.stream import SeenClasses, StreamLearner, StreamSettings, to_split
from nasforge.training.loop import score
from nasforge.training.seeding import seeded_torch, torch_threads

ARCH = "conv_3_16>max_pool>conv_3_16>max_pool|lr=0.05,mom=0.9,wd=0.0005,opt=sgd"


@pytest.fixture(scope="module")
def stream():
    return ClassStream(load_dataset("digits"), "5,1,1,1,1,1", seed=0)


@pytest.fixture(scope="module")
def trained(stream):
    """A small CNN after task 0 of the stream (5 classes, 4 epochs) and its PST learner."""
    space = ChainSpace()
    with torch_threads(1), seeded_torch(0) as order:
        model = build_model(space, space.from_string(ARCH), stream.dataset.input_shape, stream.num_classes)
        learner = StreamLearner(model, stream, "pst", StreamSettings(epochs=4, edge_epochs=3), order)
        learner.learn(0)
    return learner


def test_division_parsing_and_errors(stream):
    assert parse_division("5,1,1,1,1,1") == (5, 1, 1, 1, 1, 1) == parse_division([5, 1, 1, 1, 1, 1])
    for bad in ("5,0,1", "a,b", "", [-1]):
        with pytest.raises(ConfigError, match="task division"):
            parse_division(bad)
    with pytest.raises(ConfigError, match="needs 11 classes"):
        ClassStream(stream.dataset, "5,6", seed=0)


def test_stream_relabels_a_seeded_class_order(stream):
    data = stream.dataset
    assert sorted(stream.class_order) == list(range(10))
    assert ClassStream(data, "5,1,1,1,1,1", seed=0).class_order == stream.class_order
    assert ClassStream(data, "5,1,1,1,1,1", seed=1).class_order != stream.class_order
    start = 0
    for task, size in zip(stream.tasks, stream.division):
        assert task.classes == tuple(range(start, start + size))
        for split in ("train", "valid", "test"):
            assert set(np.unique(task.y[split])) == set(task.classes)
            original = [stream.class_order[label] for label in task.y[split]]
            # the same examples, relabelled: compare with the dataset filtered by original class
            keep = np.isin(getattr(data, f"y_{split}"), task.original)
            assert np.array_equal(getattr(data, f"y_{split}")[keep], np.array(original))
            assert np.array_equal(getattr(data, f"x_{split}")[keep], task.x[split])
        start += size
    x, y = stream.seen(2, "valid")
    assert set(np.unique(y)) == set(range(7)) and len(x) == len(y)


def test_memory_is_a_fixed_number_per_old_class(stream):
    x, y = stream.memory(0, 20)
    assert len(y) == 0 and x.shape[1:] == stream.dataset.input_shape
    x, y = stream.memory(3, 20)
    assert sorted(np.unique(y)) == list(range(7)) and np.all(np.bincount(y) == 20)
    bx, by = stream.balanced(3, 20)
    assert np.all(np.bincount(by) == 20) and len(by) == 8 * 20
    assert np.array_equal(bx[: len(x)], x)  # the memory, then the capped current task


def test_noisy_accuracy_restores_weights_and_degrades_with_alpha(trained, stream):
    model = trained.model
    head = SeenClasses(5)
    valid = to_split(stream.tasks[0].x["valid"], stream.tasks[0].y["valid"], "cpu")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    clean = score(model, valid)[1]
    tiny = noisy_accuracy(model, valid, alpha=1e-4, draws=2, seed=0)
    big = noisy_accuracy(model, valid, alpha=2.0, draws=3, seed=0)
    assert tiny == pytest.approx(clean, abs=1.0)
    assert big < clean - 10
    assert noisy_accuracy(model, valid, alpha=2.0, draws=3, seed=0) == big  # seeded
    assert noisy_accuracy(model, valid, alpha=2.0, draws=3, seed=1) != big
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert head.n == 5


def test_roughness_is_a_seeded_quadratic_fit_residual(trained, stream):
    model = trained.model
    valid = to_split(stream.tasks[0].x["valid"], stream.tasks[0].y["valid"], "cpu")
    before = [p.detach().clone() for p in model.parameters()]
    r = roughness(model, valid, points=5, span=1.0, seed=0)
    assert np.isfinite(r) and r >= 0
    assert roughness(model, valid, points=5, span=1.0, seed=0) == r
    # a smaller neighbourhood is closer to quadratic: less residual
    assert roughness(model, valid, points=5, span=0.05, seed=0) < r
    for p, q in zip(model.parameters(), before):
        assert torch.equal(p, q)
    assert stability_fitness(0.9, 0.8) == pytest.approx(0.81 / 0.10001)
    assert stability_fitness(0.9, 0.9, cap=100.0) == 100.0


def test_pst_freezes_every_layer_type_and_keeps_frozen_values(stream):
    space = ChainSpace()
    with torch_threads(1), seeded_torch(0) as order:
        model = build_model(space, space.from_string(ARCH), stream.dataset.input_shape, stream.num_classes)
        learner = StreamLearner(model, stream, "pst", StreamSettings(epochs=3, edge_epochs=3), order)
        learner.learn(0)
        frozen = learner.frozen
        layers = unit_layers(model)
        # every conv / BN / linear layer, stem and classifier included, has frozen units (5/10 share)
        assert set(frozen.units) == set(layers) and "classifier" in layers and "features.0.0" in layers
        for name, units in frozen.units.items():
            assert int(units.sum()) == round(0.5 * units.numel()), name
        snapshot = {k: v.clone() for k, v in model.state_dict().items()}
        masks = {name: units.clone() for name, units in frozen.units.items()}
        learner.learn(1)
        assert frozen.check() == 0.0
        changed = 0
        for name, module in layers.items():
            w, w0 = module.weight.detach(), snapshot[f"{name}.weight"]
            old = masks[name]
            assert torch.equal(w[old], w0[old])
            changed += int((w[~old] != w0[~old]).any())
        assert changed == len(layers)  # the free units did learn
        # the second ranking skips frozen units by score: nothing frozen is zeroed or unfrozen
        assert int(frozen.units["classifier"].sum()) == round(0.5 * 10) + round(0.1 * 10)
        for name, module in layers.items():
            assert module.weight.detach()[frozen.units[name]].abs().sum() > 0


def test_gradient_scores_need_a_fresh_backward(trained, stream):
    model = trained.model
    units = FrozenUnits(model)
    model.zero_grad(set_to_none=True)
    with pytest.raises(ValueError, match="needs gradients"):
        units.freeze_top(0.3, "grad_w")
    train = to_split(stream.tasks[0].x["train"], stream.tasks[0].y["train"], "cpu")
    accumulate_gradients(model, train, SeenClasses(5))
    assert units.freeze_top(0.3, "abs_grad") > 0
    model.zero_grad(set_to_none=True)


def test_al_selects_the_most_or_least_robust_candidate():
    from nasforge.training.continual.al import select

    scores = [{"noise_drop": 5.0, "roughness": 0.1}, {"noise_drop": 1.0, "roughness": 0.3},
              {"noise_drop": 1.0, "roughness": 0.2}]
    assert select(scores) == 1  # smallest drop, ties to the earlier candidate
    assert select(scores, most_robust=False) == 0
    assert select(scores, "roughness") == 0
    with pytest.raises(ValueError, match="criterion"):
        select(scores, "sharpness")
