"""Ablation studies (leave-one-component-out, as in the Maggy work), run as ordinary studies.

``ModelAblation`` removes named modules / module groups of a user's PyTorch model,
``FeatureAblation`` removes input features (table columns, image channels or rows / columns,
sequence channels or time windows); both become a Study with space ``ablation``, strategy ``loco``
and a trainer-based evaluator, and ``run()`` returns the :class:`AblationReport` table. Torch loads
only when an ablation is built or run.
"""

from .report import AblationReport, ComponentResult, ablation_report
from .space import AblationSpace
from .study import Ablation, FeatureAblation, ModelAblation

__all__ = [
    "Ablation",
    "AblationReport",
    "AblationSpace",
    "ComponentResult",
    "FeatureAblation",
    "ModelAblation",
    "ablation_report",
]
