"""Editing contact details: validation and optimistic locking on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from app.errors import UserError
from app.services.contacts import ContactConflict, ContactDetails, ContactService, PhoneEdit
from app.services.customers import CustomerService
from models.authority import AuditEntry
from models.database import Database
from models.enums import PhoneKind
from models.people import Customer, CustomerPhone

pytestmark = pytest.mark.clock  # seeds relative to now, or shows dates


@pytest.fixture
def customer_id(engine: Engine) -> int:
    with Database(engine).write() as session:
        customer = Customer(
            first_name="Ada",
            last_name="Lovelace",
            search_name="ada lovelace",
            customer_since=dt.date(2001, 5, 1),
        )
        session.add(customer)
        session.flush()
        session.add(
            CustomerPhone(
                customer_id=customer.id,
                raw="(415) 555-0100",
                e164="+14155550100",
                digits_tail="5550100",
                kind=PhoneKind.MOBILE,
                is_primary=True,
            )
        )
        return customer.id


def test_save_normalizes_and_is_found_by_any_format(engine: Engine, customer_id: int) -> None:
    db = Database(engine)
    contacts = ContactService(db, "US")
    loaded = contacts.load(customer_id)
    edited = ContactDetails(
        first_name="Ada",
        last_name="King",
        preferred_language="EN",
        phones=(PhoneEdit("+44 20 7946 0999", "work", True), PhoneEdit("415 555 0100")),
        emails=("Ada.King@Example.com",),
    )
    saved = contacts.save(customer_id, loaded.version, edited, actor="agent01")
    assert saved.version == loaded.version + 1
    finder = CustomerService(db, "US")
    # A UK number said the national way is invalid with the US default region;
    # its last digits still find her.
    assert [h.customer_id for h in finder.find_by_phone("020 7946 0999 ")] == [customer_id]
    assert [h.customer_id for h in finder.find_by_phone("+442079460999")] == [customer_id]
    assert [h.customer_id for h in finder.find_by_email("ada.king@example.com")] == [customer_id]
    with db.read() as session:
        assert session.get(Customer, customer_id).search_name == "ada king"  # type: ignore[union-attr]
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "customer.contact.update" in actions


def test_invalid_input_lists_every_problem_and_saves_nothing(
    engine: Engine, customer_id: int
) -> None:
    contacts = ContactService(Database(engine), "US")
    loaded = contacts.load(customer_id)
    bad = ContactDetails(
        first_name="Ada",
        last_name="Lovelace",
        preferred_language="en",
        phones=(PhoneEdit("12345"),),
        emails=("not-an-email",),
    )
    with pytest.raises(UserError) as caught:
        contacts.save(customer_id, loaded.version, bad)
    lines = str(caught.value).splitlines()
    assert any("not a valid phone number" in line for line in lines)
    assert any("not-an-email" in line for line in lines)
    assert contacts.load(customer_id) == loaded


def test_concurrent_edit_raises_conflict_with_both_versions(
    engine: Engine, customer_id: int
) -> None:
    contacts = ContactService(Database(engine), "US")
    loaded = contacts.load(customer_id)
    theirs = ContactDetails(
        first_name="Ada", last_name="Byron", preferred_language="en", phones=loaded.details.phones
    )
    mine = ContactDetails(
        first_name="Augusta",
        last_name="Lovelace",
        preferred_language="en",
        phones=loaded.details.phones,
    )
    contacts.save(customer_id, loaded.version, theirs)
    with pytest.raises(ContactConflict) as caught:
        contacts.save(customer_id, loaded.version, mine)
    assert caught.value.current.details.last_name == "Byron"
    assert caught.value.mine.first_name == "Augusta"
    assert contacts.load(customer_id).details.last_name == "Byron"  # not overwritten
    # Choosing "save mine over it" uses the version just seen, and works.
    saved = contacts.save(customer_id, caught.value.current.version, mine)
    assert saved.details.first_name == "Augusta"


def test_quick_create_from_a_typed_number(engine: Engine) -> None:
    db = Database(engine)
    contacts = ContactService(db, "GB")
    created = contacts.create(
        ContactDetails(
            first_name="Grace",
            last_name="Hopper",
            preferred_language="en",
            phones=(PhoneEdit("020 7946 0123", "mobile", True),),
        ),
        actor="agent01",
    )
    assert created.customer_id > 0 and created.version == 1
    hits = CustomerService(db, "GB").find_by_phone("+44 (0)20 7946 0123")
    assert [h.name for h in hits] == ["Grace Hopper"]
    with pytest.raises(UserError, match="a name is required"):
        contacts.create(ContactDetails(first_name=" ", last_name="", preferred_language="en"))
