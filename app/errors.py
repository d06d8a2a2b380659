"""Errors whose message is written for the person at the keyboard, in one line."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

from models.database import DatabaseError


class UserError(Exception):
    """Bad input or a state the user can fix; shown as is, never as a traceback."""


class ConflictError(UserError):
    """Someone else saved the record since it was loaded (optimistic locking)."""


def is_connection_error(exc: BaseException) -> bool:
    """True when the database went away (as opposed to a bad query or a lock wait)."""
    if isinstance(exc, DatabaseError):
        return "unreachable" in str(exc) or "cannot connect" in str(exc)
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        return isinstance(exc, OperationalError) and "locked" not in str(exc.orig).lower()
    return isinstance(exc, ConnectionError)


__all__ = ["ConflictError", "DatabaseError", "UserError", "is_connection_error"]
