"""The contact dialog's conflict view: both versions shown, nothing lost, the agent decides."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from app.bootstrap import Services, build_services
from app.changes import Change, Changes, Entity
from app.config import load_settings
from app.services.contacts import ContactDetails, ContactService, SavedContact
from tests.conftest import LoopRunner
from tests.factories import add_ada, agent_context


@pytest.fixture
def services(engine: Engine) -> Services:
    return build_services(load_settings(), engine).acting_as(agent_context(engine, "agent-a"))


@pytest.fixture
def contacts(services: Services) -> ContactService:
    return services.contacts


@pytest.fixture
def loaded(engine: Engine, contacts: ContactService) -> SavedContact:
    return contacts.load(add_ada(engine))


@pytest.fixture
def dialog(
    services: Services,
    contacts: ContactService,
    loaded: SavedContact,
    aloop: LoopRunner,
    gui_sql_guard: Any,
    qapp: Any,
) -> Iterator[Any]:
    from ui.bridge import DatabaseBridge
    from ui.features.customer.contact_dialog import ContactDialog

    # The dialog is the only window here: closing it must not stop the loop.
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    bridge = DatabaseBridge()
    gui_sql_guard.attach(contacts._db.engine)
    dialog = ContactDialog(loaded, services, bridge)
    published: list[Changes] = []
    bridge.changed.connect(published.append)
    dialog.published = published  # what its saves told the other views
    dialog.open()
    yield dialog
    gui_sql_guard.detach(contacts._db.engine)
    aloop.until(lambda: bridge.running == 0)
    bridge.shutdown()
    dialog.close()
    dialog.deleteLater()
    bridge.deleteLater()
    aloop.run(asyncio.sleep(0.05))
    qapp.setQuitOnLastWindowClosed(quit_on_close)


def _someone_else_saves(
    contacts: ContactService, loaded: SavedContact, aloop: LoopRunner
) -> SavedContact:
    theirs = ContactDetails("Ada", "Byron", "en", emails=("ada@byron.example",))
    # Another agent's client, on a worker thread (SQL on the GUI thread is refused here).

    def agent_b_saves() -> SavedContact:
        agent_b = agent_context(contacts._db.engine, "agent-b")
        their_contacts = ContactService(contacts._db, "US", agent=agent_b)
        return their_contacts.save(loaded.customer_id, loaded.version, theirs)

    return aloop.run(asyncio.to_thread(agent_b_saves))


def _load(contacts: ContactService, loaded: SavedContact, aloop: LoopRunner) -> SavedContact:
    return aloop.run(asyncio.to_thread(contacts.load, loaded.customer_id))


def test_a_conflict_shows_both_versions_and_keeps_what_was_typed(
    dialog: Any, contacts: ContactService, loaded: SavedContact, aloop: LoopRunner
) -> None:
    theirs = _someone_else_saves(contacts, loaded, aloop)
    saved: list[SavedContact] = []
    dialog.saved.connect(saved.append)
    dialog.first_name.setText("Augusta")
    dialog.submit()
    aloop.until(lambda: dialog.conflict.isVisible())
    assert "Ada Byron" in dialog.theirs_text.text()
    assert "ada@byron.example" in dialog.theirs_text.text()
    assert "Augusta Lovelace" in dialog.mine_text.text()
    assert dialog.first_name.text() == "Augusta"  # what the agent typed is still there
    assert dialog.isVisible() and not saved
    assert _load(contacts, loaded, aloop) == theirs  # nothing overwritten

    dialog.keep_mine.click()
    aloop.until(lambda: bool(saved))
    assert saved[0].details.first_name == "Augusta" and saved[0].version == theirs.version + 1
    assert _load(contacts, loaded, aloop).details.last_name == "Lovelace"
    assert not dialog.isVisible()
    # The save is an operation: the views showing Ada hear of it (the conflict saved nothing).
    customer = loaded.customer_id
    assert dialog.published == [Changes.of(Change(Entity.CUSTOMER, customer, customer))]


def test_using_the_saved_version_fills_the_form_and_saves_on_top_of_it(
    dialog: Any, contacts: ContactService, loaded: SavedContact, aloop: LoopRunner
) -> None:
    theirs = _someone_else_saves(contacts, loaded, aloop)
    dialog.first_name.setText("Augusta")
    dialog.submit()
    aloop.until(lambda: dialog.conflict.isVisible())
    dialog.use_theirs.click()
    assert not dialog.conflict.isVisible()
    assert (dialog.first_name.text(), dialog.last_name.text()) == ("Ada", "Byron")
    assert dialog.emails.toPlainText() == "ada@byron.example"
    # The agent now edits the saved version: no second conflict.
    saved: list[SavedContact] = []
    dialog.saved.connect(saved.append)
    dialog.language.setText("fr")
    dialog.submit()
    aloop.until(lambda: bool(saved))
    assert saved[0].details.preferred_language == "fr"
    assert saved[0].details.last_name == "Byron" and saved[0].version == theirs.version + 1


def test_invalid_input_is_one_message_per_field_in_the_dialog(
    dialog: Any, contacts: ContactService, loaded: SavedContact, aloop: LoopRunner
) -> None:
    dialog.last_name.setText("Love\u202elace")
    dialog.submit()
    aloop.until(lambda: dialog.message.text() not in ("", "Saving…"))
    assert dialog.message.text().startswith("last name: ")
    assert dialog.isVisible() and _load(contacts, loaded, aloop) == loaded
