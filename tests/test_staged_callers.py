"""An unknown caller's quick record is staged (S8): held until the agent identifies the
caller (the merge, tests/test_merge.py) or keeps them as a new customer."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from app.errors import UserError
from app.services.contacts import ContactDetails, ContactService, PhoneEdit
from models.authority import AuditEntry
from models.database import Database
from models.enums import CustomerStatus
from models.people import Customer
from tests.factories import agent_context


def _contacts(engine: Engine) -> ContactService:
    return ContactService(Database(engine), "US", agent=agent_context(engine, "agent01"))


def _status(engine: Engine, customer_id: int) -> CustomerStatus:
    with Database(engine).read() as session:
        return session.get_one(Customer, customer_id).status


def test_a_caller_quick_made_during_a_pop_is_staged_until_kept(engine: Engine) -> None:
    contacts = _contacts(engine)
    caller = ContactDetails(
        "Unknown", "Caller", "en", phones=(PhoneEdit("415 555 0199"),), staged=True
    )
    saved = contacts.create(caller)
    assert _status(engine, saved.customer_id) == CustomerStatus.STAGED
    contacts.keep_staged(saved.customer_id)
    assert _status(engine, saved.customer_id) == CustomerStatus.ACTIVE
    with Database(engine).read() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_id == saved.customer_id)
        ).all()
    assert "customer.keep_staged" in actions
    with pytest.raises(UserError, match="no longer held"):
        contacts.keep_staged(saved.customer_id)


def test_a_customer_made_from_search_is_active(engine: Engine) -> None:
    saved = _contacts(engine).create(ContactDetails("Ada", "Byron", "en"))
    assert _status(engine, saved.customer_id) == CustomerStatus.ACTIVE
