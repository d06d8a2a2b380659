"""Fuzz: what an agent types, checked and saved, on both databases.

Every hostile string gets a result or the project's own `UserError`, never a
DataError, a UnicodeEncodeError or another exception; what is saved reads back.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from app import validation
from app.errors import UserError
from app.services.calls import CallService
from app.services.contacts import ContactDetails, ContactService, PhoneEdit, SavedContact
from app.services.customers import CustomerService
from app.services.notes import NoteService
from models import limits
from models.database import Database
from models.enums import Channel, Direction, InteractionOutcome
from models.people import Department
from models.service import Interaction
from tests.factories import add_ada, agent_context
from tests.fuzz.strategies import hostile_phone, hostile_text

_call_ids = itertools.count()


def _clean(text: str, limit: int) -> None:
    """What validation lets through is storable and shows what is stored."""
    assert len(text) <= limit
    assert "\x00" not in text and not validation.BIDI_CONTROLS & set(text)
    text.encode("utf-8")  # no lone surrogates


@given(value=hostile_text, multiline=st.booleans())
def test_check_text_answers_with_clean_text_or_invalid_input(value: str, multiline: bool) -> None:
    try:
        checked = validation.check_text(value, "field", limits.NAME_LENGTH, multiline=multiline)
    except validation.InvalidInput as exc:
        assert str(exc).startswith("field: ") and "\n" not in str(exc)
        return
    _clean(checked, limits.NAME_LENGTH)
    if not multiline:
        assert "\n" not in checked and "\r" not in checked


@pytest.fixture
def customer_id(engine: Engine) -> int:
    return add_ada(engine)


@given(
    first=hostile_text,
    last=hostile_text,
    language=st.one_of(st.just("en"), hostile_text),
    phone=hostile_phone,
    email=st.one_of(hostile_text, hostile_text.map(lambda t: f"{t}@example.com")),
)
def test_contact_create_and_save_answer_or_refuse(
    engine: Engine, customer_id: int, first: str, last: str, language: str, phone: str, email: str
) -> None:
    contacts = ContactService(Database(engine), "US", agent=agent_context(engine))
    details = ContactDetails(
        first_name=first,
        last_name=last,
        preferred_language=language,
        phones=(PhoneEdit(phone, "mobile", True),),
        emails=(email,),
    )
    try:
        created = contacts.create(details)
    except UserError:
        pass
    else:
        assert isinstance(created, SavedContact)
        _clean(created.details.first_name, limits.NAME_LENGTH)
        assert contacts.load(created.customer_id) == created
    loaded = contacts.load(customer_id)
    try:
        saved = contacts.save(customer_id, loaded.version, details)
    except UserError:
        assert contacts.load(customer_id) == loaded
    else:
        _clean(saved.details.last_name, limits.NAME_LENGTH)
        assert contacts.load(customer_id) == saved


@given(body=hostile_text)
def test_note_save_answers_or_refuses(engine: Engine, customer_id: int, body: str) -> None:
    notes = NoteService(Database(engine), agent=agent_context(engine))
    try:
        note = notes.add_note(customer_id, body)
    except UserError:
        return
    _clean(note.body, validation.NOTE_MAX_CHARS)
    assert note.body == body.replace("\r\n", "\n").replace("\r", "\n").strip()


@pytest.fixture
def call_centre(engine: Engine) -> None:
    with Database(engine).write() as session:
        session.add(Department(code="call_centre", name="Call centre"))


@given(code=st.one_of(st.just("resolved"), hostile_text), summary=hostile_text, follow=hostile_text)
def test_wrap_up_answers_or_refuses(
    engine: Engine, customer_id: int, call_centre: None, code: str, summary: str, follow: str
) -> None:
    db = Database(engine)
    with db.write() as session:
        call = Interaction(
            customer_id=customer_id,
            channel=Channel.PHONE,
            direction=Direction.INBOUND,
            outcome=InteractionOutcome.COMPLETED,
            started_at=dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC),
            call_id=f"fuzz-{next(_call_ids)}",
            call_source="fuzz",
        )
        session.add(call)
        session.flush()
        interaction_id = call.id
    calls = CallService(db, CustomerService(db, "US"), "US", agent=agent_context(engine))
    try:
        calls.wrap_up(interaction_id, code, summary, follow)
    except UserError:
        return
    with db.read() as session:
        saved = session.get(Interaction, interaction_id)
        assert saved is not None and saved.wrap_up_code is not None
        _clean(saved.wrap_up_code, limits.WRAP_UP_CODE_LENGTH)
        _clean(saved.summary or "", validation.SUMMARY_MAX_CHARS)
