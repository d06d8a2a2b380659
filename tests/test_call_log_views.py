"""The call log and the pop in the window (issue 9, item 6): missed calls of this
workstation in the default view, a caller created during the call named in the log,
agents by name, the caller's name in the new-customer form, phones in one format."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from app.clock import fixed_clock
from app.services.calls import CallService
from app.services.customers import CustomerService
from app.telephony.events import CallEvent, CallState
from models.database import Database
from models.people import User
from tests.conftest import LoopRunner
from tests.factories import agent_context
from ui.features.customer.panel import CustomerPanel
from ui.shell.main_window import MainWindow

pytestmark = pytest.mark.clock  # seeds relative to now

SCREENSHOTS = Path(os.environ.get("RAPPORT_SCREENSHOTS", "/tmp/rapport-screenshots"))


def _event(
    number: str, state: CallState, call_id: str, name: str | None = None, source: str = "handoff"
) -> CallEvent:
    # A hand-off (`rapport pop`) carries no line: only the workstation knows it rang here.
    return CallEvent(
        call_id=call_id,
        number=number,
        name=name,
        line=None,
        state=state,
        at=dt.datetime.now(dt.UTC),
        source=source,
        received_monotonic=time.perf_counter(),
    )


def _open_log(window: MainWindow, aloop: LoopRunner, rows: int) -> Any:
    window.show_call_log()
    view = window.call_log
    assert view is not None
    aloop.until(lambda: view.model.rowCount() > 0)
    assert view.model.rowCount() == rows, [e.number for e in view.model.rows]
    return view


def test_missed_calls_of_this_workstation_are_in_the_default_view(
    window: MainWindow, engine: Engine, aloop: LoopRunner
) -> None:
    assert window.services is not None
    # A call that rang somewhere else (no workstation, line or agent of ours).
    db = Database(engine)
    clock = fixed_clock(dt.datetime.now(dt.UTC))
    there = CallService(
        db, CustomerService(db, "US", clock), "US", clock, agent=agent_context(engine)
    )
    there.ended(_event("+1 202 555 0155", CallState.ENDED, "there-1"), None)
    # One that rings here (no line, no agent login) and is missed.
    window.calls.handle_call(_event("+1 202 555 0144", CallState.RINGING, "here-1"))
    aloop.until(lambda: "here-1" in window.calls.book)
    window.calls.handle_call(_event("+1 202 555 0144", CallState.ENDED, "here-1"))
    aloop.until(lambda: "Missed call" in window.statusBar().currentMessage())
    view = _open_log(window, aloop, 1)
    assert view.scope.currentIndex() == 0  # "My calls and my line"
    (entry,) = view.model.rows
    assert entry.outcome == "missed" and entry.number == "+1 202 555 0144"
    assert view.model.index(0, 2).data() == "(202) 555-0144"
    assert "no call has rung" not in view.message.text()
    view.scope.setCurrentIndex(1)  # All calls
    aloop.until(lambda: view.model.rowCount() == 2)


def test_a_pop_is_in_the_log_as_rung_and_the_new_caller_is_named(
    window: MainWindow, engine: Engine, aloop: LoopRunner, qtbot: Any
) -> None:
    with engine.connect() as conn:
        staff_id, login, display_name = conn.execute(
            select(User.id, User.login, User.display_name).order_by(User.id)
        ).first()  # type: ignore[misc]
    # The agent context is injected: this window acts as that staff member.
    assert window.services is not None
    window.connection.use(
        window.services.acting_as(
            dataclasses.replace(
                window.services.agent, login=login, display_name=display_name, user_id=staff_id
            )
        )
    )
    ring = _event("+1 202 555 0199", CallState.RINGING, "pop-7", name="Ann Example")
    window.calls.handle_call(ring)
    aloop.until(
        lambda: (
            window.tabs.new_customer_dialog is not None
            and window.tabs.new_customer_dialog.isVisible()
        )
    )
    dialog = window.tabs.new_customer_dialog
    # The name the source sent is in the form, the number too.
    assert (dialog.first_name.text(), dialog.last_name.text()) == ("Ann", "Example")
    assert dialog.phone_edits[0][0].text() == "+1 202 555 0199"
    view = _open_log(window, aloop, 1)
    assert view.model.index(0, 4).data() == "Rang"  # no source said more
    assert view.model.index(0, 7).data() == ""  # and no callback task
    dialog.submit()
    aloop.until(
        lambda: (
            isinstance(p := window.tabs.currentWidget(), CustomerPanel)
            and p.data.header.name == "Ann Example"
        )
    )
    window.calls.handle_call(dataclasses.replace(ring, state=CallState.ANSWERED))
    aloop.until(lambda: "On call with Ann Example" in window.calls.call_label.text())
    window.calls.handle_call(dataclasses.replace(ring, state=CallState.ENDED))
    aloop.until(lambda: window.calls.wrap_up.isVisible())
    window.show_call_log()
    aloop.until(lambda: view.model.rowCount() == 1 and view.model.rows[0].outcome == "completed")
    assert view.model.index(0, 3).data() == "Ann Example"
    assert view.model.index(0, 8).data() == display_name  # not the login
    window.resize(1366, 768)
    aloop.run(_settle())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(SCREENSHOTS / f"call-log-{engine.dialect.name}.png"))


def test_priya_header_shows_a_landline_in_one_format(
    window: MainWindow, engine: Engine, aloop: LoopRunner
) -> None:
    window.search.search_for("020 7946 0018")  # typed the UK way: the last digits find her
    aloop.until(
        lambda: (
            isinstance(p := window.tabs.currentWidget(), CustomerPanel)
            and p.data.header.name == "Priya Raman"
        )
    )
    panel = window.tabs.currentWidget()
    assert isinstance(panel, CustomerPanel)
    contact = next(
        label.text()
        for label in panel.findChildren(type(panel.value_label))
        if label.accessibleName() == "Phones and e-mails"
    )
    assert "home: +44 20 7946 0018" in contact and "mobile" not in contact
    window.resize(1366, 768)
    aloop.run(_settle())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(SCREENSHOTS / f"priya-{engine.dialect.name}.png"))


async def _settle() -> None:
    import asyncio

    await asyncio.sleep(0.2)
