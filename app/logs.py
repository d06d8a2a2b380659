"""Logging to a rotating file in the user's log folder (`RAPPORT_LOG_DIR` overrides).

IT reads `rapport.log` to answer "why did it not pop?"; keep lines short and factual.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

LOG_FILE = "rapport.log"
OWNER_ONLY = 0o600  # the log names callers and customers: not for other users of the PC


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files only their owner can read (POSIX modes; on Windows the
    log folder is in the user profile, which only its owner can open)."""

    def _open(self) -> Any:
        descriptor = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, OWNER_ONLY)
        os.chmod(self.baseFilename, OWNER_ONLY)  # a file left by an older version
        return os.fdopen(descriptor, "a", encoding=self.encoding, errors=self.errors)


# PostgreSQL's DETAIL line quotes values ("Failing row contains (...)", "Key (...)=(...)")
# and a statement's parameters would list what was typed: neither goes in a log or
# a diagnostics report. Engines hide parameters already (models/database.py); the
# pattern also catches errors from engines made elsewhere.
_ROW_DATA = re.compile(r"^(\s*)(DETAIL:|\[parameters:).*$", re.MULTILINE)


def without_row_data(text: str) -> str:
    """`text` (a traceback, a driver error) with the lines that quote row values cut."""
    return _ROW_DATA.sub(r"\1\2 (hidden: it may contain customer data)", text)


class RedactingFormatter(logging.Formatter):
    """Log lines and tracebacks without the values of a failing row."""

    def format(self, record: logging.LogRecord) -> str:
        return without_row_data(super().format(record))


def log_dir(default: Path) -> Path:
    override = os.environ.get("RAPPORT_LOG_DIR")
    return Path(override) if override else default


def setup_logging(directory: Path, level: int = logging.INFO) -> Path | None:
    """Log to `directory/rapport.log` (5 x 2 MB); if the folder is unusable, to stderr."""
    root = logging.getLogger()
    root.setLevel(level)
    formatter = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    path: Path | None = directory / LOG_FILE
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = PrivateRotatingFileHandler(
            directory / LOG_FILE, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
        path = None
    handler.setFormatter(formatter)
    root.addHandler(handler)
    return path


def log_unhandled(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    logging.getLogger("rapport").critical("unhandled exception", exc_info=(exc_type, exc, tb))
