"""Editing contact details: validation and optimistic locking on both databases."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.bootstrap import build_services
from app.config import load_settings
from app.errors import UserError
from app.operations.customers import add_note, create_customer, save_contact
from app.services.contacts import (
    ContactConflict,
    ContactDetails,
    ContactService,
    PhoneEdit,
    SavedContact,
)
from app.services.customers import CustomerService
from models.authority import AuditEntry
from models.database import Database
from models.enums import PhoneKind, Role
from models.people import Customer, CustomerPhone, User
from tests.factories import agent_context


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
    contacts = ContactService(db, "US", agent=agent_context(engine, "agent01"))
    loaded = contacts.load(customer_id)
    edited = ContactDetails(
        first_name="Ada",
        last_name="King",
        preferred_language="EN",
        phones=(PhoneEdit("+44 20 7946 0999", "work", True), PhoneEdit("415 555 0100")),
        emails=("Ada.King@Example.com",),
    )
    saved = contacts.save(customer_id, loaded.version, edited)
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
    contacts = ContactService(Database(engine), "US", agent=agent_context(engine))
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
    contacts = ContactService(Database(engine), "US", agent=agent_context(engine))
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
    contacts = ContactService(db, "GB", agent=agent_context(engine, "agent01"))
    created = contacts.create(
        ContactDetails(
            first_name="Grace",
            last_name="Hopper",
            preferred_language="en",
            phones=(PhoneEdit("020 7946 0123", "mobile", True),),
        ),
    )
    assert created.customer_id > 0 and created.version == 1
    hits = CustomerService(db, "GB").find_by_phone("+44 (0)20 7946 0123")
    assert [h.name for h in hits] == ["Grace Hopper"]
    with pytest.raises(UserError, match="^name: is required"):
        contacts.create(ContactDetails(first_name=" ", last_name="", preferred_language="en"))


def test_a_save_racing_another_becomes_a_conflict_never_an_overwrite(
    engine: Engine, customer_id: int
) -> None:
    """Two agents save the same customer at once, each in its own thread and session.

    Agent A has read the customer and is about to write when agent B saves. On
    PostgreSQL B commits first and A's UPDATE (`WHERE version = loaded`) matches no
    row: StaleDataError, turned into a ContactConflict showing B's version. On SQLite
    A holds the write lock from BEGIN IMMEDIATE, so B waits and then finds the
    version moved on. Either way one save lands and the other agent sees both.
    """
    db = Database(engine)
    # Each agent saves through the contact service built for them.
    contacts = {
        name: ContactService(db, "US", agent=agent_context(engine, name))
        for name in ("agent-a", "agent-b")
    }
    loaded = contacts["agent-a"].load(customer_id)
    mine = {
        "agent-a": ContactDetails("Augusta", "Lovelace", "en", loaded.details.phones),
        "agent-b": ContactDetails("Ada", "Byron", "en", loaded.details.phones),
    }
    a_has_read, b_finished = threading.Event(), threading.Event()
    # SQLite: B cannot finish while A holds the write lock, so A waits only briefly.
    a_waits = 30.0 if engine.dialect.name == "postgresql" else 0.5

    def pause_agent_a_before_writing(*_args: object) -> None:
        if threading.current_thread().name == "agent-a" and not a_has_read.is_set():
            a_has_read.set()
            b_finished.wait(a_waits)

    outcome: dict[str, object] = {}

    def save(name: str) -> None:
        try:
            outcome[name] = contacts[name].save(customer_id, loaded.version, mine[name])
        except Exception as exc:  # the assertions below look at it
            outcome[name] = exc
        finally:
            if name == "agent-b":
                b_finished.set()

    event.listen(Session, "before_flush", pause_agent_a_before_writing)
    try:
        agent_a = threading.Thread(target=save, args=("agent-a",), name="agent-a")
        agent_a.start()
        assert a_has_read.wait(30)
        agent_b = threading.Thread(target=save, args=("agent-b",), name="agent-b")
        agent_b.start()
        agent_a.join(60)
        agent_b.join(60)
    finally:
        event.remove(Session, "before_flush", pause_agent_a_before_writing)

    winner, loser = (
        ("agent-b", "agent-a") if engine.dialect.name == "postgresql" else ("agent-a", "agent-b")
    )
    saved, conflict = outcome[winner], outcome[loser]
    assert isinstance(saved, SavedContact), outcome
    assert isinstance(conflict, ContactConflict), outcome
    if engine.dialect.name == "postgresql":  # the optimistic lock itself caught it
        assert isinstance(conflict.__context__, StaleDataError)
    assert conflict.current == saved and conflict.mine == mine[loser]
    assert contacts[loser].load(customer_id) == saved  # nothing overwritten
    with db.read() as session:
        actors = session.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "customer.contact.update")
        ).all()
    assert actors == [winner]
    # The loser chooses "save mine over it": with the version the conflict showed.
    again = contacts[loser].save(customer_id, conflict.current.version, conflict.mine)
    assert again.details.first_name == mine[loser].first_name
    assert again.version == saved.version + 1


def test_the_audit_actor_is_the_agent_the_services_were_built_for(
    engine: Engine, customer_id: int
) -> None:
    """Nobody passes who acts: the composition root resolves the agent once and every
    write records it, the configured login on SQLite and session_user on PostgreSQL."""
    db = Database(engine)
    with db.read() as session:
        pg = engine.dialect.name == "postgresql"
        login = str(session.scalar(text("SELECT session_user"))) if pg else "agent07"
    with db.write() as session:
        session.add(User(login=login, display_name="Agent Seven", role=Role.AGENT))
    # On PostgreSQL the configured user claims another login and is not believed.
    services = build_services(load_settings(cli={"user": "agent07" if not pg else "admin"}), engine)
    assert services.agent.login == login
    loaded = services.contacts.load(customer_id)
    edited = ContactDetails("Ada", "King", "en", loaded.details.phones)
    save_contact(services, customer_id, loaded.version, edited)
    create_customer(services, ContactDetails("Grace", "Hopper", "en"))
    note = add_note(services, customer_id, "Prefers e-mail", None).value
    assert note.author == "Agent Seven"  # the agent's staff row wrote it
    # Another agent on the same connection gets services of their own.
    colleague = services.acting_as(agent_context(engine, "agent-b"))
    add_note(colleague, customer_id, "Called back", None)
    with db.read() as session:
        actors = session.execute(select(AuditEntry.action, AuditEntry.actor)).all()
    assert sorted(actors) == [
        ("customer.contact.update", login),
        ("customer.create", login),
        ("note.add", "agent-b"),
        ("note.add", login),
    ]
