"""Call operations name what they wrote: the ring and the linking of a new caller publish
the interaction, so the call log and the caller's tab refresh without a reload of all."""

from __future__ import annotations

import dataclasses

from sqlalchemy import Engine

from app.bootstrap import build_services
from app.changes import Change, Entity
from app.config import load_settings
from app.operations import calls as call_ops
from app.operations import customers as customer_ops
from app.services.contacts import ContactDetails, PhoneEdit
from app.telephony.events import CallState
from models.seed import seed_database
from tests.factories import call_event


def test_the_ring_publishes_the_interaction_of_the_popped_customer(engine: Engine) -> None:
    seed_database(engine, 5, seed=2)
    services = build_services(load_settings(), engine)
    event = call_event("+1 617 555 0142", CallState.RINGING, "op-1")  # Sandra Kowalski
    match, _data = services.calls.ring(event)
    assert match.customer_id is not None
    done = call_ops.record_ring(services, event, match)
    assert done.changes.items == {Change(Entity.INTERACTION, done.value, match.customer_id)}
    again = call_ops.record_ring(services, event, match)  # reported twice: one call
    assert again.value == done.value


def test_linking_a_new_caller_publishes_the_call_it_gave_them(engine: Engine) -> None:
    seed_database(engine, 5, seed=2)
    services = build_services(load_settings(), engine)
    event = call_event("+1 202 555 0199", CallState.RINGING, "op-2")
    match, _data = services.calls.ring(event)
    rung = call_ops.record_ring(services, event, match).value
    saved = customer_ops.create_customer(
        services, ContactDetails("Ann", "Example", "en", phones=(PhoneEdit("+1 202 555 0199"),))
    ).value
    done = call_ops.link_caller(services, event, saved.customer_id)
    assert Change(Entity.INTERACTION, rung, saved.customer_id) in done.changes.items
    assert Change(Entity.CUSTOMER, saved.customer_id, saved.customer_id) in done.changes.items
    # A call nobody recorded changes nothing but the customer.
    unknown = dataclasses.replace(event, call_id="op-never-rang")
    quiet = call_ops.link_caller(services, unknown, saved.customer_id)
    assert done.changes.ids(Entity.INTERACTION) == {rung}
    assert quiet.changes.ids(Entity.INTERACTION) == frozenset()
