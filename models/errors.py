"""The database error shown to people; kept apart from `database.py` so the UI can
name it before SQLAlchemy is imported (the first window paints without it)."""

from __future__ import annotations


class DatabaseError(Exception):
    """A database problem with a message meant for a person, in one line.

    `kind` lets callers react without parsing the message: "auth" (wrong user or
    password, or none stored), "unreachable" (also a connection lost mid-call),
    "tls", "no_database", "schema" (missing or another version), "file" (SQLite),
    "busy" (SQLite: another writer held the lock too long), "other".
    """

    def __init__(self, message: str, kind: str = "other") -> None:
        super().__init__(message)
        self.kind = kind
