"""The new-customer form stops a likely duplicate before saving (S8): a second
"Eleanor Whitfield" with the same e-mail is shown the existing one, and Enter opens it;
"Save as new anyway" saves and puts the pair in the review queue (found_by creation)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import Engine, func, select

from app.bootstrap import Services, build_services
from app.config import load_settings
from app.services.contacts import ContactDetails, PhoneEdit
from models.data_quality import DuplicateCandidate
from models.database import Database
from models.enums import DuplicateFoundBy
from models.people import Customer
from tests.conftest import LoopRunner
from tests.factories import agent_context

EMAIL = "eleanor.whitfield@example.com"


@pytest.fixture
def services(engine: Engine) -> Services:
    return build_services(load_settings(), engine).acting_as(agent_context(engine, "agent-a"))


@pytest.fixture
def eleanor(services: Services) -> int:
    details = ContactDetails(
        "Eleanor", "Whitfield", "en", (PhoneEdit("+1 415 555 0134"),), (EMAIL,)
    )
    return services.contacts.create(details).customer_id


def _count(engine: Engine, aloop: LoopRunner, query: Any) -> int:
    def count() -> int:
        with Database(engine).read() as session:
            return int(session.scalar(query) or 0)

    return int(aloop.run(asyncio.to_thread(count)))


@pytest.fixture
def new_customer(
    services: Services, eleanor: int, aloop: LoopRunner, gui_sql_guard: Any, qapp: Any
) -> Iterator[Any]:
    from ui.bridge import DatabaseBridge
    from ui.features.customer.contact_dialog import ContactDialog, prefilled

    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    bridge = DatabaseBridge()
    gui_sql_guard.attach(services.engine)
    dialog = ContactDialog(prefilled("Eleanor Whitfield"), services, bridge)
    dialog.opened_ids = []
    dialog.open_existing.connect(dialog.opened_ids.append)
    dialog.saved_contacts = []
    dialog.saved.connect(dialog.saved_contacts.append)
    dialog.open()
    yield dialog
    gui_sql_guard.detach(services.engine)
    aloop.until(lambda: bridge.running == 0)
    bridge.shutdown()
    dialog.close()
    dialog.deleteLater()
    bridge.deleteLater()
    aloop.run(asyncio.sleep(0.05))
    qapp.setQuitOnLastWindowClosed(quit_on_close)


def _whitfields(engine: Engine, aloop: LoopRunner) -> int:
    query = select(func.count()).select_from(Customer).where(Customer.last_name == "Whitfield")
    return _count(engine, aloop, query)


def test_a_second_eleanor_with_the_same_email_is_stopped_and_enter_opens_her(
    new_customer: Any, services: Services, eleanor: int, aloop: LoopRunner, qtbot: Any
) -> None:
    new_customer.emails.setPlainText(EMAIL.upper())  # typed another way: still the same
    new_customer.submit()
    aloop.until(lambda: new_customer.duplicates.isVisible())
    assert "Eleanor Whitfield" in new_customer.duplicates.list.item(0).text()
    assert "same e-mail" in new_customer.duplicates.list.item(0).text()
    assert new_customer.duplicates.open_button.isDefault()
    assert _whitfields(services.engine, aloop) == 1  # nothing saved
    qtbot.keyClick(new_customer.duplicates.open_button, Qt.Key.Key_Return)
    aloop.until(lambda: new_customer.opened_ids == [eleanor])
    assert not new_customer.isVisible()
    assert new_customer.saved_contacts == []
    assert _whitfields(services.engine, aloop) == 1


def test_save_as_new_anyway_saves_and_queues_the_pair_for_review(
    new_customer: Any, services: Services, eleanor: int, aloop: LoopRunner, qtbot: Any
) -> None:
    new_customer.emails.setPlainText(EMAIL)
    new_customer.submit()
    aloop.until(lambda: new_customer.duplicates.isVisible())
    qtbot.mouseClick(new_customer.duplicates.save_button, Qt.MouseButton.LeftButton)
    aloop.until(lambda: len(new_customer.saved_contacts) == 1)
    created = new_customer.saved_contacts[0].customer_id
    assert _whitfields(services.engine, aloop) == 2
    query = (
        select(func.count())
        .select_from(DuplicateCandidate)
        .where(
            DuplicateCandidate.customer_a_id == eleanor,
            DuplicateCandidate.customer_b_id == created,
            DuplicateCandidate.found_by == DuplicateFoundBy.CREATION,
        )
    )
    assert _count(services.engine, aloop, query) == 1


def test_someone_new_is_saved_without_a_warning(
    new_customer: Any, services: Services, aloop: LoopRunner
) -> None:
    new_customer.first_name.setText("Thomas")  # her husband: same surname, no match
    new_customer.emails.setPlainText("tom.whitfield@example.net")
    new_customer.submit()
    aloop.until(lambda: len(new_customer.saved_contacts) == 1)
    assert not new_customer.duplicates.isVisible()
    assert _whitfields(services.engine, aloop) == 2
