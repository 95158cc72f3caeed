"""Studies: the loop, executors, and creating/loading them (imports stay light)."""

from .api import create_study, create_study_from_config, delete_study, load_study
from .executors import Executor, Outcome, SerialExecutor, Task
from .study import Study

__all__ = [
    "Executor",
    "Outcome",
    "SerialExecutor",
    "Study",
    "Task",
    "create_study",
    "create_study_from_config",
    "delete_study",
    "load_study",
]
