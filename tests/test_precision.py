"""amp and channels_last, as far as a CPU machine can test them: bfloat16 autocast trains for real
and reproducibly, channels_last changes nothing but the layout, and both resume from checkpoints."""

from __future__ import annotations

import pytest
import torch

from nasforge.errors import ConfigError
from nasforge.evaluators.trainer import TrainerEvaluator
from nasforge.spaces.chain import ChainSpace
from nasforge.study.context import TrialContext
from nasforge.training.precision import Precision

SPACE = ChainSpace(max_nodes=3, filters=(8,), kernels=(3,), numeric_genes=False)


def _evaluator(**options):
    return TrainerEvaluator(SPACE, dataset="digits", epochs=5, max_train=600, batch_size=50,
                            latency_repeats=1, device="cpu", **options)  # fmt: skip


def test_precision_picks_the_dtype_and_scaler_of_the_device():
    cpu = Precision.for_device("cpu", amp=True, channels_last=False)
    assert cpu.dtype == torch.bfloat16 and cpu.scaler is None
    assert Precision.for_device("cpu", amp=False, channels_last=True).dtype is None
    x = torch.zeros(2, 3, 4, 4)
    assert Precision("cpu", channels_last=True).layout(x).is_contiguous(memory_format=torch.channels_last)


def test_amp_on_the_cpu_trains_with_bfloat16_reproducibly_and_resumes():
    arch = SPACE.from_string("conv_3_8>conv_3_8>max_pool")
    plain = _evaluator().evaluate(arch, 5, seed=1)
    amp = _evaluator(amp=True)
    first, again = amp.evaluate(arch, 5, seed=1), amp.evaluate(arch, 5, seed=1)
    assert first["valid_accuracy"] == again["valid_accuracy"] and first["valid_accuracy"] > 40
    assert abs(first["valid_accuracy"] - plain["valid_accuracy"]) < 15  # same training, coarser maths
    context = TrialContext(seed=1, checkpoint_dir=None)
    assert amp.evaluate(arch, 5, 1, context)["valid_accuracy"] == first["valid_accuracy"]


def test_channels_last_changes_only_the_layout(tmp_path):
    arch = SPACE.from_string("conv_3_8>max_pool>conv_3_8")
    plain = _evaluator().evaluate(arch, 2, seed=2)
    nhwc = _evaluator(channels_last=True).evaluate(arch, 2, seed=2)
    assert nhwc["valid_accuracy"] == pytest.approx(plain["valid_accuracy"], abs=1.0)
    context = TrialContext(seed=2, checkpoint_dir=tmp_path / "t")
    evaluator = _evaluator(channels_last=True)
    evaluator.evaluate(arch, 1, 2, context)
    assert evaluator.evaluate(arch, 2, 2, context)["resumed_from_epoch"] == 1


def test_bad_values_are_one_line_errors():
    with pytest.raises(ConfigError, match="parameter amp of TrainerEvaluator must be"):
        _evaluator(amp="yes")
