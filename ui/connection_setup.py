"""Choosing the shared database from inside the app: at first run and from the File menu.

When the configured PostgreSQL database refuses the login (no password stored
yet, or a wrong one) the main window opens `ConnectionDialog`, prefilled from
the URL (typically the machine config the installer wrote). On Save the dialog
has put the password in the OS keyring; `remember_database` writes the URL,
without password, to the user's config file, and the window reconnects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from app.config import Settings, write_user_config
from app.errors import UserError
from models.database import DatabaseError
from ui.connection_dialog import ConnectionDialog

log = logging.getLogger(__name__)
# Sources that outrank the user file: a URL saved there is not used while they are set.
_OVERRIDING = {"command line": "--db", "environment": "RAPPORT_DB_URL", "--demo": "--demo"}


def is_postgres_url(url: str | None) -> bool:
    if not url:
        return False
    try:
        return make_url(url).get_backend_name() in ("postgresql", "postgres")
    except ArgumentError:
        return False


def asks_for_credentials(settings: Settings, exc: BaseException) -> bool:
    """Open the dialog by itself: a PostgreSQL login failed (no password stored, wrong one)."""
    return (
        isinstance(exc, DatabaseError)
        and exc.kind == "auth"
        and is_postgres_url(settings.values.get("db_url"))
    )


def make_connection_dialog(
    parent: QWidget, settings: Settings, problem: str | None = None
) -> ConnectionDialog:
    """The dialog, prefilled from the configured PostgreSQL URL (empty on the demo database)."""
    url = settings.values.get("db_url")
    dialog = ConnectionDialog(parent, initial_url=str(url) if is_postgres_url(url) else None)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if problem:
        dialog.show_problem(problem)
    if dialog.server.text():
        dialog.password.setFocus()
    return dialog


@dataclass(frozen=True)
class Remembered:
    settings: Settings
    note: str  # one line for the status bar


def remember_database(settings: Settings, url: str) -> Remembered:
    """Write `url` (no password) to the user's config file; the new settings for this session.

    Plain file I/O, run on a worker like everything that may block. A file that
    cannot be written costs the next start, not this session: the note says so.
    """
    origin = settings.sources.get("db_url", "default")
    try:
        path = write_user_config({"db_url": url})
    except (OSError, UserError) as exc:
        log.warning("could not save the database URL: %s", exc)
        return Remembered(
            settings.with_value("db_url", url, "connection dialog (not saved)"),
            f"Connected for this session only; the choice could not be saved: {exc}",
        )
    log.info("database URL saved in %s", path)
    note = f"The database connection is saved in {path}."
    if origin in _OVERRIDING:
        note += f" {_OVERRIDING[origin]} still overrides it at the next start."
    return Remembered(settings.with_value("db_url", url, f"user config {path}"), note)


__all__ = [
    "Remembered",
    "asks_for_credentials",
    "is_postgres_url",
    "make_connection_dialog",
    "remember_database",
]
