"""The case tab in the running window (both databases, SQL on the GUI thread forbidden):
opened from the customer's cases, an internal note added and shown as internal, the note
being typed kept as a draft, and "New case" from an order line."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import Engine

from app.changes import Change, Changes, Entity
from app.services.cases import FieldConflict
from models.seed.story_customers import S4_COMPLAINT_SUBJECT, S4_ENGRAVING
from tests.conftest import LoopRunner
from tests.factories import agent_context
from ui.features.cases.dialogs import ConflictDialog, NewCaseDialog
from ui.features.cases.timeline import INTERNAL_TINT
from ui.features.cases.view import CasePanel
from ui.features.customer.panel import CustomerPanel
from ui.shell.main_window import MainWindow

pytestmark = pytest.mark.clock  # the window's demo data is seeded relative to now


def _priya(window: Any, aloop: LoopRunner) -> CustomerPanel:
    assert window.services is not None
    hits = aloop.run(window.bridge.run(window.services.search.search, "Priya Raman"))
    panel = aloop.run(window.tabs.load_customer(hits[0].customer_id))
    assert isinstance(panel, CustomerPanel)
    return panel


def test_a_case_opens_from_the_customer_and_takes_an_internal_note(
    window: MainWindow, aloop: LoopRunner, qtbot: Any
) -> None:
    customer = _priya(window, aloop)
    cases = customer.cases
    row = next(i for i, c in enumerate(cases.model.rows) if c.subject == S4_COMPLAINT_SUBJECT)
    cases.table.selectRow(row)
    cases.open_button.click()  # as Enter on the row does
    aloop.until(lambda: isinstance(window.tabs.currentWidget(), CasePanel))
    tab = window.tabs.currentWidget()
    assert isinstance(tab, CasePanel)
    assert tab.reference.text().startswith("CS-") and tab.detail.subject == S4_COMPLAINT_SUBJECT
    assert window.tabs.tabText(window.tabs.currentIndex()) == tab.detail.reference
    assert S4_ENGRAVING[:5] in tab.about.text() or "Order" in tab.about.text()
    # Opening it again focuses the same tab.
    cases.open_button.click()
    aloop.until(lambda: window.bridge.running == 0)
    assert len(window.tabs.case_panels()) == 1
    # The note: typed, kept as a draft, saved as internal, shown tinted and labelled.
    aloop.until(lambda: not tab.note_box.editor.isReadOnly())
    assert tab.note_box.internal.isChecked()  # the safe default
    tab.note_box.editor.setFocus()
    tab.note_box.editor.setPlainText("Warehouse: engraver back Monday")
    tab.keep_draft_now()
    window.drafts.flush(5)
    key = tab.note_box._draft_key
    draft = window.drafts.get(key)
    assert draft is not None and draft.text == "Warehouse: engraver back Monday"
    assert draft.extra == {"audience": "internal"}
    before = len(tab.timeline_model.rows)
    qtbot.keyClick(tab.note_box.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    aloop.until(lambda: len(tab.timeline_model.rows) == before + 1)
    entry = next(e for e in tab.timeline_model.rows if e.text == "Warehouse: engraver back Monday")
    assert entry.internal and entry.kind == "Internal note"
    index = tab.timeline_model.index(tab.timeline_model.rows.index(entry), 3)
    assert tab.timeline_model.data(index) == "Internal"
    assert tab.timeline_model.data(index, Qt.ItemDataRole.BackgroundRole) == INTERNAL_TINT
    assert tab.note_box.editor.toPlainText() == ""
    window.drafts.flush(5)
    assert window.drafts.get(key) is None
    # The status menu offers only what the workflow allows from here.
    offered = [a.data() for a in tab.status_menu.actions()]
    assert offered == [to for to, _words in tab.detail.allowed_steps]
    assert tab.detail.status not in offered
    window.tabs.close_tab(window.tabs.currentIndex())
    assert window.tabs.case_panels() == []


def test_another_agents_change_refreshes_the_case_in_place(
    window: MainWindow, aloop: LoopRunner
) -> None:
    customer = _priya(window, aloop)
    case_id = next(c.id for c in customer.data.cases if c.subject == S4_COMPLAINT_SUBJECT)
    window.tabs.open_case(case_id)
    aloop.until(lambda: window.tabs.case_panel_of(case_id) is not None)
    tab = window.tabs.case_panel_of(case_id)
    assert tab is not None
    tab.note_box.editor.setPlainText("half typed")
    services = window.services
    assert services is not None
    aloop.run(window.bridge.run(services.cases.add_note, case_id, "Told her Friday", False))
    window.bridge.publish(Changes.of(Change(Entity.CASE, case_id, customer.customer_id)))
    aloop.until(lambda: any(e.text == "Told her Friday" for e in tab.timeline_model.rows))
    told = next(e for e in tab.timeline_model.rows if e.text == "Told her Friday")
    assert not told.internal
    assert tab.note_box.editor.toPlainText() == "half typed"  # the refresh left it alone


def test_new_case_from_an_order_line_links_the_line(window: MainWindow, aloop: LoopRunner) -> None:
    customer = _priya(window, aloop)
    orders = customer.orders
    aloop.until(lambda: bool(orders.lines_model.rows))
    orders.new_case_button.click()
    aloop.until(lambda: window.tabs.new_case_dialog is not None)
    dialog = window.tabs.new_case_dialog
    assert isinstance(dialog, NewCaseDialog)
    assert dialog.line.currentData() is not None  # the line chosen is preselected
    dialog.subject.setText("Strap broke")
    line_id = dialog.line.currentData()
    dialog.accept()
    aloop.until(
        lambda: (
            isinstance(window.tabs.currentWidget(), CasePanel)
            and window.tabs.currentWidget().detail.subject == "Strap broke"
        )
    )
    tab = window.tabs.currentWidget()
    assert isinstance(tab, CasePanel)
    assert tab.detail.order_line_id == line_id
    assert tab.detail.order_text and "line" in tab.detail.order_text


def test_the_conflict_dialog_lets_the_agent_choose_per_field(qtbot: Any) -> None:
    dialog = ConflictDialog(
        "CS-26-000001",
        (
            FieldConflict("subject", "Mine", "Theirs", "Base"),
            FieldConflict("priority", "urgent", "high", "normal"),
        ),
    )
    qtbot.addWidget(dialog)
    assert dialog.chosen() == {}  # theirs is kept unless the agent says otherwise
    dialog.choose("subject", mine=True)
    assert dialog.chosen() == {"subject": "Mine"}


def test_an_edit_that_meets_another_agents_shows_both_and_saves_the_choice(
    window: MainWindow, aloop: LoopRunner
) -> None:
    customer = _priya(window, aloop)
    case_id = next(c.id for c in customer.data.cases if c.subject == S4_COMPLAINT_SUBJECT)
    window.tabs.open_case(case_id)
    aloop.until(lambda: window.tabs.case_panel_of(case_id) is not None)
    tab = window.tabs.case_panel_of(case_id)
    assert tab is not None
    services = window.services
    assert services is not None
    loaded = tab.detail
    tab.subject_edit.setText("Mine: wrong name engraved")
    # Meanwhile another agent saves another subject (no change record reaches us yet).
    aloop.run(
        window.bridge.run(
            services.cases.edit,
            case_id,
            loaded.version,
            {"subject": "Theirs: engraving typo"},
            loaded.base(),
        )
    )
    tab.save_button.click()
    aloop.until(lambda: getattr(tab, "conflict_dialog", None) is not None)
    dialog = tab.conflict_dialog
    assert isinstance(dialog, ConflictDialog) and dialog.isVisible()
    dialog.choose("subject", mine=True)
    dialog.accept()
    aloop.until(lambda: tab.detail.subject == "Mine: wrong name engraved")
    edits = [e for e in tab.detail.timeline if e.kind == "Edited"]
    assert len(edits) == 2  # theirs and then mine, both on the record


def test_the_case_tab_hands_off_promises_and_shows_who_else_is_there(
    window: MainWindow, engine: Engine, aloop: LoopRunner
) -> None:
    """S4 from the case tab: hand the watch to the warehouse, promise the delivery; the
    presence bar and the macros are there."""
    assert window.services is not None
    window.connection.use(window.services.acting_as(agent_context(engine, "agent01")))
    customer = _priya(window, aloop)
    cases = customer.cases
    row = next(i for i, c in enumerate(cases.model.rows) if c.subject == S4_COMPLAINT_SUBJECT)
    cases.table.selectRow(row)
    cases.open_button.click()
    aloop.until(lambda: isinstance(window.tabs.currentWidget(), CasePanel))
    tab = window.tabs.currentWidget()
    assert isinstance(tab, CasePanel)
    aloop.until(lambda: tab.presence.beats >= 1)  # the first heartbeat came back
    assert tab.presence_bar.alone.isVisible()  # nobody else has it open
    aloop.until(lambda: tab.macros.loaded)
    assert tab.macros.list.count() >= 1
    # Hand off to the warehouse: a task on the case, on its timeline.
    tab.handoff_button.click()
    aloop.until(lambda: getattr(tab, "dialog", None) is not None and tab.dialog.isVisible())
    handoff = tab.dialog
    handoff.department.setCurrentIndex(handoff.department.findText("Warehouse"))
    handoff.title.setText("Re-engrave: Priya & Kevin 10 years")
    before = len(tab.timeline_model.rows)
    assert aloop.run(handoff.save()) is not None  # as its Save button does
    aloop.until(lambda: len(tab.timeline_model.rows) > before)
    assert any("Re-engrave" in e.text for e in tab.timeline_model.rows)
    assert tab.detail.open_tasks == 1
    # A promise: the dialog lists her numbers.
    tab.promise_button.click()
    aloop.until(lambda: tab.dialog is not handoff and tab.dialog.isVisible())
    promise = tab.dialog
    assert promise.phone.count() >= 1
    promise.reject()
    window.tabs.close_tab(window.tabs.currentIndex())
    assert not tab.presence.running
