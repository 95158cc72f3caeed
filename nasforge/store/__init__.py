"""Study storage: SQLite (a file, or ``":memory:"``)."""

from .sqlite import SQLiteStore, StudyRecord

__all__ = ["SQLiteStore", "StudyRecord"]
