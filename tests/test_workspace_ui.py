"""The main window on real databases: search, tabs, the customer view, notes.

Every database call must run off the GUI thread: the SQL guard fails the test otherwise.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import Engine, select

from models.people import CustomerNote
from models.seed.story_customers import S1_REFILL_SKU, S4_ENGRAVING, STORY_CUSTOMERS
from tests.conftest import LoopRunner
from ui.features.customer.panel import CustomerPanel
from ui.shell.main_window import MainWindow


def _search(window: MainWindow, aloop: LoopRunner, qtbot: Any, text: str) -> list[Any]:
    window.search.box.clear()
    qtbot.keyClicks(window.search.box, text)
    aloop.until(
        lambda: window.search.model.rowCount() > 0 or "No customer" in window.search.status.text()
    )
    return window.search.model.rows


def _open_by_enter(window: MainWindow, aloop: LoopRunner, qtbot: Any, name: str) -> CustomerPanel:
    qtbot.keyClick(window.search.box, Qt.Key.Key_Return)
    aloop.until(
        lambda: (
            isinstance(window.tabs.currentWidget(), CustomerPanel)
            and window.tabs.currentWidget().data.header.name == name
        )
    )
    panel = window.tabs.currentWidget()
    assert isinstance(panel, CustomerPanel)
    aloop.until(lambda: panel.fully_built)  # the sections after the Overview follow
    return panel


def test_find_by_phone_in_another_format_and_open(
    window: MainWindow, aloop: LoopRunner, qtbot: Any
) -> None:
    s1 = STORY_CUSTOMERS["S1"]
    hits = _search(window, aloop, qtbot, "+1 415.555.0134")
    assert hits[0].name == "Eleanor Whitfield"
    assert hits[0].matched_on == "phone"
    panel = _open_by_enter(window, aloop, qtbot, f"{s1.first_name} {s1.last_name}")
    # Her purchase history with dates, and the perfume she re-buys about every 90 days.
    assert panel.orders_model.rowCount() >= 25
    perfume = next(b for b in panel.overview.last_bought_model.rows if b.sku == S1_REFILL_SKU)
    assert perfume.average_days_between is not None and 84 <= perfume.average_days_between <= 96


def test_misspelt_name_finds_the_customer(
    window: MainWindow, aloop: LoopRunner, qtbot: Any
) -> None:
    hits = _search(window, aloop, qtbot, "Sandra Kowalsky")
    assert hits[0].name == "Sandra Kowalski"
    panel = _open_by_enter(window, aloop, qtbot, "Sandra Kowalski")
    assert panel.data.header.broken_commitments == 2
    assert any(p.avoid for p in panel.data.header.preferences)
    assert "broken" in panel.header.alerts_label.text()


def test_order_number_opens_the_engraved_line(
    window: MainWindow, aloop: LoopRunner, qtbot: Any
) -> None:
    hits = _search(window, aloop, qtbot, "r20240417")
    assert [h.name for h in hits] == ["Priya Raman"]
    panel = _open_by_enter(window, aloop, qtbot, "Priya Raman")
    row = next(i for i, o in enumerate(panel.orders_model.rows) if o.number == "R20240417")
    panel.orders_table.selectRow(row)
    aloop.until(
        lambda: any(line.personalisation == S4_ENGRAVING for line in panel.orders.lines_model.rows)
    )
    kevin = [k for k in panel.data.key_dates if "Kevin" in k.whose]
    assert kevin and kevin[0].days_until == 2


def test_tabs_focus_close_and_reopen(window: MainWindow, aloop: LoopRunner, qtbot: Any) -> None:
    names = []
    for key in ("S1", "S2", "S4"):
        story = STORY_CUSTOMERS[key]
        _search(window, aloop, qtbot, story.email)
        names.append(
            _open_by_enter(
                window, aloop, qtbot, f"{story.first_name} {story.last_name}"
            ).data.header.name
        )
    assert window.tabs.count() == 3
    # Opening one already open focuses it instead of opening it twice.
    _search(window, aloop, qtbot, STORY_CUSTOMERS["S1"].phone_raw)
    _open_by_enter(window, aloop, qtbot, names[0])
    assert window.tabs.count() == 3 and window.tabs.currentIndex() == 0
    qtbot.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.count() == 2
    qtbot.keyClick(
        window,
        Qt.Key.Key_T,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    aloop.until(lambda: window.tabs.count() == 3)
    assert window.tabs.tabText(window.tabs.currentIndex()) == names[0]


def test_add_a_note_from_the_keyboard(
    window: MainWindow, engine: Engine, aloop: LoopRunner, qtbot: Any
) -> None:
    _search(window, aloop, qtbot, "Eleanor")
    panel = _open_by_enter(window, aloop, qtbot, "Eleanor Whitfield")
    panel.sections.setCurrentIndex(5)
    text = "<b>Prefers</b> samples of the new line"
    panel.note_editor.setFocus()  # Ctrl+Enter saves the note being typed in, nothing else
    aloop.until(panel.note_editor.hasFocus)
    qtbot.keyClicks(panel.note_editor, text)
    qtbot.keyClick(panel.note_editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    aloop.until(lambda: panel.note_status.text() == "Note saved.")
    assert panel.note_editor.toPlainText() == ""
    assert panel.notes.model.rows[0].body == text  # kept as typed, shown as plain text
    with engine.connect() as conn:
        saved = conn.scalars(
            select(CustomerNote.body).where(CustomerNote.customer_id == panel.customer_id)
        ).all()
    assert text in saved


def test_no_result_says_so(window: MainWindow, aloop: LoopRunner, qtbot: Any) -> None:
    assert _search(window, aloop, qtbot, "zzqxj") == []
    assert "No customer matches" in window.search.status.text()


def test_models_pass_the_model_tester(
    window: MainWindow, aloop: LoopRunner, qtbot: Any, qtmodeltester: Any
) -> None:
    _search(window, aloop, qtbot, "Priya Raman")
    panel = _open_by_enter(window, aloop, qtbot, "Priya Raman")
    for model in (
        window.search.model,
        panel.orders_model,
        panel.timeline.model,
        panel.overview.key_dates_model,
        panel.overview.promises_model,
        panel.orders.lines_model,
    ):
        qtmodeltester.check(model, force_py=True)


# Builds every section of a seeded customer (key dates, tenure, promises): at any hour.
@pytest.mark.clock
def test_only_the_overview_is_built_before_the_first_paint(
    window: MainWindow, aloop: LoopRunner
) -> None:
    assert window.services is not None
    customer_id = aloop.run(window.bridge.run(window.services.customers.first_customer_id))
    assert customer_id is not None
    data = aloop.run(window.bridge.run(window.services.customers.load_customer, customer_id))
    panel = window.tabs.make_panel(data)
    assert not panel.fully_built and not panel.is_built(3)  # the Timeline
    panel.sections.setCurrentIndex(3)  # shown: built at once
    assert panel.timeline.model.rowCount() == len(data.timeline)
    aloop.until(lambda: panel.fully_built)  # the rest, one per event-loop turn
    assert panel.notes.model.rowCount() == len(data.notes)
    panel.deleteLater()


def test_a_closed_customer_tab_is_freed(window: MainWindow, aloop: LoopRunner) -> None:
    """Closed before its sections were all built, a panel must not stay in memory."""
    assert window.services is not None
    customer_id = aloop.run(window.bridge.run(window.services.customers.first_customer_id))
    data = aloop.run(window.bridge.run(window.services.customers.load_customer, customer_id))
    panel = window.tabs.show_customer(data)
    freed = weakref.ref(panel)
    assert not panel.fully_built
    window.tabs.close_tab(window.tabs.indexOf(panel))
    del panel

    def gone() -> bool:
        gc.collect()
        return freed() is None

    aloop.until(gone, timeout=5)
