"""My work in the window's widgets: refreshed by Changes (coalesced), words and colours,
Enter opens the item's case (or its customer); the dial warning offers the allowed number."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget
from sqlalchemy import Engine

from app.changes import Change, Changes, Entity
from app.clock import fixed_clock
from app.contact_rules import Route, RuleCheck, Suggestion
from app.services.my_work import MyWorkService
from models.enums import Channel, CommitmentKind
from tests.conftest import LoopRunner
from tests.test_handoffs import NOW, make_world
from ui.bridge import DatabaseBridge
from ui.features.my_work.panel import URGENCY_COLOURS, MyWorkPanel
from ui.features.work.dial_warning import confirm_dial

pytestmark = pytest.mark.clock  # some dialogs default to times from now


@pytest.fixture
def bridge(qapp: Any) -> Iterator[DatabaseBridge]:
    made = DatabaseBridge()
    yield made
    made.shutdown()


def test_the_panel_refreshes_once_for_a_burst_of_changes(
    sqlite_engine: Engine, aloop: LoopRunner, bridge: DatabaseBridge, qtbot: Any
) -> None:
    w = make_world(sqlite_engine)
    service = MyWorkService(w.services.db, fixed_clock(NOW), agent=w.services.agent, zone=dt.UTC)
    panel = MyWorkPanel(service.items, bridge)
    qtbot.addWidget(panel)
    panel.show()
    panel.refresh()
    aloop.until(lambda: panel.count.text() == "1 item")  # the assigned case
    assert panel.loads == 1
    opened: list[int] = []
    panel.open_customer_requested.connect(opened.append)
    opened_cases: list[int] = []
    panel.open_case_requested.connect(opened_cases.append)

    promise = w.services.commitments.make_commitment(
        w.customer_id,
        w.case_id,
        CommitmentKind.DELIVERY,
        "Ring by Monday",
        None,
        NOW - dt.timedelta(hours=3),
    )
    task = w.services.handoffs.hand_off(w.case_id, w.call_centre, "Call courier", None, NOW)
    # Three changes in a burst (one of them about notes only, not shown): one re-query.
    bridge.publish(Changes.of(Change(Entity.COMMITMENT, promise.id, w.customer_id)))
    bridge.publish(Changes.of(Change(Entity.TASK, task.id, w.customer_id)))
    bridge.publish(Changes.of(Change(Entity.NOTE, 1, w.customer_id)))
    aloop.until(lambda: panel.count.text() == "3 items")
    assert panel.loads == 2
    first = panel.model.index(0, 0)
    assert first.data() == "Overdue 3 h"
    assert first.data(Qt.ItemDataRole.ForegroundRole) == URGENCY_COLOURS[1]
    assert panel.model.index(0, 4).data() == "Promise: Ring by Monday"
    bridge.publish(Changes.of(Change(Entity.NOTE, 2, w.customer_id)))
    aloop.run(asyncio.sleep(0.3))
    assert panel.loads == 2  # nothing it shows changed

    panel.table.setFocus()
    panel.table.selectRow(0)
    qtbot.keyClick(panel.table, Qt.Key.Key_Return)
    assert opened_cases == [w.case_id] and opened == []  # the promise's case
    panel.open_button.click()
    assert opened == [w.customer_id]


def test_the_dial_warning_offers_the_allowed_number(
    qapp: Any, aloop: LoopRunner, qtbot: Any
) -> None:
    check = RuleCheck(
        ("Not the mobile (415) 555-0100: she has no coverage at home",),
        Suggestion(Route(Channel.PHONE, 2, "work (415) 555-0199"), None),
    )

    parent = QWidget()  # a window stays open: closing the last one would quit the loop
    qtbot.addWidget(parent)
    parent.show()

    def answer(button_text: str | None) -> Any:
        async def run() -> str | None:
            pending = asyncio.ensure_future(
                confirm_dial(parent, check, "+14155550100", "+14155550199")
            )
            box: QMessageBox | None = None
            while box is None:
                await asyncio.sleep(0.01)
                box = next(
                    (
                        w
                        for w in qapp.topLevelWidgets()
                        if isinstance(w, QMessageBox) and w.isVisible()
                    ),
                    None,
                )
            assert "no coverage at home" in box.informativeText()
            wanted = next(
                (b for b in box.buttons() if b.text() == button_text),
                box.button(QMessageBox.StandardButton.Cancel),
            )
            wanted.click()
            return await pending

        return aloop.run(run())

    assert answer("Call the work (415) 555-0199") == "+14155550199"
    assert answer("Call anyway") == "+14155550100"
    assert answer(None) is None
    assert aloop.run(confirm_dial(None, RuleCheck((), None), "+1", None)) == "+1"


def test_f4_opens_my_work_in_the_window(window: Any, aloop: LoopRunner) -> None:
    from ui import actions

    assert actions.spec("my_work.show").keys == ("F4",)
    window.menu_actions["my_work.show"].trigger()
    panel = window.my_work.panel
    assert panel is not None and window.tabs.currentWidget() is panel
    aloop.until(lambda: panel.loads >= 1 and panel.count.text() != "")
    assert panel.message.text() in ("", "Nothing waiting for you.")


def test_the_header_never_offers_an_avoided_number_and_the_toast_names_the_promise() -> None:
    import dataclasses

    from app.services import views as v
    from ui.features.calls.controller import promise_alert
    from ui.features.customer.header import contact_text

    mobile = v.PhoneView(1, "+14155550100", "+14155550100", "mobile", True, "(415) 555-0100")
    office = v.PhoneView(2, "+14155550199", "+14155550199", "work", False, "(415) 555-0199")
    avoid = v.ContactPreferenceView(
        "phone", "mobile (415) 555-0100", "every day", "any time", True, "no coverage", 9
    )
    fields = {
        "phones": (mobile, office),
        "preferences": (avoid,),
        "emails": (),
        "do_not_call": False,
    }
    header = type("Header", (), fields)()  # only the fields contact_text reads
    text = contact_text(header)
    assert "mobile: (415) 555-0100  ✖ don't call: no coverage" in text
    assert "(primary)" not in text and "work: (415) 555-0199" in text

    due = dt.datetime(2026, 11, 27, 17, 0, tzinfo=dt.UTC)
    broken = v.CommitmentRow(1, "CS-1", "New ring by Friday", "broken", False, due, None)
    overdue = dataclasses.replace(broken, id=2, status="open", overdue=True, description="Refund")
    assert promise_alert([overdue, broken]).startswith("Broken: New ring by Friday (due ")
    assert promise_alert([overdue]).startswith("Overdue: Refund")
    assert promise_alert([dataclasses.replace(broken, status="kept")]) is None


def test_the_promise_dialog_offers_the_allowed_choice_with_one_click(
    sqlite_engine: Engine, aloop: LoopRunner, bridge: DatabaseBridge, qtbot: Any
) -> None:
    from sqlalchemy import select

    from models.database import Database
    from models.service import Commitment
    from tests.test_commitments import phones_and_preferences
    from ui.features.work.commitment_dialog import CommitmentDialog

    w = make_world(sqlite_engine)
    mobile, office = phones_and_preferences(sqlite_engine, w)
    dialog = CommitmentDialog(
        w.services,
        bridge,
        w.customer_id,
        w.case_id,
        [(mobile, "mobile (415) 555-0100"), (office, "work (415) 555-0199")],
        NOW,
    )
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentIndex(dialog.kind.findData(CommitmentKind.CALLBACK))
    dialog.description.setText("Call back about the ring")
    dialog.channel.setCurrentIndex(dialog.channel.findData(Channel.PHONE))
    dialog.phone.setCurrentIndex(dialog.phone.findData(mobile))
    assert aloop.run(dialog.save()) is None  # warned, nothing saved
    assert "no coverage at home" in dialog.warning.text()
    assert not dialog.use_allowed.isHidden()
    assert dialog.use_allowed.text().startswith("Use the work (415) 555-0199")
    made = aloop.run(dialog.take_suggestion())
    assert made is not None and made.status == "open"
    with Database(sqlite_engine).read() as session:
        saved = session.scalars(select(Commitment)).one()
    assert saved.contact_phone_id == office


def test_the_hand_off_and_task_progress_dialogs_write_the_steps(
    sqlite_engine: Engine, aloop: LoopRunner, bridge: DatabaseBridge, qtbot: Any
) -> None:
    from ui.features.work.handoff_dialog import HandoffDialog
    from ui.features.work.task_dialog import TaskProgressDialog

    w = make_world(sqlite_engine)
    published: list[Changes] = []
    bridge.changed.connect(published.append)
    handoff = HandoffDialog(w.services, bridge, w.case_id, w.services.handoffs.departments(), NOW)
    qtbot.addWidget(handoff)
    handoff.department.setCurrentIndex(handoff.department.findText("Warehouse"))
    handoff.title.setText("Re-engrave the ring")
    task = aloop.run(handoff.save())
    assert task is not None and task.department == "Warehouse"
    assert published[-1].ids(Entity.TASK) == {task.id}
    dialog = TaskProgressDialog(w.services, bridge, task.id, task.version, task.title)
    qtbot.addWidget(dialog)
    assert aloop.run(dialog.run_step("done")) is None  # no outcome typed: refused in words
    assert "outcome" in dialog.error.text()
    dialog.outcome.setPlainText("Re-engraved, sent today")
    done = aloop.run(dialog.run_step("done"))
    assert done.status == "done" and done.outcome == "Re-engraved, sent today"
