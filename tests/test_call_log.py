"""The call log in the window, fed by a real AMI link to the fake Asterisk on loopback.

A call rings the agent's device and is missed; the call log shows it with its
callback task; "Call" (Ctrl+D) originates the callback through AMI, logs the
outgoing call and closes the task. The adapter's status is shown per source.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any

import keyring
import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication
from sqlalchemy import Engine, select

from app.credentials import SERVICE
from app.services.views import CallLogEntry
from models.enums import TaskStatus
from models.service import Task
from tests.conftest import LoopRunner
from tests.telephony.fake_ami import FakeAmi, FakeCall
from ui.features.customer.panel import CustomerPanel
from ui.shell.main_window import MainWindow
from ui.telephony import TelephonyHub

pytestmark = pytest.mark.clock  # seeds relative to now, or shows dates


def test_missed_call_in_the_call_log_and_called_back_through_ami(
    window: MainWindow, engine: Engine, aloop: LoopRunner, qtbot: Any, memory_keyring: Any
) -> None:
    fake = FakeAmi()
    aloop.run(fake.start())
    keyring.set_password(SERVICE, "ami:rapport", "s3cret")
    settings = dataclasses.replace(
        window.settings,
        values={
            **window.settings.values,
            "ami_host": "127.0.0.1",
            "ami_port": fake.port,
            "ami_username": "rapport",
            "ami_device": "PJSIP/agent01",
        },
    )
    hub = TelephonyHub(settings)
    hub.call_event.connect(window.calls.handle_call)
    hub.status_changed.connect(window.indicators.adapter_status.set_status)
    window.calls.telephony = hub
    hub.start()
    try:
        aloop.until(lambda: hub.adapters["ami"].status == "connected")
        aloop.until(
            lambda: (
                "Asterisk: connected" in window.indicators.adapter_status.indicators["ami"].text()
            )
        )

        call = FakeCall(caller_num="6175550142")  # Sandra (S2), stored as 617.555.0142
        aloop.run(fake.push(call.dial_begin()))
        aloop.until(
            lambda: (
                isinstance(p := window.tabs.currentWidget(), CustomerPanel)
                and p.data.header.name == "Sandra Kowalski"
            )
        )
        aloop.run(fake.push(call.hangup()))  # never answered: missed
        aloop.until(lambda: "callback task" in window.statusBar().currentMessage())

        qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
        aloop.until(lambda: window.call_log is not None and window.call_log.model.rowCount() == 1)
        view = window.call_log
        assert view is not None and window.tabs.currentWidget() is view
        missed = view.model.rows[0]
        assert missed.customer_name == "Sandra Kowalski" and missed.outcome == "missed"
        assert missed.line == "5551000"  # the dialled line, learnt from the call: "my line"
        assert view.model.index(0, 7).data() == "to do"

        view.table.setFocus()
        qtbot.keyClick(view.table, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
        # Her mobile, which she asked us not to use: a warning first, offering her
        # office phone. The agent calls the mobile anyway here (the callback's number).
        aloop.until(lambda: _dial_warning() is not None)
        warning = _dial_warning()
        assert warning is not None and "coverage" in warning.informativeText()
        anyway = next(b for b in warning.buttons() if b.text() == "Call anyway")
        anyway.click()
        aloop.until(lambda: any(a["Action"] == "Originate" for a in fake.actions))
        originate = next(a for a in fake.actions if a["Action"] == "Originate")
        assert originate["Exten"] == "6175550142" and originate["Channel"] == "PJSIP/agent01"
        aloop.until(lambda: view.model.rowCount() == 2)
        assert view.model.rows[0].direction == "outbound"
        assert view.model.index(1, 7).data() == "done"
        with engine.connect() as conn:
            status = conn.scalar(select(Task.status).where(Task.id == missed.callback_task_id))
        assert status == TaskStatus.DONE

        view.missed_only.setChecked(True)
        aloop.until(lambda: view.model.rowCount() == 1)
        # Enter on the row opens the caller's record.
        window.tabs.close_tab(window.tabs.indexOf(window.tabs.widget(0)))
        view.table.selectRow(0)
        qtbot.keyClick(view.table, Qt.Key.Key_Return)
        aloop.until(
            lambda: (
                isinstance(p := window.tabs.currentWidget(), CustomerPanel)
                and p.data.header.name == "Sandra Kowalski"
            )
        )
    finally:
        aloop.run(hub.stop())
        aloop.run(fake.stop())
        aloop.until(lambda: not window.bridge.running)


def test_click_to_call_without_a_softphone_link_says_so(
    window: MainWindow, aloop: LoopRunner, monkeypatch: Any
) -> None:
    opened: list[str] = []

    def refuse(url: QUrl) -> bool:  # a bare PC: no application handles tel:
        opened.append(url.toString())
        return False

    monkeypatch.setattr(QDesktopServices, "openUrl", refuse)
    entry = CallLogEntry(
        interaction_id=1,
        started_at=dt.datetime.now(dt.UTC),
        direction="inbound",
        outcome="missed",
        number="+1 202 555 0111",
        customer_id=None,
        customer_name=None,
        duration_s=None,
        wrap_up_code=None,
        agent=None,
        line=None,
    )
    aloop.run(window.calls.dial(entry))
    assert opened == ["tel:+12025550111"]
    assert "copied to the clipboard" in window.statusBar().currentMessage()
    assert QApplication.clipboard().text() == "+1 202 555 0111"


def test_the_call_log_reloads_once_for_a_burst_of_call_changes_and_not_while_hidden(
    window: MainWindow, aloop: LoopRunner
) -> None:
    from app.changes import Change, Changes, Entity
    from tests.conftest import without_change_feed
    from ui.features.call_log.view import COALESCE_MS, CallLogView

    without_change_feed(window, aloop)  # the changes come from this test alone
    assert window.services is not None
    view = CallLogView(window.services.calls, window.bridge, window.services.agent.login)
    loads: list[int] = []
    view.model.modelReset.connect(lambda: loads.append(1))  # each load shows its rows anew
    window.bridge.changed.connect(view.apply_changes)  # as the shell's tab router does

    def settled() -> None:
        aloop.run(asyncio.sleep(3 * COALESCE_MS / 1000))
        aloop.until(lambda: not window.bridge.running)

    try:
        view.show()
        window.bridge.publish(Changes.of(Change(Entity.NOTE, 1, 1), Change(Entity.ORDER, 2, 1)))
        settled()
        assert loads == []  # nothing the call log shows
        for entity in (Entity.INTERACTION, Entity.TASK, Entity.INTERACTION):
            window.bridge.publish(Changes.of(Change(entity, 7, None)))
        settled()
        assert loads == [1]
        view.hide()
        window.bridge.publish(Changes.all())
        settled()
        assert loads == [1]  # out of sight: it waits
        view.show()
        settled()
        assert loads == [1, 1]
    finally:
        window.bridge.changed.disconnect(view.apply_changes)
        view.close()
        view.deleteLater()


def _dial_warning() -> Any:
    """The dial warning box, when one is open."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    return next(
        (
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox)
            and w.isVisible()
            and w.windowTitle() == "Call this number?"
        ),
        None,
    )
