"""Screen pop end to end: call events reach the window, the right customer pops.

Covers the flow in the window (one, several, none, withheld; answer; hang up;
wrap-up), the loopback webhook feeding the window, and the hand-off between two
processes (`rapport pop NUMBER` to the running instance) with the pop log line.
"""

from __future__ import annotations

import asyncio
import http.client
import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDate, QDateTime, QTime
from sqlalchemy import Engine, select

from app.telephony.events import CallState
from app.telephony.webhook import WebhookAdapter, WebhookSettings
from models.people import CustomerPhone
from models.seed.story_customers import S2_COVERAGE_CASE_SUBJECT, STORY_CUSTOMERS
from models.service import Case, Commitment, Interaction
from tests.conftest import LoopRunner, RunningRapport
from tests.factories import call_event
from ui.features.customer.panel import CustomerPanel
from ui.shell.main_window import MainWindow

pytestmark = pytest.mark.clock  # seeds relative to now, or shows dates


def _current(window: MainWindow) -> CustomerPanel | None:
    panel = window.tabs.currentWidget()
    return panel if isinstance(panel, CustomerPanel) else None


def test_ring_answer_hang_up_wrap_up(
    window: MainWindow, engine: Engine, aloop: LoopRunner, qtbot: Any
) -> None:
    window.search.box.setFocus()
    qtbot.keyClicks(window.search.box, "typing something")
    window.calls.handle_call(
        call_event("020 7946 0018", CallState.RINGING)
    )  # S4, UK national format
    aloop.until(lambda: (p := _current(window)) is not None and p.data.header.name == "Priya Raman")
    assert window.calls.toast.isVisible() and "Priya Raman" in window.calls.toast.title.text()
    assert "Kevin" in window.calls.toast.lines.text()  # the key date two days away
    assert window.search.box.text() == "typing something"  # nothing typed was lost
    window.calls.handle_call(call_event("020 7946 0018", CallState.ANSWERED))
    aloop.until(lambda: "On call with Priya Raman" in window.calls.call_label.text())
    window.calls.handle_call(call_event("020 7946 0018", CallState.ENDED))
    aloop.until(lambda: window.calls.wrap_up.isVisible())
    window.calls.wrap_up.summary.setPlainText("Re-engraving promised for Saturday")
    window.calls.wrap_up.save.click()
    aloop.until(lambda: not window.calls.wrap_up.isVisible())
    with engine.connect() as conn:
        row = conn.execute(
            select(
                Interaction.wrap_up_code,
                Interaction.summary,
                Interaction.answered_at,
                Interaction.ended_at,
            ).where(Interaction.call_id == "call-1")
        ).one()
    assert row[0] == "resolved" and row[1] == "Re-engraving promised for Saturday"
    assert row[2] is not None and row[3] is not None


def test_household_unknown_and_withheld_callers(window: MainWindow, aloop: LoopRunner) -> None:
    window.calls.handle_call(call_event("415 555 0188", CallState.RINGING, "c-2"))
    aloop.until(lambda: window.search.model.rowCount() == 2)
    assert {h.name for h in window.search.model.rows} == {"Eleanor Whitfield", "Thomas Whitfield"}
    window.calls.handle_call(call_event("+1 202 555 0111", CallState.RINGING, "c-3"))
    aloop.until(
        lambda: (
            window.tabs.new_customer_dialog is not None
            and window.tabs.new_customer_dialog.isVisible()
        )
    )
    dialog = window.tabs.new_customer_dialog
    assert dialog.phone_edits[0][0].text() == "+1 202 555 0111"
    # Saved, the unknown caller would be held as staged until identified (S8).
    assert dialog.staged and dialog.details().staged
    assert "held until identified" in dialog.windowTitle()
    dialog.reject()  # nothing saved: no junk customer
    window.calls.handle_call(call_event("anonymous", CallState.RINGING, "c-4"))
    aloop.until(lambda: "withheld" in window.calls.toast.title.text())


def test_missed_call_is_logged_for_callback(
    window: MainWindow, engine: Engine, aloop: LoopRunner
) -> None:
    window.calls.handle_call(call_event("617 555 0142", CallState.RINGING, "c-5"))
    aloop.until(
        lambda: (p := _current(window)) is not None and p.data.header.name == "Sandra Kowalski"
    )
    window.calls.handle_call(call_event("617 555 0142", CallState.ENDED, "c-5"))
    aloop.until(lambda: "callback task" in window.statusBar().currentMessage())
    with engine.connect() as conn:
        outcome = conn.scalar(select(Interaction.outcome).where(Interaction.call_id == "c-5"))
    assert outcome is not None and outcome.value == "missed"


def test_webhook_call_pops_the_customer(window: MainWindow, aloop: LoopRunner) -> None:
    adapter = WebhookAdapter(WebhookSettings(token="s3cret-webhook-token-42", port=0))
    task = asyncio.ensure_future(adapter.run(window.calls.handle_call))

    def post() -> int:
        connection = http.client.HTTPConnection("127.0.0.1", adapter.bound_port, timeout=5)
        body = json.dumps({"number": "+61 2 9374 4000", "state": "ringing"})
        connection.request(
            "POST",
            "/v1/calls",
            body,
            {"Authorization": "Bearer s3cret-webhook-token-42", "Content-Type": "application/json"},
        )
        return connection.getresponse().status

    async def scenario() -> int:
        while not adapter.bound_port:
            await asyncio.sleep(0.01)
        return await asyncio.get_running_loop().run_in_executor(None, post)

    assert aloop.run(scenario()) == 202
    aloop.until(
        lambda: (p := _current(window)) is not None and p.data.header.name == "Dorothy Hargreaves"
    )
    task.cancel()
    aloop.run(asyncio.gather(task, return_exceptions=True))


def test_hand_off_between_two_processes(running_rapport: RunningRapport, tmp_path: Path) -> None:
    result = running_rapport.command("pop", "+1 (617) 555-0142", log_dir=tmp_path / "pop")
    assert result.returncode == 0, result.stderr
    running_rapport.wait_for("rapport.pop:")
    line = running_rapport.logged("rapport.pop:")[-1]
    popped = json.loads(line.split("rapport.pop: ", 1)[1])
    assert popped["match"] == "one" and popped["normalized"] == "+16175550142"
    assert popped["source"] == "handoff" and popped["latency_ms"] >= 0
    garbage = running_rapport.command("pop", "12; rm -rf /")
    assert garbage.returncode == 2 and "rapport:" in garbage.stderr


def test_a_hang_up_reported_twice_leaves_the_answered_call_in_its_wrap_up(
    window: MainWindow, engine: Engine, aloop: LoopRunner
) -> None:
    for state in (CallState.RINGING, CallState.ANSWERED, CallState.ENDED):
        window.calls.handle_call(call_event("020 7946 0018", state, "twice-1"))
    aloop.until(lambda: window.calls.wrap_up.isVisible())
    window.calls.handle_call(call_event("020 7946 0018", CallState.ENDED, "twice-1"))
    aloop.until(lambda: window.bridge.running == 0)
    assert "Missed call" not in window.statusBar().currentMessage()
    assert window.calls.wrap_up.isVisible()
    with engine.connect() as conn:
        outcome = conn.scalar(select(Interaction.outcome).where(Interaction.call_id == "twice-1"))
    assert outcome is not None and outcome.value == "completed"


def test_an_answer_during_the_look_up_is_recorded_for_the_caller(
    window: MainWindow, engine: Engine, aloop: LoopRunner
) -> None:
    window.calls.handle_call(call_event("617 555 0142", CallState.RINGING, "quick-1"))
    window.calls.handle_call(call_event("617 555 0142", CallState.ANSWERED, "quick-1"))
    aloop.until(lambda: "On call with Sandra Kowalski" in window.calls.call_label.text())
    panel = _current(window)
    assert panel is not None and panel.data.header.name == "Sandra Kowalski"
    with engine.connect() as conn:
        customer = conn.scalar(
            select(Interaction.customer_id).where(Interaction.call_id == "quick-1")
        )
    assert customer == panel.customer_id


def test_a_wrap_up_refreshes_the_callers_tab_not_every_open_tab(
    window: MainWindow, aloop: LoopRunner
) -> None:
    assert window.services is not None
    other_id = aloop.run(window.bridge.run(window.services.customers.first_customer_id))
    assert other_id is not None
    other = aloop.run(window.tabs.load_customer(other_id))
    assert other is not None and other.data.header.name != "Priya Raman"
    for state in (CallState.RINGING, CallState.ANSWERED, CallState.ENDED):
        window.calls.handle_call(call_event("020 7946 0018", state, "only-1"))
    aloop.until(lambda: window.calls.wrap_up.isVisible())
    shown: list[int] = []
    window.customer_shown.connect(shown.append)
    window.calls.wrap_up.summary.setPlainText("Only Priya's timeline changes")
    window.calls.wrap_up.save.click()
    aloop.until(lambda: not window.calls.wrap_up.isVisible())
    aloop.until(lambda: window.bridge.running == 0)
    assert window.tabs.panel_of(other_id) is other  # untouched: not reloaded
    assert other_id not in shown


def test_the_wrap_up_offers_her_open_case_and_her_allowed_number(
    window: MainWindow, engine: Engine, aloop: LoopRunner
) -> None:
    """S2: the call joins her open case only when the agent says so in the wrap-up, and
    the call-back is promised on the office number she allows, not her mobile."""
    sandra = STORY_CUSTOMERS["S2"]
    window.calls.handle_call(call_event(sandra.phone_raw, CallState.RINGING, "s2-call"))
    aloop.until(
        lambda: (
            (p := _current(window)) is not None
            and p.data.header.name == f"{sandra.first_name} {sandra.last_name}"
        )
    )
    assert "contacts" in window.calls.toast.lines.text()  # "Open case CS-...: ... (7 contacts)"
    window.calls.handle_call(call_event(sandra.phone_raw, CallState.ANSWERED, "s2-call"))
    window.calls.handle_call(call_event(sandra.phone_raw, CallState.ENDED, "s2-call"))
    panel = window.calls.wrap_up
    aloop.until(panel.isVisible)
    # Both open cases offered, the one touched last suggested; the agent says which.
    offered = [panel.case.itemText(i) for i in range(panel.case.count())]
    assert offered[0] == "No case" and offered[-1] == "New case from this call…"
    assert len(offered) == 4  # her two open cases between
    assert panel.case.currentIndex() > 0
    panel.case.setCurrentIndex(
        next(i for i, t in enumerate(offered) if S2_COVERAGE_CASE_SUBJECT in t)
    )
    assert "(work)" in panel.phone.currentText()  # her office phone, ranked first
    mobile = next(i for i in range(panel.phone.count()) if "mobile" in panel.phone.itemText(i))
    assert "asked not to use" in panel.phone.itemText(mobile)
    panel.follow_up.setText("Call back with the engineer's findings")
    # Friday 4 January 2030 at 10:00: she allows the office phone on weekdays after 6 pm
    # only. The first save says so and keeps the panel; 19:00 is allowed and saves.
    friday = QDateTime(QDate(2030, 1, 4), QTime(10, 0))
    panel.window_from.setDateTime(friday)
    panel.window_until.setDateTime(friday.addSecs(3600))
    panel.save.click()
    aloop.until(lambda: "Not saved yet" in panel.message.text())
    assert "18:00" in panel.message.text() and panel.isVisible()
    evening = QDateTime(QDate(2030, 1, 4), QTime(19, 0))
    panel.window_from.setDateTime(evening)
    panel.window_until.setDateTime(evening.addSecs(3600))
    panel.save.click()
    aloop.until(lambda: not panel.isVisible())
    with engine.connect() as conn:
        case_id, phone_kind = conn.execute(
            select(Interaction.case_id, CustomerPhone.kind)
            .join(Commitment, Commitment.case_id == Interaction.case_id)
            .join(CustomerPhone, CustomerPhone.id == Commitment.contact_phone_id)
            .where(
                Interaction.call_id == "s2-call",
                Commitment.description == "Call back with the engineer's findings",
            )
        ).one()
    assert phone_kind.value == "work"
    with engine.connect() as conn:
        assert (
            conn.scalar(select(Case.subject).where(Case.id == case_id)) == S2_COVERAGE_CASE_SUBJECT
        )


def test_a_new_case_opens_from_the_wrap_up_with_the_call_in_it(
    window: MainWindow, engine: Engine, aloop: LoopRunner
) -> None:
    from ui.features.calls.widgets import NEW_CASE
    from ui.features.cases.view import CasePanel

    window.calls.handle_call(call_event("020 7946 0018", CallState.RINGING, "s4-new"))
    aloop.until(lambda: (p := _current(window)) is not None and p.data.header.name == "Priya Raman")
    window.calls.handle_call(call_event("020 7946 0018", CallState.ANSWERED, "s4-new"))
    window.calls.handle_call(call_event("020 7946 0018", CallState.ENDED, "s4-new"))
    panel = window.calls.wrap_up
    aloop.until(panel.isVisible)
    panel.case.setCurrentIndex(panel.case.findData(NEW_CASE))
    panel.summary.setPlainText("The watch box arrived crushed")
    panel.save.click()
    aloop.until(
        lambda: window.tabs.new_case_dialog is not None and window.tabs.new_case_dialog.isVisible()
    )
    dialog = window.tabs.new_case_dialog
    assert dialog.description.toPlainText() == "The watch box arrived crushed"
    dialog.subject.setText("Watch box crushed in transit")
    dialog.accept()
    aloop.until(lambda: isinstance(window.tabs.currentWidget(), CasePanel))
    case = window.tabs.currentWidget()
    assert isinstance(case, CasePanel) and case.detail.subject == "Watch box crushed in transit"
    with engine.connect() as conn:
        joined = conn.scalar(select(Interaction.case_id).where(Interaction.call_id == "s4-new"))
    assert joined == case.case_id
