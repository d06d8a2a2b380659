"""An open customer tab keeps up with what changes, on both databases, without a reload.

A `Changes` record published on the bridge (by an operation run here, or by the change
bus for another agent's commit) reaches the tab as the shell's tab router delivers it.
The tab re-queries only for its own customer, once per burst, and updates in place only
what changed: the header, the sections and the note being typed stay the same objects
with the same contents. Another agent's write is made on a worker thread, as it would
be made in another process; SQL on the GUI thread fails these tests.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from app.changes import Change, Changes, Entity
from app.operations import customers as customer_ops
from tests.conftest import LoopRunner, without_change_feed
from tests.factories import agent_context
from ui.features.customer.controller import COALESCE_MS, Part
from ui.features.customer.panel import CustomerPanel
from ui.shell.main_window import MainWindow

NOTES = 5  # the Notes section's index


def _customer_id(window: MainWindow, aloop: LoopRunner, name: str) -> int:
    assert window.services is not None
    hits = aloop.run(window.bridge.run(window.services.search.search, name))
    return int(hits[0].customer_id)


@pytest.fixture
def eleanor(window: MainWindow, aloop: LoopRunner) -> Iterator[CustomerPanel]:
    """Eleanor's tab, every section built, wired to the bridge as the shell wires a tab."""
    without_change_feed(window, aloop)  # the changes come from these tests alone
    services = window.services
    assert services is not None
    data = aloop.run(
        window.bridge.run(
            services.customers.load_customer, _customer_id(window, aloop, "Eleanor Whitfield")
        )
    )
    panel = CustomerPanel(data, services, window.bridge, drafts=window.drafts)
    window.bridge.changed.connect(panel.apply_changes)
    panel.resize(1366, 700)
    panel.show()
    panel.ensure_all_sections()
    aloop.until(lambda: not panel.note_editor.isReadOnly())  # its draft was looked up
    # The suggestions' first read follows the first paint on a timer of its own: in,
    # before a test counts what a change costs.
    aloop.until(lambda: panel.suggestions.ready and not window.bridge.running)
    yield panel
    window.bridge.changed.disconnect(panel.apply_changes)
    aloop.until(lambda: not panel.controller.scheduled and not window.bridge.running)
    panel.close()
    panel.deleteLater()


class Statements:
    """Counts the SQL statements an engine runs (on any thread)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


@pytest.fixture
def statements(window: MainWindow) -> Iterator[Statements]:
    assert window.services is not None
    counter = Statements(window.services.engine)
    yield counter
    counter.close()


def _elsewhere(aloop: LoopRunner, fn: Any, *args: Any) -> Any:
    """Another agent's write: off the GUI thread, and nothing published by it here."""
    return aloop.run(asyncio.to_thread(fn, *args))


def _resets(model: Any) -> list[int]:
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))
    return resets


def _first_note(panel: CustomerPanel) -> str | None:
    rows = panel.notes.model.rows
    return rows[0].body if rows else None


def _past_the_coalescing(aloop: LoopRunner) -> None:
    aloop.run(asyncio.sleep(3 * COALESCE_MS / 1000))


def test_a_note_from_elsewhere_refreshes_the_notes_in_place_and_keeps_what_is_typed(
    window: MainWindow, eleanor: CustomerPanel, aloop: LoopRunner, qtbot: Any
) -> None:
    services = window.services
    assert services is not None
    panel = eleanor
    panel.sections.setCurrentIndex(NOTES)
    qtbot.keyClicks(panel.note_editor, "Half-typed: wants the refill")
    panel.keep_draft_now()
    key = panel.notes.client_key
    header, orders, notes = panel.header, panel.orders, panel.notes
    name_label, orders_resets = header.name_label, _resets(panel.orders_model)
    draft = services.agent.note_draft(panel.customer_id)
    aloop.until(lambda: window.drafts.get(draft) is not None)

    done = _elsewhere(
        aloop, customer_ops.add_note, services, panel.customer_id, "From desk 2", None
    )
    window.bridge.publish(done.changes)  # as the change bus hands it on
    aloop.until(lambda: _first_note(panel) == "From desk 2")

    assert panel.controller.queries == 1
    assert panel.header is header and header.name_label is name_label
    assert panel.orders is orders and panel.notes is notes and not orders_resets
    assert panel.sections.currentIndex() == NOTES
    assert panel.note_editor.toPlainText() == "Half-typed: wants the refill"
    assert panel.notes.client_key == key  # the note being written is the same note
    assert window.drafts.flush(10) and window.drafts.get(draft) is not None


def test_changes_of_another_customer_or_of_what_the_tab_does_not_show_query_nothing(
    window: MainWindow, eleanor: CustomerPanel, aloop: LoopRunner, statements: Statements
) -> None:
    other = _customer_id(window, aloop, "Sandra Kowalski")
    assert other not in {r.customer_id for r in eleanor.data.relations}
    mine = eleanor.customer_id
    aloop.until(lambda: not window.bridge.running)  # the tab's own first reads
    statements.count = 0
    window.bridge.publish(
        Changes.of(
            Change(Entity.CUSTOMER, other, other),
            Change(Entity.NOTE, 1, other),
            Change(Entity.ORDER, 2, other),
            Change(Entity.INTERACTION, 3, None),  # an unknown caller's call
            Change(Entity.TASK, 4, mine),  # no part of the tab shows tasks
        )
    )
    assert not eleanor.controller.scheduled
    _past_the_coalescing(aloop)
    assert statements.count == 0 and eleanor.controller.queries == 0


def test_everything_refreshes_every_part_and_a_burst_is_one_query(
    window: MainWindow, eleanor: CustomerPanel, aloop: LoopRunner
) -> None:
    services = window.services
    assert services is not None
    panel = eleanor
    header, timeline = panel.header, panel.timeline
    loaded = _elsewhere(aloop, services.contacts.load, panel.customer_id)
    renamed = dataclasses.replace(loaded.details, first_name="Nora")
    desk_b = services.acting_as(_elsewhere(aloop, agent_context, services.engine, "b"))
    _elsewhere(aloop, desk_b.contacts.save, panel.customer_id, loaded.version, renamed)
    _elsewhere(aloop, desk_b.notes.add_note, panel.customer_id, "Missed meanwhile", None)
    titles: list[str] = []
    panel.title_changed.connect(titles.append)
    # Three records in a row (a reconnect's "re-query all", then two more): one query.
    window.bridge.publish(Changes.all())
    window.bridge.publish(Changes.of(Change(Entity.NOTE, 1, panel.customer_id)))
    window.bridge.publish(Changes.of(Change(Entity.ORDER, 1, panel.customer_id)))
    aloop.until(lambda: panel.header.name_label.text() == "Nora Whitfield")
    aloop.until(lambda: not panel.controller.scheduled)
    assert panel.controller.queries == 1
    assert _first_note(panel) == "Missed meanwhile"
    assert panel.data.header.name == "Nora Whitfield" and titles == ["Nora Whitfield"]
    assert panel.header is header and panel.timeline is timeline


def test_a_hidden_tab_catches_up_when_shown(
    window: MainWindow, eleanor: CustomerPanel, aloop: LoopRunner, statements: Statements
) -> None:
    services = window.services
    assert services is not None
    eleanor.hide()
    done = _elsewhere(aloop, customer_ops.add_note, services, eleanor.customer_id, "Later", None)
    aloop.until(lambda: not window.bridge.running)
    statements.count = 0
    window.bridge.publish(done.changes)
    _past_the_coalescing(aloop)
    # A note may change what is suggested (a welcome offer): the Suggested part too.
    assert statements.count == 0
    assert eleanor.controller.pending == {Part.NOTES, Part.SUGGESTIONS}
    eleanor.show()
    aloop.until(lambda: _first_note(eleanor) == "Later")
    assert eleanor.controller.queries == 1


def test_a_contact_edited_in_the_dialog_refreshes_the_header_in_place(
    window: MainWindow, eleanor: CustomerPanel, aloop: LoopRunner
) -> None:
    panel = eleanor
    header, name_label = panel.header, panel.header.name_label
    notes_resets = _resets(panel.notes.model)
    panel.edit_contact()
    aloop.until(lambda: getattr(panel, "contact_dialog", None) is not None)
    dialog = panel.contact_dialog
    aloop.until(dialog.isVisible)
    dialog.first_name.setText("Ellie")
    dialog.phone_edits[2][0].setText("+1 415 555 0199")
    dialog.submit()
    aloop.until(lambda: name_label.text() == "Ellie Whitfield")
    aloop.until(lambda: "(415) 555-0199" in header.contact_label.text())
    assert panel.header is header and header.name_label is name_label
    assert not notes_resets  # the notes were not what changed
    assert panel.data.header.name == "Ellie Whitfield"
