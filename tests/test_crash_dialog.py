"""Unhandled exceptions show one crash dialog (slots, loop callbacks, spawned coroutines)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QPushButton

from app import __version__
from app.config import load_settings
from models.database import DatabaseError
from tests.conftest import LoopRunner
from ui.bridge import DatabaseBridge
from ui.crash_dialog import REASSURANCE, CrashDialog, CrashReporter

# These tests raise on purpose and install their own hook in place of pytest-qt's.
pytestmark = pytest.mark.qt_no_exception_capture


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "rapport.log"
    path.write_text("".join(f"2024-05-01 INFO rapport: line {n}\n" for n in range(200)))
    return path


@pytest.fixture
def reporter(aloop: LoopRunner, log_file: Path) -> Iterator[CrashReporter]:
    settings = load_settings(
        cli={"db_url": "postgresql://ann:hunter2@db:5432/rapport"},
        environ={"RAPPORT_WEBHOOK_TOKEN": "t0ps3cret", "RAPPORT_WEBHOOK_PORT": "8765"},
    )
    crash = CrashReporter(settings, log_file)
    hook_before = sys.excepthook
    crash.install(aloop.loop)
    yield crash
    crash.uninstall()
    assert sys.excepthook is hook_before
    aloop.run(asyncio.sleep(0.01))  # let deleteLater run


def _dialog(crash: CrashReporter) -> CrashDialog:
    assert crash.dialog is not None and crash.dialog.isVisible()
    assert not crash.dialog.isModal()  # the agent keeps working in the window
    return crash.dialog


def test_exception_in_a_slot_shows_the_dialog_and_copies_diagnostics(
    reporter: CrashReporter, aloop: LoopRunner, qtbot: Any
) -> None:
    def broken_slot() -> None:
        raise ValueError("boom in a slot")

    button = QPushButton("Do it")
    qtbot.addWidget(button)
    button.clicked.connect(broken_slot)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    aloop.until(lambda: reporter.dialog is not None)
    dialog = _dialog(reporter)
    assert dialog.summary.text() == "ValueError: boom in a slot"
    assert "broken_slot" in dialog.details.toPlainText()
    assert dialog.reassurance.text() == REASSURANCE and "Nothing you saved is lost" in REASSURANCE

    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    assert f"Rapport {__version__}" in copied
    assert "Python 3." in copied and "Qt 6." in copied and "OS " in copied
    assert "Traceback (most recent call last)" in copied and "boom in a slot" in copied
    assert "db_url = postgresql://ann:***@db:5432/rapport  (command line)" in copied
    assert "webhook_token = (set)  (environment)" in copied
    assert "hunter2" not in copied and "t0ps3cret" not in copied
    assert "rapport.log" in copied
    assert "line 199" in copied and "line 150" in copied and "line 149" not in copied

    # A repeat counts in the same dialog instead of stacking a second one.
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    aloop.until(lambda: dialog.count == 2)
    assert reporter.dialog is dialog
    assert "this happened 2 times" in dialog.summary.text()
    assert dialog.details.toPlainText().count("ValueError: boom in a slot") == 2


def test_exception_in_a_spawned_coroutine(reporter: CrashReporter, aloop: LoopRunner) -> None:
    bridge = DatabaseBridge()

    async def load_something() -> None:
        await asyncio.sleep(0)
        raise KeyError("customer 42")

    bridge.spawn(load_something())
    aloop.until(lambda: reporter.dialog is not None)
    dialog = _dialog(reporter)
    assert dialog.summary.text() == "KeyError: 'customer 42'"
    assert "load_something" in dialog.details.toPlainText()
    bridge.shutdown()


def test_exception_in_a_loop_callback_and_close(reporter: CrashReporter, aloop: LoopRunner) -> None:
    def callback() -> None:
        raise RuntimeError("boom in a callback")

    aloop.loop.call_soon(callback)
    aloop.until(lambda: reporter.dialog is not None)
    dialog = _dialog(reporter)
    assert "boom in a callback" in dialog.summary.text()
    dialog.buttons.rejected.emit()  # Close
    assert reporter.dialog is None
    aloop.loop.call_soon(callback)  # after Close, a new exception opens a fresh dialog
    aloop.until(lambda: reporter.dialog is not None)
    assert _dialog(reporter).count == 1


def test_a_lost_connection_is_not_a_crash(reporter: CrashReporter, aloop: LoopRunner) -> None:
    bridge = DatabaseBridge()

    async def query() -> None:
        raise DatabaseError("the server is unreachable: postgresql://a@db/r (refused)")

    task = bridge.spawn(query())
    aloop.until(task.done)
    aloop.run(asyncio.sleep(0.05))
    assert reporter.dialog is None
    bridge.shutdown()


def test_open_log_folder(
    reporter: CrashReporter, aloop: LoopRunner, log_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    reporter.report(RuntimeError("x"))
    aloop.until(lambda: reporter.dialog is not None)
    _dialog(reporter).open_logs_button.click()
    assert opened == [str(log_file.parent)]
