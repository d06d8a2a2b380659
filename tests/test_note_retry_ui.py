"""A note whose save committed but whose reply was lost is saved once when the agent retries.

The fault is real where it matters: the commit goes through on the database, then
the reply is "lost" (an `after_commit` hook raises the error a dropped connection
gives). The panel keeps the text and its key; the retry sends the same key.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from models.people import CustomerNote
from tests.conftest import LoopRunner
from ui.features.customer.panel import CustomerPanel
from ui.shell.main_window import MainWindow


def _open_eleanor(window: MainWindow, aloop: LoopRunner, qtbot: Any) -> CustomerPanel:
    qtbot.keyClicks(window.search.box, "Eleanor")
    aloop.until(lambda: window.search.model.rowCount() > 0)
    qtbot.keyClick(window.search.box, Qt.Key.Key_Return)
    aloop.until(lambda: isinstance(window.tabs.currentWidget(), CustomerPanel))
    panel = window.tabs.currentWidget()
    assert isinstance(panel, CustomerPanel)
    aloop.until(lambda: panel.fully_built)
    return panel


def test_a_note_retried_after_a_lost_reply_is_saved_once(
    window: MainWindow, engine: Engine, aloop: LoopRunner, qtbot: Any
) -> None:
    panel = _open_eleanor(window, aloop, qtbot)
    panel.sections.setCurrentIndex(5)
    text = "Asked for the spring catalogue"
    panel.note_editor.setFocus()  # Ctrl+Enter saves the note being typed in, nothing else
    qtbot.keyClicks(panel.note_editor, text)
    key = panel.notes.client_key
    assert key  # made when the agent started typing

    lost = {"armed": True}

    def lose_the_reply(_session: Session) -> None:
        if lost["armed"]:
            lost["armed"] = False
            raise OperationalError(
                "COMMIT", None, ConnectionResetError("reply lost"), connection_invalidated=True
            )

    event.listen(Session, "after_commit", lose_the_reply)
    try:
        qtbot.keyClick(panel.note_editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        aloop.until(lambda: panel.note_status.text().startswith("Not saved"))
    finally:
        event.remove(Session, "after_commit", lose_the_reply)
    assert "connection to the database was lost" in panel.note_status.text()
    assert "reply lost" not in panel.note_status.text()  # the project's words, not the driver's
    assert panel.note_editor.toPlainText() == text and panel.notes.client_key == key
    aloop.until(lambda: window.banner.isVisible())  # the window says the database went away

    qtbot.keyClick(panel.note_editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    aloop.until(lambda: panel.note_status.text() == "Note saved.")
    with engine.connect() as conn:
        count = conn.scalar(
            select(func.count()).where(
                CustomerNote.customer_id == panel.customer_id, CustomerNote.body == text
            )
        )
    assert count == 1
    assert [row.body for row in panel.notes.model.rows].count(text) == 1
    assert panel.notes.client_key is None and panel.note_editor.toPlainText() == ""


def test_the_wrap_up_panel_sends_one_key_per_wrap_up(qapp: Any) -> None:
    from ui.features.calls.widgets import WrapUpPanel

    panel = WrapUpPanel()
    sent: list[Any] = []
    panel.submitted.connect(sent.append)
    try:
        panel.begin(7, "Ada Lovelace", 95)
        panel.summary.setPlainText("Sorted")
        panel.save.click()
        panel.save.click()  # a retry after "Not saved": the same key
        panel.saved_elsewhere()  # the key was taken by other content: the next save is new
        panel.save.click()
        panel.begin(8, "Grace Hopper", None)
        panel.save.click()
    finally:
        panel.deleteLater()
    keys = [form.client_key for form in sent]
    assert [form.interaction_id for form in sent] == [7, 7, 7, 8]
    assert keys[0] == keys[1] and len(set(keys)) == 3 and all(keys)
