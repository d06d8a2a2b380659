"""One stored US number, in the 18 forms PBXs and softphones send it: each pops the customer.

Through the real entry points (`rapport pop`, the `rapport://pop` URL, a webhook
body, the hand-off wire) and the real database; the extension is kept on the call.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, select

from app.clock import fixed_clock
from app.services.calls import CallService
from app.services.customers import CustomerService
from app.telephony.events import CallState, event_from_json, parse_pop_url
from app.telephony.handoff import decode_event, encode_event, parse_handoff_args
from models.database import Database
from models.seed import seed_database
from models.seed.story_customers import STORY_CUSTOMERS
from models.service import Interaction
from tests.factories import agent_context

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
CLOCK = fixed_clock(NOW + dt.timedelta(minutes=5))
SANDRA = STORY_CUSTOMERS["S2"]  # stored as +1 617 555 0142

# (form, extension): what a caller-ID field really carries for that one number.
FORMS = [
    ("+16175550142", None),  # E.164, as most SIP trunks send it
    ("+1 617 555 0142", None),
    ("6175550142", None),  # national, no trunk prefix
    ("16175550142", None),  # national with the trunk prefix
    ("617.555.0142", None),
    ("617-555-0142", None),
    ("(617) 555-0142", None),
    ("0016175550142", None),  # 00 international prefix (European PBXs)
    ("tel:+1-617-555-0142", None),
    ("tel:6175550142;phone-context=+1", None),
    ("sip:+16175550142@pbx.example.com", None),
    ("sips:+16175550142@pbx.example.com;user=phone", None),
    ("<sip:+16175550142@pbx.example.com;user=phone>", None),
    ('"Sandra K" <sip:6175550142@192.0.2.10:5060;transport=udp>;tag=as5f1', None),
    ("sip:+1-617-555-0142@[2001:db8::1]:5061", None),
    ("+16175550142;ext=12", "12"),
    ("617-555-0142 x12", "12"),
    ("tel:+1-617-555-0142;ext=12", "12"),
]


def test_there_are_eighteen_forms() -> None:
    assert len(FORMS) == 18 and len({form for form, _ in FORMS}) == 18


@pytest.mark.clock
def test_every_form_of_one_stored_number_pops_that_customer(engine: Engine) -> None:
    seed_database(engine, 5, now=NOW - dt.timedelta(minutes=1))
    db = Database(engine)
    calls = CallService(
        db, CustomerService(db, "US", CLOCK), "US", CLOCK, agent=agent_context(engine)
    )
    refused: list[str] = []
    for index, (form, extension) in enumerate(FORMS):
        try:
            events = [
                parse_handoff_args(["pop", form]),
                parse_pop_url("rapport://pop?number=" + quote(form, safe="")),
                event_from_json({"number": form, "call_id": f"w-{index}"}, "webhook"),
            ]
        except ValueError as exc:
            refused.append(f"{form}: {exc}")
            continue
        # The running instance receives the pop over the hand-off wire.
        events.append(decode_event(encode_event(events[0])))
        for event in events:
            match, view = calls.ring(event)
            assert (match.result, event.extension) == ("one", extension), (form, event)
            assert view is not None and view.header.first_name == SANDRA.first_name, form
    assert refused == []

    # The extension stays on the call record; the number is the number.
    answered = event_from_json(
        {"number": "617-555-0142 x12", "call_id": "ext-1", "state": "answered"}, "webhook"
    )
    assert answered.state is CallState.ANSWERED
    match, _ = calls.ring(answered)
    interaction_id = calls.answered(answered, match.customer_id, None)
    with db.read() as session:
        row = session.execute(
            select(Interaction.phone_number, Interaction.phone_extension).where(
                Interaction.id == interaction_id
            )
        ).one()
    assert tuple(row) == ("617-555-0142", "12")
