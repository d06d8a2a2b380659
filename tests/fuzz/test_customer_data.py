"""Fuzz the data shown for calls and customers: phone display and kind, the caller's
name in the new-customer form, and a ring recorded then found in the call log."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from app import phones
from app.clock import fixed_clock
from app.errors import UserError
from app.services.calls import CallService
from app.services.customers import CustomerService
from app.telephony.events import event_from_json
from models.database import Database
from tests.factories import agent_context
from tests.fuzz.strategies import hostile_phone, hostile_text

REGIONS = st.sampled_from(["US", "GB", "AU", "DE", "ZZ", "us", ""])
KINDS = st.sampled_from([None, "", "mobile", "home", "work", "other"])


@given(number=st.one_of(st.none(), hostile_phone, hostile_text), region=REGIONS)
def test_display_always_answers_with_text(number: str | None, region: str) -> None:
    shown = phones.display(number, region)
    assert isinstance(shown, str)
    if number is not None and phones.normalize(number, region or "US").e164 is None:
        assert shown == number.strip()  # not a valid number: shown as given


@given(number=st.one_of(st.none(), hostile_phone, hostile_text), chosen=KINDS, hint=KINDS)
def test_kind_is_always_a_known_kind(
    number: str | None, chosen: str | None, hint: str | None
) -> None:
    kind = phones.kind_for(number, chosen=chosen, hint=hint)
    assert kind == chosen if chosen else kind in {"mobile", "home", "work", "other"}
    assert phones.line_type(number) in {None, "mobile", "landline"}


@given(typed=st.one_of(hostile_phone, hostile_text), name=st.one_of(st.none(), hostile_text))
def test_the_new_customer_form_takes_any_caller_name(typed: str, name: str | None) -> None:
    from ui.features.customer.contact_dialog import prefilled

    details = prefilled(typed, name=name).details
    assert isinstance(details.first_name, str) and isinstance(details.last_name, str)


_ids = itertools.count()


@pytest.fixture
def calls(engine: Engine) -> CallService:
    db = Database(engine)
    clock = fixed_clock(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC))
    customers = CustomerService(db, "US", clock)
    agent = agent_context(engine)
    return CallService(db, customers, "US", clock, workstation="fuzz@pc", agent=agent)


@given(number=hostile_phone, name=st.one_of(st.none(), hostile_text))
def test_a_ring_from_any_number_is_recorded_or_refused_clearly(
    calls: CallService, number: str, name: str | None
) -> None:
    # The way a pop arrives: through the call-event validator, then CallService.ring.
    try:
        event = event_from_json(
            {"number": number, "name": name, "call_id": f"fuzz-{next(_ids)}"}, "handoff"
        )
    except ValueError:  # the validator's documented refusal
        return
    try:
        match, _view = calls.ring(event)
        calls.record_ring(event, match)
    except UserError:
        return
    entries = calls.call_log(workstation="fuzz@pc", limit=1)
    assert entries and entries[0].outcome == "rang"
    assert entries[0].number_display == phones.display(entries[0].number, "US")
