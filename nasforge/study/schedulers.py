"""Early stopping over fidelities: the median stopping rule and ASHA.

A scheduler decides *how far* a trial runs, never *which* architecture (that is the strategy's job;
syne-tune separates the two the same way). A trial starts at the lowest rung; each time it reports a
result at a rung, the scheduler answers: run on at the next fidelity, stop here (the study records
the trial PRUNED with the fidelity reached), or complete (the top rung was reached).

The study loop calls it like this (one new trial = ``first_fidelity()``; every successful outcome
goes through ``report``)::

    task = Task(number, arch, scheduler.first_fidelity(), seed)
    ...
    decision = scheduler.report(number, fidelity, objective.sign * value)   # larger is better
    if decision.action == CONTINUE:   resubmit Task(number, arch, decision.fidelity, seed)
    elif decision.action == STOP:     record PRUNED at `fidelity`
    else:                             record COMPLETE

Running on means evaluating again at the higher fidelity: free for tabular benchmarks, and for the
trainer a continuation from the checkpoint it saved in the trial's folder (no retraining).

``mode="prune"`` is the other way round, as Optuna's pruners work: every trial is submitted at the
top fidelity, reports at each step through its TrialContext, and stops itself when a report at a
rung falls below the bar in the :class:`PruneRule` the scheduler gave it at submission.
Both rules are asynchronous: a decision uses only the results recorded so far, never waits for a
rung to fill up, so free workers are never idle.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import ConfigError
from ..options import Choice, Component, Int, Seq, validated
from ..validation import is_integer
from .context import PruneRule

MODES = ("promote", "prune")
CONTINUE = "continue"
STOP = "stop"
COMPLETE = "complete"


@dataclass(frozen=True)
class Decision:
    """``action`` is CONTINUE (then ``fidelity`` is the next budget), STOP or COMPLETE."""

    action: str
    fidelity: int | None = None


class Scheduler(Component, ABC):
    """Base class: rung fidelities in increasing order plus a rule for stopping at a rung."""

    kind = "scheduler"
    name = "scheduler"
    options = {"fidelities": Seq(Int(low=1), min_len=1), "mode": Choice(*MODES)}

    @validated
    def __init__(self, fidelities: Sequence[int], mode: str = "promote") -> None:
        owner = type(self).__name__
        self.mode = mode
        values = list(fidelities)
        if any(b <= a for a, b in zip(values, values[1:])):
            raise ConfigError(
                f"parameter fidelities of {owner} must be a non-empty increasing list of positive "
                f"integers, got {fidelities!r}"
            )
        self.fidelities = [int(f) for f in values]
        # rung fidelity -> {trial number: score}; larger scores are better
        self.recorded: dict[int, dict[int, float]] = {f: {} for f in self.fidelities}

    def first_fidelity(self) -> int:
        return self.fidelities[0] if self.mode == "promote" else self.fidelities[-1]

    def prune_rule(self, metric: str, sign: float) -> PruneRule | None:
        """The bars a new trial's reports must clear (``mode="prune"``), from the scores so far."""
        if self.mode != "prune":
            return None
        bars = {}
        for rung, fidelity in enumerate(self.fidelities[:-1]):
            bar = self._bar(sorted(self.recorded[fidelity].values(), reverse=True), rung)
            if bar is not None:
                bars[fidelity] = bar
        return PruneRule(metric, sign, bars)

    def observe(self, number: int, reports: Sequence[tuple[int, dict]], metric: str, sign: float) -> None:
        """Record a finished trial's reports at rung steps (``mode="prune"``)."""
        for step, metrics in reports:
            if step in self.recorded and metric in metrics:
                try:
                    score = sign * float(metrics[metric])
                except (TypeError, ValueError):
                    continue
                self.recorded[step][number] = score if math.isfinite(score) else -math.inf

    def report(self, number: int, fidelity: int, score: float) -> Decision:
        """Record ``score`` (larger is better) of trial ``number`` at ``fidelity``; decide."""
        if fidelity not in self.recorded:
            raise ConfigError(
                f"fidelity {fidelity!r} is not a rung of {type(self).__name__}; "
                f"rungs: {self.fidelities}"
            )
        score = float(score)
        if not math.isfinite(score):
            score = -math.inf
        rung = self.fidelities.index(fidelity)
        others = [s for n, s in self.recorded[fidelity].items() if n != number]
        self.recorded[fidelity][number] = score
        if rung == len(self.fidelities) - 1:
            return Decision(COMPLETE, fidelity)
        if self._stop(score, others, rung):
            return Decision(STOP, fidelity)
        return Decision(CONTINUE, self.fidelities[rung + 1])

    @abstractmethod
    def _stop(self, score: float, others: list[float], rung: int) -> bool:
        """Whether a trial scoring ``score`` at ``rung`` stops, given the other trials' scores."""

    @abstractmethod
    def _bar(self, others_desc: list[float], rung: int) -> float | None:
        """The lowest score that does not stop, given the others' scores (best first); None when
        nothing stops yet. Must agree with :meth:`_stop`."""

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable record of the scores seen (keys become strings in JSON)."""
        recorded = self.recorded.items()
        return {"recorded": {str(f): {str(n): s for n, s in rung.items()} for f, rung in recorded}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.recorded = {f: {} for f in self.fidelities}
        for f, rung in state["recorded"].items():
            self.recorded[int(f)] = {int(n): float(s) for n, s in rung.items()}

    def restore(self, trials: Sequence[Any], sign: float = 1.0) -> None:
        """Refill the rungs from finished trial records when a study resumes.

        Each PRUNED or COMPLETE trial gives its first objective value (times ``sign``) at the
        fidelity it reached; values at lower rungs of trials that ran on were not stored, so the
        restored record is a close approximation, not an exact copy.
        """
        for trial in trials:
            state = getattr(trial.state, "value", trial.state)
            if state in ("PRUNED", "COMPLETE") and trial.values and trial.fidelity in self.recorded:
                self.recorded[trial.fidelity][trial.number] = sign * float(trial.values[0])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(fidelities={self.fidelities})"


class MedianStopping(Scheduler):
    """Stop a trial whose score at a rung is below the median of earlier trials at that rung.

    The median stopping rule of Google Vizier (Golovin et al., 2017) on rung results, like Optuna's
    MedianPruner: no decision before ``min_trials`` other trials reported at the rung.
    """

    name = "median"
    options = {"min_trials": Int(low=1)}

    @validated
    def __init__(self, fidelities: Sequence[int], min_trials: int = 3, mode: str = "promote") -> None:
        super().__init__(fidelities, mode)
        self.min_trials = min_trials

    def _stop(self, score: float, others: list[float], rung: int) -> bool:
        if len(others) < self.min_trials:
            return False
        return score < float(np.median(others))

    def _bar(self, others_desc: list[float], rung: int) -> float | None:
        if len(others_desc) < self.min_trials:
            return None
        return float(np.median(others_desc))


class ASHA(Scheduler):
    """Asynchronous successive halving (Li et al., 2020), stopping variant.

    At each rung below the top, a trial runs on only if it is in the top ``1/eta`` of all scores
    recorded at that rung so far (itself included); the first trial at a rung always runs on.
    Rungs are ``fidelities`` if given, else ``min_fidelity * eta**k`` up to ``max_fidelity``.
    """

    name = "asha"
    options = {
        "fidelities": Seq(Int(low=1), min_len=1, none=True),
        "eta": Int(low=2),
        "min_fidelity": Int(low=1, none=True),
        "max_fidelity": Int(low=1, none=True),
    }

    @validated
    def __init__(
        self,
        fidelities: Sequence[int] | None = None,
        eta: int = 3,
        min_fidelity: int | None = None,
        max_fidelity: int | None = None,
        mode: str = "promote",
    ) -> None:
        if fidelities is None:
            fidelities = geometric_rungs(min_fidelity, max_fidelity, eta)
        elif min_fidelity is not None or max_fidelity is not None:
            raise ConfigError("ASHA takes either fidelities or min_fidelity/max_fidelity, not both")
        super().__init__(fidelities, mode)
        self.eta = eta

    def _stop(self, score: float, others: list[float], rung: int) -> bool:
        better = sum(1 for s in others if s > score)
        return better * self.eta >= len(others) + 1

    def _bar(self, others_desc: list[float], rung: int) -> float | None:
        # going on needs fewer than (n + 1) / eta others strictly better: at least the k-th best
        n = len(others_desc)
        allowed = -(-(n + 1) // self.eta) - 1  # ceil((n + 1) / eta) - 1 others may be better
        return others_desc[allowed] if allowed < n else None


def geometric_rungs(min_fidelity: int | None, max_fidelity: int | None, eta: int) -> list[int]:
    """``min * eta**k`` below ``max``, then ``max`` itself: 1, 3, 9, 27 for (1, 27, 3)."""
    for name, value in (("min_fidelity", min_fidelity), ("max_fidelity", max_fidelity)):
        if not _is_positive_int(value):
            raise ConfigError(f"parameter {name} of ASHA must be a positive integer, got {value!r}")
    assert min_fidelity is not None and max_fidelity is not None
    if max_fidelity <= min_fidelity:
        raise ConfigError(
            f"parameter max_fidelity of ASHA must exceed min_fidelity ({min_fidelity}), "
            f"got {max_fidelity}"
        )
    rungs = [min_fidelity]
    while rungs[-1] * eta < max_fidelity:
        rungs.append(rungs[-1] * eta)
    return rungs + [max_fidelity]


def make_scheduler(name: str, evaluator: Any = None, **options: Any) -> Scheduler:
    """Build a scheduler by its config name ('median' or 'asha').

    Without ``fidelities`` (or ASHA's ``min_fidelity``/``max_fidelity``) the rungs are the
    evaluator's own fidelities, e.g. 12 and 200 epochs for the NB201 tables.
    """
    from .. import registry

    cls = registry.resolve("scheduler", name)  # 'median', 'asha', a plugin or 'module:Class'
    if not {"fidelities", "min_fidelity", "max_fidelity"} & set(options):
        rungs = evaluator.fidelities() if evaluator is not None else None
        if not rungs or len(rungs) < 2:
            raise ConfigError(
                f"scheduler {name!r} needs rungs: give scheduler option fidelities "
                "(e.g. [1, 3, 9]) or, for asha, min_fidelity and max_fidelity"
            )
        options["fidelities"] = sorted(int(f) for f in rungs)
    try:
        return cls(**options)
    except TypeError as exc:
        raise ConfigError(f"scheduler {name!r}: {exc}") from None


def _is_positive_int(value: object) -> bool:
    return is_integer(value) and value >= 1  # type: ignore[operator]
