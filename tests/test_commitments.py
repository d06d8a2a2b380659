"""Commitments: made against the contact preferences, kept, cancelled, broken by one rule."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from app.changes import Entity
from app.operations import work as work_ops
from app.services.commitments import CommitmentConflict, CommitmentService, PreferenceWarning
from models.database import Database
from models.enums import CaseEventKind, Channel, CommitmentKind, CommitmentStatus, PhoneKind
from models.people import ContactPreference, Customer, CustomerPhone
from models.service import CaseEvent, Commitment
from tests.test_handoffs import NOW, World, make_world

UTC = dt.UTC


def phones_and_preferences(engine: Engine, w: World) -> tuple[int, int]:
    """Ada: not on her mobile (no coverage at home); the office, weekdays after 18:00."""
    with Database(engine).write() as session:
        mobile = CustomerPhone(
            customer_id=w.customer_id,
            raw="+1 415 555 0100",
            e164="+14155550100",
            digits_tail="5550100",
            kind=PhoneKind.MOBILE,
            is_primary=True,
        )
        office = CustomerPhone(
            customer_id=w.customer_id,
            raw="+1 415 555 0199",
            e164="+14155550199",
            digits_tail="5550199",
            kind=PhoneKind.WORK,
        )
        session.add_all([mobile, office])
        session.flush()
        session.add_all(
            [
                ContactPreference(
                    customer_id=w.customer_id,
                    channel=Channel.PHONE,
                    phone_id=mobile.id,
                    avoid=True,
                    note="she has no coverage at home",
                    rank=9,
                    allowed_days=127,
                ),
                ContactPreference(
                    customer_id=w.customer_id,
                    channel=Channel.PHONE,
                    phone_id=office.id,
                    allowed_days=0b0011111,
                    allowed_from=dt.time(18, 0),
                    rank=1,
                ),
            ]
        )
        return mobile.id, office.id


def in_utc(w: World) -> CommitmentService:
    service = w.services.commitments
    service._zone = UTC  # the agent's calendar zone, fixed so the hours do not depend on the host
    return service


def test_a_callback_on_the_avoided_mobile_in_office_hours_warns_in_words(engine: Engine) -> None:
    w = make_world(engine)
    mobile, office = phones_and_preferences(engine, w)
    service = in_utc(w)
    start, end = NOW.replace(hour=10), NOW.replace(hour=12)  # Wednesday morning
    with pytest.raises(PreferenceWarning) as warned:
        service.make_commitment(
            w.customer_id,
            w.case_id,
            CommitmentKind.CALLBACK,
            "Call back about the ring",
            start,
            end,
            contact_channel=Channel.PHONE,
            contact_phone_id=mobile,
        )
    text = str(warned.value)
    assert warned.value.violations == (
        "Not the mobile (415) 555-0100: she has no coverage at home",
    )
    assert "Outside Ada's allowed hours" not in text  # the mobile has no hours, only "avoid"
    assert warned.value.suggestion is not None
    assert warned.value.suggestion.route.phone_id == office
    assert warned.value.suggestion.window is not None
    assert warned.value.suggestion.window.start == dt.datetime(2026, 12, 2, 18, 0)
    with Database(engine).read() as session:
        assert session.scalar(select(Commitment.id)) is None  # nothing saved on a warning
    with pytest.raises(
        PreferenceWarning, match="Outside Ada's allowed hours: weekdays after 18:00"
    ):
        service.make_commitment(
            w.customer_id,
            w.case_id,
            CommitmentKind.CALLBACK,
            "Call back",
            start,
            end,
            contact_channel=Channel.PHONE,
            contact_phone_id=office,
        )
    evening = service.make_commitment(
        w.customer_id,
        w.case_id,
        CommitmentKind.CALLBACK,
        "Call back",
        NOW.replace(hour=18),
        NOW.replace(hour=19),
        contact_channel=Channel.PHONE,
        contact_phone_id=office,
    )
    accepted = service.make_commitment(
        w.customer_id,
        w.case_id,
        CommitmentKind.CALLBACK,
        "Call back now",
        start,
        end,
        contact_channel=Channel.PHONE,
        contact_phone_id=mobile,
        accept_warning=True,
    )
    assert evening.status == accepted.status == "open"
    assert evening.owner_id == w.agent_id  # the agent by default


def test_do_not_call_blocks_a_follow_up_call(engine: Engine) -> None:
    w = make_world(engine)
    with Database(engine).write() as session:
        customer = session.get(Customer, w.customer_id)
        assert customer is not None
        customer.do_not_call = True
    with pytest.raises(PreferenceWarning, match="Ada asked not to be contacted by phone"):
        in_utc(w).make_commitment(
            w.customer_id,
            w.case_id,
            CommitmentKind.FOLLOW_UP,
            "How was the delivery?",
            None,
            NOW + dt.timedelta(days=3),
        )
    # A refund is not a contact: no check.
    refund = in_utc(w).make_commitment(
        w.customer_id, w.case_id, CommitmentKind.REFUND, "Refund $20", None, NOW
    )
    assert refund.kind == "refund"


def test_keep_and_cancel_record_who_and_when_and_refuse_a_stale_version(engine: Engine) -> None:
    w = make_world(engine)
    due = NOW + dt.timedelta(days=1)
    made = work_ops.make_commitment(
        w.services,
        w.customer_id,
        w.case_id,
        CommitmentKind.DELIVERY,
        "New ring by Friday",
        None,
        due,
    )
    assert made.changes.ids(Entity.COMMITMENT) == {made.value.id}
    assert made.changes.ids(Entity.CASE) == {w.case_id}
    kept = work_ops.keep_commitment(w.services, made.value.id, made.value.version).value
    assert (kept.status, kept.resolved_by_id, kept.resolved_at) == ("kept", w.agent_id, NOW)
    with pytest.raises(CommitmentConflict, match="Someone else changed this promise"):
        w.services.commitments.cancel(made.value.id, made.value.version, "changed mind")
    other = w.services.commitments.make_commitment(
        w.customer_id, None, CommitmentKind.OTHER, "Send the catalogue", None, due
    )
    cancelled = w.services.commitments.cancel(other.id, other.version, "She has it already")
    assert cancelled.status == "cancelled"


def test_break_overdue_breaks_each_passed_promise_once_at_the_time_it_broke(
    engine: Engine,
) -> None:
    w = make_world(engine)
    service = w.services.commitments
    passed = [
        service.make_commitment(
            w.customer_id,
            w.case_id,
            CommitmentKind.DELIVERY,
            f"Promise {n}",
            None,
            NOW - dt.timedelta(hours=n),
        )
        for n in (1, 5, 30)
    ]
    future = service.make_commitment(
        w.customer_id,
        w.case_id,
        CommitmentKind.DELIVERY,
        "Later",
        None,
        NOW + dt.timedelta(hours=1),
    )
    kept = service.make_commitment(
        w.customer_id, w.case_id, CommitmentKind.DELIVERY, "Kept", None, NOW - dt.timedelta(hours=2)
    )
    service.keep(kept.id, kept.version)
    broken = work_ops.break_overdue(w.services, NOW)
    assert sorted(broken.value) == sorted(c.id for c in passed)
    assert broken.changes.ids(Entity.COMMITMENT) == set(broken.value)
    assert service.break_overdue(NOW) == []  # idempotent
    with Database(engine).read() as session:
        rows = {c.id: c for c in session.scalars(select(Commitment))}
        events = session.scalars(
            select(CaseEvent).where(
                CaseEvent.kind == CaseEventKind.COMMITMENT, CaseEvent.body.like("Broken:%")
            )
        ).all()
    for made in passed:
        row = rows[made.id]
        assert row.status == CommitmentStatus.BROKEN
        assert row.broken_at == made.due_until and row.resolved_by_id is None
    assert rows[future.id].status == CommitmentStatus.OPEN
    assert rows[kept.id].status == CommitmentStatus.KEPT
    assert len(events) == 3 and all(e.author_id is None for e in events)


def test_dialling_an_avoided_number_offers_the_allowed_one(engine: Engine) -> None:
    w = make_world(engine)
    phones_and_preferences(engine, w)
    found = in_utc(w).dial_check(w.customer_id, "(415) 555-0100")
    assert found.check.violations == ("Not the mobile (415) 555-0100: she has no coverage at home",)
    assert found.allowed_number == "+14155550199"
    office = in_utc(w).dial_check(w.customer_id, "+1 415 555 0199")
    assert office.check.ok  # the hours are not checked when dialling now
