"""NAS-Bench-201 by table look-up: accuracies, hardware costs and exact params / FLOPs.

Which table column feeds which metric (``<dataset>/<epochs>/<split>`` in nb201_accuracy.csv.gz):

=================  =============================  =======================  ==========================
dataset            valid_accuracy                 test_accuracy            train_accuracy
=================  =============================  =======================  ==========================
cifar10            cifar10-valid/F/valid          cifar10/F/test           (none: not in the table)
cifar10-valid      cifar10-valid/F/valid          cifar10-valid/200/test   cifar10-valid/200/train
cifar100           cifar100/F/valid               cifar100/F/test          cifar100/200/train
ImageNet16-120     ImageNet16-120/F/valid         ImageNet16-120/F/test    ImageNet16-120/200/train
=================  =============================  =======================  ==========================

``F`` is the fidelity (epochs: 12 or 200); a metric whose column does not exist at that fidelity
(train at 12, cifar10-valid test at 12) is absent, never filled from another column. ``cifar10`` is
the usual protocol: search on the validation split of the 25k/25k run, report the test accuracy of
the network trained on all 50k images.

Hardware metrics come from nb201_hardware.csv.gz for the same dataset (``cifar10-valid`` uses the
``cifar10`` columns: the same network on the same input size); a missing cell (some edgetpu values)
omits that key. ``params`` (M) and ``flops`` (MFLOPs) are computed analytically for every cell
(:func:`nb201_params`, :func:`nb201_flops`) because the zero-cost table only covers 9,445 cells; the
tests check both against that table. ``nb201_index`` (the official index) is returned too, so
stored trials can be joined with other NB201 tables. Table values are means over training seeds,
so ``seed`` is ignored.

For benchmarks, :meth:`NB201Tabular.column` gives any metric for all 15,625 cells as one array
by index, and :meth:`NB201Tabular.oracle` the best-by-validation architecture.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from ..architecture import Architecture
from ..errors import ConfigError, DataError, TrialPruned
from ..options import Bool, Choice, validated
from ..paths import data_file
from ..spaces.nb201 import NUM_ARCHS, OPS, NB201Space
from .base import Evaluator
from .tables import Table, benchmark_space, load_indexed_csv

DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
FIDELITIES = (12, 200)
ACCURACY_FILE = "nb201/nb201_accuracy.csv.gz"
HARDWARE_FILE = "nb201/nb201_hardware.csv.gz"
HARDWARE_METRICS = (
    "edgegpu_latency",
    "edgegpu_energy",
    "raspi4_latency",
    "edgetpu_latency",
    "pixel3_latency",
    "eyeriss_latency",
    "eyeriss_energy",
    "eyeriss_arithmetic_intensity",
    "fpga_latency",
    "fpga_energy",
)
NUM_CLASSES = {"cifar10-valid": 10, "cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
INPUT_SIZE = {"cifar10-valid": 32, "cifar10": 32, "cifar100": 32, "ImageNet16-120": 16}
_HARDWARE_DATASET = {"cifar10-valid": "cifar10"}


def accuracy_columns(dataset: str, fidelity: int) -> dict[str, str]:
    """Metric name -> accuracy-table column for ``dataset`` at ``fidelity`` (see module doc)."""
    _check_choice("dataset", dataset, DATASETS)
    _check_choice("fidelity", fidelity, FIDELITIES)
    f = fidelity
    if dataset == "cifar10":
        return {"valid_accuracy": f"cifar10-valid/{f}/valid", "test_accuracy": f"cifar10/{f}/test"}
    columns = {"valid_accuracy": f"{dataset}/{f}/valid"}
    if dataset != "cifar10-valid" or f == 200:
        columns["test_accuracy"] = f"{dataset}/{f}/test"
    if f == 200:
        columns["train_accuracy"] = f"{dataset}/200/train"
    return columns


# --- exact cost model of the NB201 network (C=16, N=5 cells per stage, 3 stages) ------------------

_STAGE_CHANNELS = (16, 32, 64)
_CELLS_PER_STAGE = 5


def nb201_params(ops: Sequence[str], num_classes: int) -> float:
    """Trainable parameters in millions (matches the zero-cost table's ``params`` exactly).

    Cell convs are ReLU-Conv-BN (affine BN, no conv bias); pooling and skips have none. The fixed
    part is the 3x3 stem + BN, two ResNet reduction blocks (two 3x3 ReLU-Conv-BN and a 1x1
    shortcut), the final BN and the linear classifier.
    """
    return (_base_params(num_classes) + sum(_op_params(op) for op in ops)) / 1e6


def _base_params(num_classes: int) -> int:
    total = 9 * 3 * 16 + 2 * 16
    for c_in, c_out in zip(_STAGE_CHANNELS, _STAGE_CHANNELS[1:]):
        total += 9 * c_in * c_out + 2 * c_out + 9 * c_out * c_out + 2 * c_out + c_in * c_out
    return total + 2 * 64 + 64 * num_classes + num_classes


def _op_params(op: str) -> int:
    k = _kernel(op)
    return sum(_CELLS_PER_STAGE * (k * k * c * c + 2 * c) for c in _STAGE_CHANNELS) if k else 0


# Fixed (non-cell) MFLOPs measured in the zero-cost table: stem, reductions and head. Cell ops are
# counted by formula below; the cifar100 head adds 90 classes x 64 multiply-adds to cifar10's
# (an assumption: the zero-cost table has no cifar100 rows to check it against).
_BASE_MFLOPS = {32: {10: 7.943872, 100: 7.943872 + 90 * 64 / 1e6}, 16: {120: 1.993792}}


def nb201_flops(ops: Sequence[str], dataset: str) -> float:
    """MFLOPs as in the zero-cost table (exact for cifar10 and ImageNet16-120 there).

    Per cell op on a C x H x W map: conv k x k counts k*k*C*C*H*W multiply-adds plus 3*C*H*W for
    ReLU and BN; a 3x3 average pool counts 9*C*H*W; skip and none are free.
    """
    _check_choice("dataset", dataset, DATASETS)
    size = INPUT_SIZE[dataset]
    base = _BASE_MFLOPS[size][NUM_CLASSES[dataset]] * 1e6
    return (base + sum(_op_flops(op, size) for op in ops)) / 1e6


def _op_flops(op: str, size: int) -> int:
    total = 0
    for stage, c in enumerate(_STAGE_CHANNELS):
        hw = (size >> stage) ** 2
        k = _kernel(op)
        if k:
            total += k * k * c * c * hw + 3 * c * hw
        elif op == "avg_pool_3x3":
            total += 9 * c * hw
    return _CELLS_PER_STAGE * total


def _kernel(op: str) -> int:
    return {"nor_conv_1x1": 1, "nor_conv_3x3": 3}.get(op, 0)


# --- the evaluator -----------------------------------------------------------------------------------


class NB201Tabular(Evaluator):
    """Look up NB201 results; picklable (keeps paths only; tables are cached per process)."""

    name = "nb201"
    space_name = "nb201"
    options = {"dataset": Choice(*DATASETS, none=True), "hardware": Bool()}

    @validated
    def __init__(
        self,
        space: NB201Space | None = None,
        dataset: str | None = "cifar10",
        data_dir: str | None = None,
        hardware: bool = True,
        **options: Any,
    ) -> None:
        if options:
            raise ConfigError(
                f"unknown option(s) {', '.join(sorted(options))} for evaluator nb201; allowed: hardware"
            )
        self.space = benchmark_space(space, NB201Space, self.name)
        dataset = "cifar10" if dataset is None else dataset
        self.dataset = dataset
        self.hardware = hardware
        self.data_dir = None if data_dir is None else str(data_dir)
        # resolve paths now so a wrong data folder fails at configuration time, not mid-study
        self._accuracy_path = str(data_file(ACCURACY_FILE, self.data_dir))
        self._hardware_path = str(data_file(HARDWARE_FILE, self.data_dir)) if hardware else None

    # --- Evaluator interface -------------------------------------------------------------------

    def fidelities(self) -> Sequence[int]:
        return FIDELITIES

    def default_fidelity(self) -> int:
        return 200

    def metrics(self, fidelity: int | None = None) -> Sequence[str]:
        names = list(accuracy_columns(self.dataset, fidelity or 200)) + ["params_m", "flops_m"]
        if self.hardware:
            names += list(HARDWARE_METRICS)
        return names

    def evaluate(
        self, arch: Architecture, fidelity: int | None = None, seed: int = 0, context: Any = None
    ) -> dict[str, Any]:
        self.space.validate(arch)
        fidelity = self._fidelity(fidelity)
        index = self.space.index(arch)
        accuracy = self._table("accuracy")
        if context is not None:  # the learning curve the table holds: every fidelity up to this one
            for step in (f for f in FIDELITIES if f <= fidelity):
                reached = self._accuracies(accuracy, index, step)
                context.report(step, reached)
                if context.should_prune():
                    raise TrialPruned(f"pruned at {step} epochs", metrics=reached)
        metrics: dict[str, Any] = self._accuracies(accuracy, index, fidelity)
        ops = self.space.ops(arch)
        metrics["params_m"] = nb201_params(ops, NUM_CLASSES[self.dataset])
        metrics["flops_m"] = nb201_flops(ops, self.dataset)
        if self.hardware:
            hardware = self._table("hardware")
            prefix = _HARDWARE_DATASET.get(self.dataset, self.dataset)
            for metric in HARDWARE_METRICS:
                value = float(hardware.column(f"{prefix}/{metric}")[index])
                if value == value:
                    metrics[metric] = value
        metrics["nb201_index"] = index
        return metrics

    def _accuracies(self, accuracy: Any, index: int, fidelity: int) -> dict[str, float]:
        out = {}
        for metric, column in accuracy_columns(self.dataset, fidelity).items():
            value = float(accuracy.column(column)[index])
            if value == value:  # NaN: missing cell
                out[metric] = value
        return out

    def prepare(self) -> None:
        """Load (and check) the tables now, so a malformed file fails before the study starts."""
        self._table("accuracy")
        if self.hardware:
            self._table("hardware")

    def describe(self) -> dict[str, Any]:
        return {
            "evaluator": self.name,
            "dataset": self.dataset,
            "tables": [p for p in (self._accuracy_path, self._hardware_path) if p],
            "columns@200": accuracy_columns(self.dataset, 200),
            "note": "table means over training seeds; the trial seed is ignored",
        }

    # --- fast access for benchmarks and oracles --------------------------------------------------

    def column(self, metric: str, fidelity: int | None = None) -> np.ndarray:
        """``metric`` for every architecture, by NB201 index (read-only array)."""
        fidelity = self._fidelity(fidelity)
        columns = accuracy_columns(self.dataset, fidelity)
        if metric in columns:
            return self._table("accuracy").column(columns[metric])
        if metric in HARDWARE_METRICS and self.hardware:
            prefix = _HARDWARE_DATASET.get(self.dataset, self.dataset)
            return self._table("hardware").column(f"{prefix}/{metric}")
        if metric in ("params_m", "flops_m"):
            return _cost_column(metric, self.dataset)
        raise DataError(
            f"nb201 {self.dataset} at fidelity {fidelity} has no metric {metric!r}; "
            f"it has: {', '.join(self.metrics(fidelity))}"
        )

    def oracle(self, select: str = "valid_accuracy", report: str = "test_accuracy", fidelity: int | None = None) -> tuple[int, float]:
        """(index, ``report`` value) of the architecture with the best ``select`` (ties: lowest index)."""
        index = int(np.nanargmax(self.column(select, fidelity)))
        return index, float(self.column(report, fidelity)[index])

    # --- helpers ---------------------------------------------------------------------------------------

    def _fidelity(self, fidelity: int | None) -> int:
        if fidelity is None:
            return 200
        if fidelity not in FIDELITIES:
            raise DataError(
                f"nb201 has no fidelity {fidelity!r} (epochs); the table has: {', '.join(map(str, FIDELITIES))}"
            )
        return int(fidelity)

    def _table(self, which: str) -> Table:
        path = self._accuracy_path if which == "accuracy" else self._hardware_path
        table = load_indexed_csv(path, text_columns=("arch", "isomorphism_key", "dataset"))
        if len(table) != NUM_ARCHS:
            raise DataError(f"table {path!r} has {len(table)} rows, expected {NUM_ARCHS}")
        _check_official_order(table)
        return table

    def __repr__(self) -> str:
        return f"NB201Tabular(dataset={self.dataset!r})"


@lru_cache(maxsize=None)
def _cost_column(metric: str, dataset: str) -> np.ndarray:
    """Analytic params / flops of every architecture by index (op counts times per-op cost)."""
    genes = np.asarray([NB201Space().from_index(i).genes for i in range(NUM_ARCHS)])
    counts = np.stack([(genes == k).sum(axis=1) for k in range(len(OPS))], axis=1)
    if metric == "params_m":
        base, per_op = _base_params(NUM_CLASSES[dataset]), [_op_params(op) for op in OPS]
    else:
        size = INPUT_SIZE[dataset]
        base, per_op = _BASE_MFLOPS[size][NUM_CLASSES[dataset]] * 1e6, [_op_flops(op, size) for op in OPS]
    values = (base + counts @ np.asarray(per_op, dtype=float)) / 1e6
    values.setflags(write=False)
    return values


_VERIFIED: set[int] = set()


def _check_official_order(table: Table) -> None:
    """Once per table: its first rows' ``arch`` must follow the official index rule we compute."""
    if id(table) in _VERIFIED:
        return
    space = NB201Space()
    for row in table.head:
        index, arch = int(row["index"]), row.get("arch")
        if arch != space.from_index(index).string:
            raise DataError(
                f"table {str(table.path)!r}: row {index} is {arch!r}, not the official NB201 index order"
            )
    _VERIFIED.add(id(table))


def _check_choice(what: str, value: Any, allowed: Sequence[Any]) -> None:
    if isinstance(value, bool) or value not in allowed:
        raise ConfigError(
            f"parameter {what} of NB201Tabular must be one of {', '.join(map(str, allowed))}, got {value!r}"
        )

