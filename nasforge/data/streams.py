"""Class-incremental task streams built from any classification :class:`Dataset`.

A stream splits the classes into tasks (``division`` = classes per task, e.g. ``5,1,1,1,1,1``)
in a seeded order and relabels them consecutively (task 0 gets labels ``0..d0-1``, task 1 the
next ``d1``, ...), so one single-head classifier with ``sum(division)`` outputs serves the whole
stream and "the classes seen so far" is always the label range ``0..seen-1``. Every task keeps
its own train / valid / test examples (the dataset's fixed splits, filtered by class), so model
selection uses validation examples of the tasks seen, never test. The replay memory is a fixed
number of examples per class (the first ones of the seeded order, as PST's code takes them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import ConfigError
from .dataset import Dataset

SPLITS = ("train", "valid", "test")


def parse_division(value: str | Sequence[int]) -> tuple[int, ...]:
    """``"5,1,1,1,1,1"`` or ``[5, 1, 1, 1, 1, 1]`` -> ``(5, 1, 1, 1, 1, 1)``; ConfigError otherwise."""
    items = value.split(",") if isinstance(value, str) else value
    try:
        out = tuple(int(str(v).strip()) for v in items)
    except (TypeError, ValueError):
        out = ()
    if len(out) < 1 or any(v < 1 for v in out):
        raise ConfigError(
            f"task division must list positive class counts per task like '5,1,1,1,1,1', got {value!r}"
        )
    return out


@dataclass(frozen=True)
class TaskData:
    """One task's examples with stream labels (already relabelled)."""

    index: int
    classes: tuple[int, ...]  # stream labels of this task
    original: tuple[int, ...]  # the dataset's labels of the same classes
    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]


class ClassStream:
    """The tasks of a class-incremental stream over ``dataset``; see the module docstring."""

    def __init__(self, dataset: Dataset, division: str | Sequence[int], seed: int = 0) -> None:
        self.division = parse_division(division)
        total = sum(self.division)
        if total > dataset.num_classes:
            raise ConfigError(
                f"task division {','.join(map(str, self.division))} needs {total} classes but "
                f"dataset {dataset.name!r} has {dataset.num_classes}"
            )
        self.dataset = dataset
        self.seed = int(seed)
        order = np.random.default_rng(self.seed).permutation(dataset.num_classes)[:total]
        self.class_order = tuple(int(c) for c in order)
        lookup = np.full(dataset.num_classes, -1, dtype=np.int64)
        lookup[order] = np.arange(total)
        self.tasks: list[TaskData] = []
        start = 0
        for t, size in enumerate(self.division):
            labels = tuple(range(start, start + size))
            xs, ys = {}, {}
            for split in SPLITS:
                x, y = getattr(dataset, f"x_{split}"), lookup[getattr(dataset, f"y_{split}")]
                keep = (y >= start) & (y < start + size)
                xs[split], ys[split] = x[keep], y[keep]
                if not keep.any():
                    raise ConfigError(
                        f"task {t} (classes {list(self.class_order[start:start + size])}) has no "
                        f"{split} examples in dataset {dataset.name!r}"
                    )
            self.tasks.append(TaskData(t, labels, self.class_order[start:start + size], xs, ys))
            start += size

    @property
    def num_classes(self) -> int:
        return sum(self.division)

    def __len__(self) -> int:
        return len(self.tasks)

    def seen_classes(self, t: int) -> int:
        """Number of classes in tasks ``0..t`` (= the label range a single head scores over)."""
        return sum(self.division[: t + 1])

    def seen(self, t: int, split: str) -> tuple[np.ndarray, np.ndarray]:
        """All ``split`` examples of tasks ``0..t`` (single-head evaluation after task t)."""
        return _cat([(task.x[split], task.y[split]) for task in self.tasks[: t + 1]])

    def memory(self, t: int, per_class: int) -> tuple[np.ndarray, np.ndarray]:
        """The replay memory available while learning task ``t``: ``per_class`` train examples of
        every class of tasks ``0..t-1`` (empty for task 0)."""
        return _cat([_per_class(task, "train", per_class) for task in self.tasks[:t]],
                    like=self.tasks[0])

    def balanced(self, t: int, per_class: int) -> tuple[np.ndarray, np.ndarray]:
        """PST's memory-assisted set for task ``t``: the memory plus the current task capped at
        the same ``per_class`` count, so every seen class has equal weight."""
        return _cat([_per_class(task, "train", per_class) for task in self.tasks[: t + 1]])

    def describe(self) -> dict:
        return {"division": ",".join(map(str, self.division)), "class_order": list(self.class_order),
                "stream_seed": self.seed}


def _per_class(task: TaskData, split: str, per_class: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = task.x[split], task.y[split]
    keep = np.zeros(len(y), dtype=bool)
    for label in task.classes:
        keep[np.flatnonzero(y == label)[:per_class]] = True
    return x[keep], y[keep]


def _cat(parts: list[tuple[np.ndarray, np.ndarray]], like: TaskData | None = None) -> tuple[np.ndarray, np.ndarray]:
    if not parts:
        assert like is not None
        x = like.x["train"]
        return x[:0], like.y["train"][:0]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
