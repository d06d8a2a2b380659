"""Duplicate customers in the window (ui/features/duplicates): F8 opens the queue, the
pair is shown side by side with the evidence and a choice per field, a merge is played
from the keyboard (Alt+M, Enter), Not a duplicate and Unmerge; no SQL on the GUI
thread (the `window` fixture forbids it)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QRadioButton
from sqlalchemy import Engine, select

from models.data_quality import CustomerMerge, DuplicateCandidate
from models.database import Database
from models.enums import CustomerStatus, DuplicateFoundBy, DuplicateStatus
from models.people import Customer
from tests.conftest import LoopRunner
from ui.features.duplicates.page import DuplicatesPage, kinds_in_words


def _candidate(engine: Engine) -> tuple[int, int, int]:
    """Two customers of the seeded data as a candidate pair: (candidate, a, b)."""
    with Database(engine).write() as session:
        a, b = session.scalars(select(Customer.id).order_by(Customer.id).limit(2)).all()
        candidate = DuplicateCandidate(
            customer_a_id=a,
            customer_b_id=b,
            score=0.91,
            evidence_json='{"phone": 1.0, "name": 0.8}',
            found_by=DuplicateFoundBy.SCAN,
        )
        session.add(candidate)
        session.flush()
        return candidate.id, a, b


def _press(widget: Any, keys: str) -> None:
    combo = QKeySequence(keys)[0]
    QTest.keyClick(widget, combo.key(), combo.keyboardModifiers())


def _open(window: Any, aloop: LoopRunner) -> DuplicatesPage:
    window.activateWindow()
    aloop.until(lambda: QApplication.activeWindow() is window)
    _press(window, "F8")
    page = window.duplicates
    assert isinstance(page, DuplicatesPage) and window.tabs.currentWidget() is page
    aloop.until(lambda: page.preview is not None and window.bridge.running == 0)
    return page


def _confirm(aloop: LoopRunner, page: DuplicatesPage) -> QMessageBox:
    box = aloop.run(page.wait_confirmation(), 5)
    aloop.until(box.isVisible, 5)
    return box


def test_a_merge_played_from_the_keyboard_and_undone(
    window: Any, engine: Engine, aloop: LoopRunner, qtbot: Any
) -> None:
    candidate_id, a, b = _candidate(engine)
    page = _open(window, aloop)
    assert page.model.rowCount() == 1
    preview = page.preview
    assert preview is not None and preview.candidate_id == candidate_id
    assert (preview.a.id, preview.b.id) == (a, b)
    assert page.evidence.text() == "Evidence: 91% alike; matched on phone 100%, name 80%"
    # The agent takes B's first name (when the two differ) by clicking it.
    take_b = page.compare.findChild(QRadioButton, f"first_name-{b}")
    assert take_b is not None
    took_b = take_b.isEnabled()  # the names differ
    if took_b:
        take_b.click()
    plan = page.plan()
    assert plan is not None
    survivor, merged, choices = plan
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    box = _confirm(aloop, page)
    names = {preview.a.id: preview.a.name, preview.b.id: preview.b.name}
    assert box.text() == (
        f"Merge {names[merged]} (#{merged}) into {names[survivor]} (#{survivor})?"
    )
    sides = {preview.a.id: preview.a, preview.b.id: preview.b}
    assert kinds_in_words(sides[merged].counts) in box.informativeText()
    qtbot.keyClick(box, Qt.Key.Key_Return)  # Enter confirms
    aloop.until(lambda: page.done and window.bridge.running == 0, 10)
    assert page.outcome.text().startswith(f"Merged #{merged} into #{survivor}")
    aloop.until(lambda: page.model.rowCount() == 0 and page.merges.rowCount() == 1, 5)
    with Database(engine).read() as session:
        gone = session.get_one(Customer, merged)
        assert gone.status == CustomerStatus.MERGED and gone.merged_into_id == survivor
        if took_b and survivor != b:
            assert choices["first_name"] == b
            kept = session.get_one(Customer, survivor)
            assert kept.first_name == session.get_one(Customer, b).first_name
        assert session.get_one(DuplicateCandidate, candidate_id).status == DuplicateStatus.MERGED

    # Unmerge from the keyboard: the recent merge selected, Alt+U (the window active
    # again now the confirmation is gone).
    window.activateWindow()
    aloop.until(lambda: QApplication.activeWindow() is window)
    page.merge_table.setFocus()
    page.merge_table.selectRow(0)
    qtbot.keyClick(page.merge_table, Qt.Key.Key_U, Qt.KeyboardModifier.AltModifier)
    aloop.until(lambda: len(page.done) == 2 and window.bridge.running == 0, 10)
    assert page.outcome.text().startswith("Unmerged:")
    with Database(engine).read() as session:
        assert session.get_one(Customer, merged).status == CustomerStatus.ACTIVE
        merge = session.scalars(select(CustomerMerge)).one()
        assert merge.unmerged_at is not None
    aloop.until(lambda: page.model.rowCount() == 1, 5)  # the pair is back in the queue


def test_not_a_duplicate_leaves_the_queue_for_good(
    window: Any, engine: Engine, aloop: LoopRunner, qtbot: Any
) -> None:
    candidate_id, _a, _b = _candidate(engine)
    page = _open(window, aloop)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    aloop.until(lambda: page.done and window.bridge.running == 0, 10)
    assert page.outcome.text().endswith("not the same person, noted.")
    aloop.until(lambda: page.model.rowCount() == 0, 5)
    assert page.preview is None
    with Database(engine).read() as session:
        assert session.get_one(DuplicateCandidate, candidate_id).status == DuplicateStatus.DISMISSED


def test_a_stale_pair_is_refused_in_red_and_read_again(
    window: Any, engine: Engine, aloop: LoopRunner, qtbot: Any
) -> None:
    _candidate_id, a, _b = _candidate(engine)
    page = _open(window, aloop)
    with Database(engine).write() as session:  # another agent edits A meanwhile
        session.get_one(Customer, a).segment = "edited elsewhere"
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(_confirm(aloop, page), Qt.Key.Key_Return)
    aloop.until(lambda: "changed by someone else" in page.outcome.text(), 10)
    aloop.until(lambda: window.bridge.running == 0)
    assert page.preview is not None
    assert page.preview.a.values["segment"] == "edited elsewhere"  # read again
    with Database(engine).read() as session:
        assert session.scalars(select(CustomerMerge)).first() is None


def test_a_staged_caller_is_identified_from_their_tab(
    window: Any, engine: Engine, aloop: LoopRunner, qtbot: Any
) -> None:
    import datetime as dt

    from models.enums import Channel, Direction, InteractionOutcome
    from models.service import Interaction
    from ui.features.customer.panel import CustomerPanel

    with Database(engine).write() as session:
        real = session.scalars(select(Customer).order_by(Customer.id).limit(1)).one()
        real_id, real_name = real.id, real.display_name
        staged = Customer(
            first_name="Unknown",
            last_name="caller",
            search_name="unknown caller",
            customer_since=dt.date(2026, 12, 3),
            status=CustomerStatus.STAGED,
        )
        session.add(staged)
        session.flush()
        call = Interaction(
            customer_id=staged.id,
            channel=Channel.PHONE,
            direction=Direction.INBOUND,
            outcome=InteractionOutcome.COMPLETED,
            started_at=dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC),
            call_id="staged-1",
            call_source="test",
        )
        session.add(call)
        session.flush()
        staged_id, call_id = staged.id, call.id
    panel = aloop.run(window.tabs.load_customer(staged_id))
    assert isinstance(panel, CustomerPanel)
    panel.show_notes()  # a note half written when the caller is identified moves with them
    aloop.until(lambda: not panel.note_editor.isReadOnly(), 5)  # its draft was looked for
    qtbot.keyClicks(panel.note_editor, "Asked about the blue kettle")
    assert panel.note_editor.toPlainText() == "Asked about the blue kettle"
    panel.identify_button.click()
    dialog = panel.identify_dialog
    aloop.until(dialog.isVisible, 5)
    qtbot.keyClicks(dialog.box, real_name)
    qtbot.keyClick(dialog.box, Qt.Key.Key_Return)
    aloop.until(lambda: dialog.results.count() >= 1 and window.bridge.running == 0, 10)
    assert f"(#{real_id})" in dialog.results.item(0).text()
    assert all(
        f"(#{staged_id})" not in dialog.results.item(n).text()
        for n in range(dialog.results.count())
    )
    dialog.ok.click()
    aloop.until(lambda: window.tabs.panel_of(real_id) is not None, 10)
    # The staged record's tab gives way to the customer's: one tab, not two.
    aloop.until(lambda: window.tabs.panel_of(staged_id) is None, 10)
    assert [p.customer_id for p in window.tabs.panels()].count(real_id) == 1
    survivor = window.tabs.panel_of(real_id)
    assert window.tabs.currentWidget() is survivor
    survivor.show_notes()
    aloop.until(lambda: survivor.note_editor.toPlainText() == "Asked about the blue kettle", 10)
    with Database(engine).read() as session:
        gone = session.get_one(Customer, staged_id)
        assert gone.status == CustomerStatus.MERGED and gone.merged_into_id == real_id
        assert session.get_one(Interaction, call_id).customer_id == real_id
