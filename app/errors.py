"""Errors whose message is written for the person at the keyboard, in one line."""

from __future__ import annotations

from models.errors import DatabaseError


class UserError(Exception):
    """Bad input or a state the user can fix; shown as is, never as a traceback."""


class ConflictError(UserError):
    """Someone else saved the record since it was loaded (optimistic locking)."""


class KeyReusedError(UserError):
    """A retry carried the key of an earlier save but different content.

    The first save went through (its reply was lost); saving the new content under
    the same key would either drop it or duplicate the first, so it is refused and
    the client makes a new key.
    """


# SQLite's messages for a query it could not parse (FTS5 MATCH syntax included).
_QUERY_SYNTAX = ("syntax error", "fts5:", "unterminated string")


def is_connection_error(exc: BaseException) -> bool:
    """True when the database went away (as opposed to a bad query or a lock wait)."""
    # Imported here, not at the top: the first window imports this module and
    # paints before SQLAlchemy is loaded (see "Start-up" in docs/architecture.md).
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(exc, DatabaseError):
        return (
            exc.kind == "unreachable" or "unreachable" in str(exc) or "cannot connect" in str(exc)
        )
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        if not isinstance(exc, OperationalError):
            return False
        message = str(exc.orig).lower()
        # SQLite reports a lock wait and a full-text query it cannot parse as
        # OperationalError too; neither means the database went away.
        return "locked" not in message and not any(s in message for s in _QUERY_SYNTAX)
    return isinstance(exc, ConnectionError)


__all__ = [
    "ConflictError",
    "DatabaseError",
    "KeyReusedError",
    "UserError",
    "is_connection_error",
]
