"""`nasforge dashboard`: a read-only web view of the studies in one SQLite file, live while they run."""

from .app import create_app

__all__ = ["create_app"]
