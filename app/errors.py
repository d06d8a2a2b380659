"""Errors whose message is written for the person at the keyboard, in one line."""

from __future__ import annotations

from models.database import DatabaseError


class UserError(Exception):
    """Bad input or a state the user can fix; shown as is, never as a traceback."""


class ConflictError(UserError):
    """Someone else saved the record since it was loaded (optimistic locking)."""


__all__ = ["ConflictError", "DatabaseError", "UserError"]
