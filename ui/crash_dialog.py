"""An unhandled exception shows a dialog instead of vanishing into the log.

`CrashReporter.install` hooks the three places an exception escapes to:
`sys.excepthook` (Qt slots and virtual methods end there), the asyncio loop's
exception handler (callbacks on the qasync loop, and coroutines started with
`DatabaseBridge.spawn`, which hands their failures to it), and
`threading.excepthook`. Each is logged; a `CrashDialog` (non-modal, `show()`)
then says plainly that nothing saved is lost and offers "Copy diagnostics".
One dialog at a time: a repeat adds its traceback and counts instead of
stacking windows. A lost database connection is not a crash (the window's
banner reports it), so it is only logged.

Signals:
    CrashReporter.reported(str, str): summary line and traceback, queued to the
        GUI thread (a worker thread's exception is shown from there).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import platform
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

import PySide6
from PySide6.QtCore import QObject, Qt, QUrl, Signal, qVersion
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.config import Settings
from app.errors import is_connection_error
from app.logs import without_row_data

log = logging.getLogger("rapport.crash")
LOG_TAIL_LINES = 50
MAX_KEPT_TRACEBACKS = 5
REASSURANCE = (
    "Nothing you saved is lost, and text you typed in notes is kept as a draft. "
    "You can keep working; if something looks wrong, restart Rapport. "
    "To report it, copy the diagnostics and send them to your support team."
)


def log_tail(path: Path | None, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last `lines` lines of the log file (reads at most the last 64 KB)."""
    if path is None or not path.is_file():
        return []
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 65536))
            data = handle.read().decode("utf-8", errors="replace")
    except OSError as exc:
        return [f"(the log could not be read: {exc})"]
    return list(collections.deque(data.splitlines(), maxlen=lines))


def diagnostics(
    settings: Settings | None, log_path: Path | None, tracebacks: list[str], count: int
) -> str:
    """What support needs, without secrets: versions, config and sources, the error, the log."""
    parts = [
        f"Rapport {__version__}",
        f"Python {platform.python_version()} ({sys.executable})",
        f"Qt {qVersion()}, PySide6 {PySide6.__version__}",
        f"OS {platform.platform()}",
        f"Log {log_path if log_path is not None else '(stderr)'}",
        "",
        "Configuration (secrets hidden):",
    ]
    if settings is not None:
        sources = settings.sources
        parts.extend(
            f"  {key} = {value!s}  ({sources.get(key, '?')})"
            for key, value in settings.redacted().items()
        )
    parts += ["", f"Unhandled exception ({count}x, last {len(tracebacks)} shown):"]
    parts.extend(tracebacks)
    parts += ["", f"Last {LOG_TAIL_LINES} log lines:"]
    parts.extend(log_tail(log_path))
    return "\n".join(parts) + "\n"


class CrashDialog(QDialog):
    """Non-modal: the agent may be on a call and must keep using the window."""

    def __init__(
        self, settings: Settings | None, log_path: Path | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Rapport: unexpected error")
        self.setModal(False)
        self._settings = settings
        self._log_path = log_path
        self.count = 0
        self.tracebacks: list[str] = []

        heading = QLabel("Rapport hit an unexpected error.")
        heading.setStyleSheet("font-weight: bold")
        self.reassurance = QLabel(REASSURANCE)
        self.reassurance.setWordWrap(True)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)  # exception text is not HTML
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setAccessibleName("Error details")
        self.details.setMinimumSize(560, 200)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("&Copy diagnostics")
        self.copy_button.setToolTip("Versions, configuration (no secrets), the error, the log")
        self.open_logs_button = QPushButton("Open &log folder")
        self.buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.open_logs_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_diagnostics)
        self.open_logs_button.clicked.connect(self.open_log_folder)
        self.open_logs_button.setEnabled(log_path is not None)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.reassurance)
        layout.addWidget(self.summary)
        layout.addWidget(self.details, 1)
        layout.addWidget(self.buttons)

    def add(self, summary: str, trace: str) -> None:
        """Record one more exception (the first, or a repeat while the dialog is open)."""
        self.count += 1
        self.tracebacks.append(trace)
        del self.tracebacks[:-MAX_KEPT_TRACEBACKS]
        again = f" (this happened {self.count} times)" if self.count > 1 else ""
        self.summary.setText(f"{summary}{again}")
        self.details.setPlainText("\n".join(self.tracebacks))

    def diagnostics(self) -> str:
        return diagnostics(self._settings, self._log_path, self.tracebacks, self.count)

    def copy_diagnostics(self) -> None:
        QGuiApplication.clipboard().setText(self.diagnostics())
        self.copy_button.setText("Copied")

    def open_log_folder(self) -> None:
        if self._log_path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._log_path.parent)))


class CrashReporter(QObject):
    reported = Signal(str, str)

    def __init__(
        self,
        settings: Settings | None,
        log_path: Path | None,
        parent_widget: QWidget | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.log_path = log_path
        self.parent_widget = parent_widget
        self.dialog: CrashDialog | None = None
        self._previous_excepthook: Any = None
        self._previous_threading_hook: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Queued: a worker thread's exception is shown by the GUI thread.
        self.reported.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        self._previous_excepthook = sys.excepthook
        self._previous_threading_hook = threading.excepthook
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook
        loop.set_exception_handler(self.loop_exception)
        self._loop = loop

    def uninstall(self) -> None:
        if self._previous_excepthook is not None:
            sys.excepthook = self._previous_excepthook
            threading.excepthook = self._previous_threading_hook
            self._previous_excepthook = None
        if self._loop is not None and not self._loop.is_closed():
            self._loop.set_exception_handler(None)
        self._loop = None
        dialog, self.dialog = self.dialog, None
        if dialog is not None:  # close() emits finished, which would clear it twice
            dialog.close()
            dialog.deleteLater()

    # -- the hooks ------------------------------------------------------------------------

    def excepthook(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt) and self._previous_excepthook is not None:
            self._previous_excepthook(exc_type, exc, tb)
            return
        log.critical("unhandled exception", exc_info=(exc_type, exc, tb))
        self.report(exc)

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        thread = args.thread.name if args.thread is not None else "?"
        log.critical("unhandled exception in thread %s", thread, exc_info=args.exc_value)
        self.report(args.exc_value)

    def loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = context.get("message", "")
        if not isinstance(exc, Exception):
            loop.default_exception_handler(context)  # a warning without an exception
            return
        if is_connection_error(exc):  # the banner says it; no crash dialog
            log.warning("%s: %s", message or "task failed", str(exc).splitlines()[0])
            return
        log.error("%s", message or "unhandled exception in the event loop", exc_info=exc)
        self.report(exc)

    def report(self, exc: BaseException) -> None:
        # Shown, copied by "Copy diagnostics" and sent to support: no row values.
        trace = without_row_data("".join(traceback.format_exception(exc)).rstrip())
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        summary = f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__
        self.reported.emit(summary, trace)

    def _show(self, summary: str, trace: str) -> None:
        if self.dialog is None:
            self.dialog = CrashDialog(self.settings, self.log_path, self.parent_widget)
            self.dialog.finished.connect(self._closed)
        self.dialog.add(summary, trace)
        self.dialog.show()
        self.dialog.raise_()

    def _closed(self) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()
