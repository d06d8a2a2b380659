"""Operations: each write returns what it changed, entity and ids, for the views to refresh."""

from __future__ import annotations

from sqlalchemy import Engine

from app.bootstrap import build_services
from app.changes import Change, Changes, Entity
from app.config import load_settings
from app.operations import calls as call_ops
from app.operations import customers as customer_ops
from app.services.contacts import ContactDetails
from app.telephony.events import CallState
from models.people import Department
from tests.factories import add_ada, call_event


def test_customer_writes_name_the_customer_and_the_note(engine: Engine) -> None:
    services = build_services(load_settings(), engine)
    ada = add_ada(engine)
    note = customer_ops.add_note(services, ada, "Prefers e-mail", None)
    assert note.changes == Changes.of(Change(Entity.NOTE, note.value.id, ada))
    loaded = services.contacts.load(ada)
    saved = customer_ops.save_contact(services, ada, loaded.version, loaded.details)
    assert saved.changes == Changes.of(Change(Entity.CUSTOMER, ada, ada))
    created = customer_ops.create_customer(
        services, ContactDetails(first_name="Grace", last_name="Hopper", preferred_language="en")
    )
    new_id = created.value.customer_id
    assert created.changes == Changes.of(Change(Entity.CUSTOMER, new_id, new_id))


def test_a_missed_call_changes_the_call_and_makes_a_callback_task(engine: Engine) -> None:
    services = build_services(load_settings(), engine)
    with services.db.write() as session:
        session.add(Department(code="call_centre", name="Call centre"))  # where callbacks go
    ended = call_ops.end_call(services, call_event("+1 202 555 0123", CallState.ENDED, "m-1"), None)
    record = ended.value
    assert record.callback_task_id is not None
    assert ended.changes.ids(Entity.INTERACTION) == {record.interaction_id}
    assert ended.changes.ids(Entity.TASK) == {record.callback_task_id}
    assert ended.changes.touches([Entity.TASK]) and not ended.changes.touches([Entity.NOTE])
    dialled = call_ops.record_dial(services, "+1 202 555 0123", None, None, record.callback_task_id)
    assert dialled.changes.ids(Entity.TASK) == {record.callback_task_id}


def test_changes_merge_and_answer_whose_they_are() -> None:
    a = Changes.of(Change(Entity.NOTE, 1, 10))
    b = Changes.of(Change(Entity.INTERACTION, 2, 11))
    both = a | b
    assert both.customers() == {10, 11}
    assert both.customers([Entity.NOTE]) == {10}
    assert both.touches([Entity.NOTE], 10) and not both.touches([Entity.NOTE], 11)
    assert not Changes() and Changes.all() and Changes.all().touches([Entity.ORDER], 99)
