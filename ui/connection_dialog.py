"""First-run dialog: choose the shared PostgreSQL database, test it, keep the password safe.

Opened with `open()` (window-modal, the event loop keeps running), never `exec()`:
a nested loop would stall the qasync loop and every coroutine on it. The test
connects on a worker thread (`run_in_executor`), because connecting can take the
whole connect timeout and no SQL may run on the GUI thread. On Save the password
goes to the OS keyring (`app.credentials.store_password`) and the dialog hands
back the URL *without* the password (`accepted_url`, `connection_chosen`), which
is what may be written to a config file.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import URL, make_url, text

from app.credentials import store_password, with_stored_password
from models.database import DatabaseError, check_connection, make_engine
from models.migrate import ensure_schema

log = logging.getLogger(__name__)
TLS_MODES = ("disable", "prefer", "require", "verify-full")
DEFAULT_TLS = "prefer"


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    message: str


def probe(url: URL) -> ProbeResult:
    """Connect, check the schema version, disconnect. Runs on a worker thread."""
    engine = make_engine(url, pool_size=1)
    try:
        check_connection(engine)  # raises DatabaseError: password, unreachable, TLS, ...
        ensure_schema(engine, migrate=False)  # a client never migrates a shared database
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
        return ProbeResult(True, f"Connected to PostgreSQL {version}; the schema is up to date.")
    except DatabaseError as exc:
        return ProbeResult(False, str(exc))
    except Exception as exc:  # a driver surprise must not kill the dialog
        log.exception("connection test failed")
        return ProbeResult(False, f"cannot connect: {type(exc).__name__}: {exc}")
    finally:
        engine.dispose()


class ConnectionDialog(QDialog):
    """Server, port, database, user, TLS mode and password, with a "Test connection" button."""

    connection_chosen = Signal(str)  # the URL without password, after Save

    def __init__(self, parent: QWidget | None = None, initial_url: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect to the Rapport database")
        self.accepted_url: str | None = None
        self._task: asyncio.Future[bool] | None = None
        # The values that last passed a test: Save skips a second test when unchanged.
        self._tested_ok: URL | None = None

        self.server = QLineEdit()
        self.server.setPlaceholderText("dbserver.example.com")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(5432)
        self.database = QLineEdit("rapport")
        self.user = QLineEdit()
        self.user.setPlaceholderText("your database login, e.g. agent01")
        self.tls = QComboBox()
        self.tls.addItems(TLS_MODES)
        self.tls.setCurrentText(DEFAULT_TLS)
        self.tls.setToolTip(
            "disable: no encryption; prefer: encrypt if the server offers it; require: "
            "always encrypt; verify-full: encrypt and check the server certificate and name"
        )
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setToolTip("Kept in the Windows Credential Manager, never in a file")

        form = QFormLayout()
        form.addRow("&Server:", self.server)
        form.addRow("&Port:", self.port)
        form.addRow("&Database:", self.database)
        form.addRow("&User:", self.user)
        form.addRow("&TLS:", self.tls)
        form.addRow("Pass&word:", self.password)

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setAccessibleName("Connection status")

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.test_button = QPushButton("&Test connection")
        self.buttons.addButton(self.test_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.test_button.clicked.connect(self.start_test)
        self.buttons.accepted.connect(self.start_save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        for edit in (self.server, self.database, self.user, self.password):
            edit.textChanged.connect(self._changed)
        self.port.valueChanged.connect(self._changed)
        self.tls.currentTextChanged.connect(self._changed)
        if initial_url:
            self.set_url(initial_url)
        self._changed()

    # -- values -----------------------------------------------------------------------

    def set_url(self, url: str) -> None:
        parsed = make_url(url)
        self.server.setText(parsed.host or "")
        self.port.setValue(parsed.port or 5432)
        self.database.setText(parsed.database or "")
        self.user.setText(parsed.username or "")
        mode = parsed.query.get("sslmode", DEFAULT_TLS)
        self.tls.setCurrentText(mode if isinstance(mode, str) else DEFAULT_TLS)

    def url(self) -> URL:
        """The URL as it will be stored: no password, TLS mode as `sslmode`."""
        return URL.create(
            "postgresql",
            username=self.user.text().strip() or None,
            host=self.server.text().strip() or None,
            port=self.port.value(),
            database=self.database.text().strip() or None,
            query={"sslmode": self.tls.currentText()},
        )

    def _url_with_password(self) -> URL:
        """The typed password, or else the one the keyring holds for these values."""
        password = self.password.text()
        return self.url().set(password=password) if password else with_stored_password(self.url())

    def show_problem(self, message: str) -> None:
        """Why the dialog opened (e.g. the stored password was refused)."""
        self._show(message, ok=False)

    def _missing(self) -> str | None:
        for label, edit in (("server", self.server), ("database", self.database)):
            if not edit.text().strip():
                return label
        if not self.user.text().strip():
            return "user"
        return None

    def _changed(self) -> None:
        self._tested_ok = None
        complete = self._missing() is None
        busy = self._task is not None and not self._task.done()
        self.test_button.setEnabled(complete and not busy)
        if self.save_button is not None:
            self.save_button.setEnabled(complete and not busy)

    def _show(self, message: str, *, ok: bool | None) -> None:
        colour = {True: "#1b7f3b", False: "#b00020", None: ""}[ok]
        self.status.setStyleSheet(f"color: {colour}" if colour else "")
        self.status.setText(message)

    # -- test and save ------------------------------------------------------------------

    def start_test(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self.test_connection())

    def start_save(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self.save())

    async def test_connection(self) -> bool:
        missing = self._missing()
        if missing:
            self._show(f"Enter the {missing}.", ok=False)
            return False
        url = self._url_with_password()
        self._set_busy(True)
        self._show(f"Connecting to {self.server.text().strip()}…", ok=None)
        try:
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(None, probe, url)
        finally:
            self._set_busy(False)
        self._show(result.message, ok=result.ok)
        if result.ok and self._url_with_password() == url:
            self._tested_ok = url
        return result.ok

    async def save(self) -> bool:
        url = self._url_with_password()
        if self._tested_ok != url and not await self.test_connection():
            return False
        password = self.password.text()
        if password:
            try:
                store_password(self.url(), password)
            except Exception as exc:  # keyring backends raise their own error types
                self._show(f"The password could not be saved in the keyring: {exc}", ok=False)
                return False
        self.accepted_url = self.url().render_as_string(hide_password=False)
        self.connection_chosen.emit(self.accepted_url)
        self.accept()
        return True

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.server, self.port, self.database, self.user, self.tls, self.password):
            widget.setEnabled(not busy)
        self.test_button.setEnabled(not busy)
        if self.save_button is not None:
            self.save_button.setEnabled(not busy)

    def done(self, result: int) -> None:
        # Closing while a test runs: drop its answer (the worker finishes on its own).
        if self._task is not None and not self._task.done() and result != self.DialogCode.Accepted:
            self._task.cancel()
        super().done(result)
