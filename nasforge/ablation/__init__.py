"""Ablation studies (leave-one-component-out, as in the Maggy thesis, without Spark).

``ModelAblation`` removes named modules / module groups of a user's PyTorch model,
``FeatureAblation`` removes input features of a tabular dataset; ``run(executor=...)`` sends every
trial through the usual executors and returns an :class:`AblationReport`. Torch loads only when an
ablation is built or run.
"""

from .report import AblationReport, ComponentResult
from .study import Ablation, FeatureAblation, ModelAblation, run_tasks

__all__ = [
    "Ablation",
    "AblationReport",
    "ComponentResult",
    "FeatureAblation",
    "ModelAblation",
    "run_tasks",
]
