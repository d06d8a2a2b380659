"""The database error shown to people; kept apart from `database.py` so the UI can
name it before SQLAlchemy is imported (the first window paints without it)."""

from __future__ import annotations


class DatabaseError(Exception):
    """A database problem with a message meant for a person, in one line."""
