"""The incoming-call flow's data side on both databases: match, log, missed, wrap-up."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from app.clock import fixed_clock
from app.services.calls import CallService, pop_log_line
from app.services.customers import CustomerService
from app.telephony.events import MAX_CALL_ID_LENGTH, CallEvent, CallState, event_from_json
from models.database import Database
from models.enums import CaseEventKind, CommitmentKind
from models.people import CustomerPhone
from models.seed import seed_database
from models.seed.story_customers import (
    S1_SHARED_HOME_RAW,
    S2_COVERAGE_CASE_SUBJECT,
    STORY_CUSTOMERS,
)
from models.service import Case, CaseEvent, Commitment, Interaction, Task
from tests.factories import NO_STAFF, agent_context

pytestmark = pytest.mark.clock  # seeds relative to now, or shows dates

# The instant of the calls; the seed is made a minute earlier, so every seeded contact
# is older than the calls whatever the hour of the run.
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
SEEDED = NOW - dt.timedelta(minutes=1)
# What the services read as "now": after every event of a test (a call back comes later).
CLOCK = fixed_clock(NOW + dt.timedelta(minutes=5))


def _event(number: str, state: CallState, call_id: str = "c-1", seconds: int = 0) -> CallEvent:
    return CallEvent(
        call_id=call_id,
        number=number,
        name=None,
        line="agent01",
        state=state,
        at=NOW + dt.timedelta(seconds=seconds),
        source="test",
        received_monotonic=0.0,
    )


def _service(engine: Engine, region: str = "US", login: str = NO_STAFF) -> CallService:
    """The call service of agent `login` (build it after seeding: it looks the staff up)."""
    db = Database(engine)
    customers = CustomerService(db, region, CLOCK)
    return CallService(db, customers, region, CLOCK, agent=agent_context(engine, login))


def test_ringing_numbers_resolve_one_several_none_withheld(engine: Engine) -> None:
    seed_database(engine, 10, now=SEEDED)
    calls = _service(engine)
    priya = calls.match(_event("+44 20 7946 0018", CallState.RINGING))
    assert priya.result == "one" and priya.customers[0].name == "Priya Raman"
    assert priya.case_id is not None  # her complaint, opened hours ago, gets the focus
    household = calls.match(_event(S1_SHARED_HOME_RAW, CallState.RINGING))
    assert household.result == "several"
    assert {h.name for h in household.customers} == {"Eleanor Whitfield", "Thomas Whitfield"}
    assert calls.match(_event("+1 202 555 0199", CallState.RINGING)).result == "none"
    assert calls.match(_event("anonymous", CallState.RINGING)).result == "withheld"
    line = json.loads(pop_log_line(_event("020 7946 0018", CallState.RINGING), priya, 12.345))
    assert line["match"] == "one" and line["normalized"] == "+442079460018"
    assert line["latency_ms"] == 12.3


def test_answered_call_lands_on_the_timeline_with_its_duration(engine: Engine) -> None:
    seed_database(engine, 5, now=SEEDED)
    calls = _service(engine, login="agent01")
    sandra = calls.match(_event(STORY_CUSTOMERS["S2"].phone_raw, CallState.RINGING))
    interaction_id = calls.answered(
        _event("6175550142", CallState.ANSWERED), sandra.customer_id, sandra.case_id
    )
    # The same answer reported again (two adapters) does not log the call twice.
    assert (
        calls.answered(_event("6175550142", CallState.ANSWERED), sandra.customer_id, None)
        == interaction_id
    )
    record = calls.ended(_event("6175550142", CallState.ENDED, seconds=95), None)
    assert record.duration_s == 95 and record.customer_id == sandra.customer_id
    calls.wrap_up(interaction_id, "complaint", "Still no coverage; escalated", "Call back Friday")
    view = CustomerService(Database(engine), "US", fixed_clock(NOW)).load_customer(
        sandra.customer_id or 0
    )
    newest = view.timeline[0]
    assert (newest.summary, newest.duration_s) == ("Still no coverage; escalated", 95)
    with Database(engine).read() as session:
        promise = session.scalars(
            select(Commitment).where(Commitment.description == "Call back Friday")
        ).one()
        # A promise the agent owns, on her case, that My work and the header show.
        assert promise.kind == CommitmentKind.CALLBACK and promise.status.value == "open"
        assert promise.owner_id is not None and promise.case_id == sandra.case_id
        assert not session.scalar(select(Task.title).where(Task.title == "Call back Friday"))


def test_wrap_up_joins_the_chosen_case_and_promises_the_chosen_window(engine: Engine) -> None:
    """S2: her 8th call joins the open case (the count moves) and "call back Friday after
    18:00 on the office phone" is a promise with that window, not a task due tomorrow."""
    seed_database(engine, 5, now=SEEDED)
    calls = _service(engine, login="agent01")
    sandra = calls.match(_event(STORY_CUSTOMERS["S2"].phone_raw, CallState.RINGING))
    with Database(engine).read() as session:
        case_id, office = session.execute(
            select(Case.id, CustomerPhone.id)
            .join(CustomerPhone, CustomerPhone.customer_id == Case.customer_id)
            .where(Case.subject == S2_COVERAGE_CASE_SUBJECT, CustomerPhone.kind == "work")
        ).one()
        contacts_before = _case_contacts(session, case_id)
    interaction_id = calls.answered(
        _event("6175550142", CallState.ANSWERED), sandra.customer_id, None
    )
    friday = dt.datetime(2026, 11, 27, 23, 0, tzinfo=dt.UTC)  # 18:00 in Boston
    calls.wrap_up(
        interaction_id,
        "complaint",
        "Still no coverage",
        "Call back Friday after 18:00 on office phone",
        case_id=case_id,
        follow_up_window=(friday, friday + dt.timedelta(hours=2)),
        follow_up_phone_id=office,
    )
    with Database(engine).read() as session:
        assert session.get(Interaction, interaction_id).case_id == case_id  # type: ignore[union-attr]
        assert _case_contacts(session, case_id) == contacts_before + 1
        promise = session.scalars(
            select(Commitment).where(Commitment.description.like("Call back Friday%"))
        ).one()
        assert (promise.due_from, promise.due_until) == (friday, friday + dt.timedelta(hours=2))
        assert promise.contact_phone_id == office and promise.case_id == case_id
        assert promise.contact_channel is not None and promise.contact_channel.value == "phone"


def _case_contacts(session: Any, case_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.kind == CaseEventKind.CONTACT)
        )
    )


def test_missed_call_becomes_a_callback_task(engine: Engine) -> None:
    seed_database(engine, 5, now=SEEDED)
    calls = _service(engine)
    record = calls.ended(_event("+1 202 555 0123", CallState.ENDED, call_id="m-1"), None)
    with Database(engine).read() as session:
        missed = session.get(Interaction, record.interaction_id)
        assert missed is not None and missed.outcome.value == "missed"
        assert session.scalar(select(Task).where(Task.title == "Call back +1 202 555 0123"))
    (entry,) = calls.call_log()
    assert (entry.outcome, entry.direction, entry.line) == ("missed", "inbound", "agent01")
    assert entry.callback_status == "open" and entry.customer_name is None


def test_call_log_of_the_agent_and_the_line_and_calling_back(engine: Engine) -> None:
    seed_database(engine, 5, now=SEEDED)
    calls = _service(engine)
    sandra = calls.match(_event(STORY_CUSTOMERS["S2"].phone_raw, CallState.RINGING))
    calls.answered(_event("6175550142", CallState.ANSWERED, "a-1"), sandra.customer_id, None)
    calls.ended(_event("6175550142", CallState.ENDED, "a-1", seconds=61), None)
    other_line = dataclasses.replace(
        _event("+1 202 555 0123", CallState.ENDED, "m-2", seconds=120), line="sales"
    )
    calls.ended(other_line, None)
    log = calls.call_log()
    assert [e.outcome for e in log] == ["missed", "completed"]  # newest first
    answered = log[1]
    assert answered.customer_name == "Sandra Kowalski" and answered.duration_s == 61
    assert [e.interaction_id for e in calls.call_log(line="agent01")] == [answered.interaction_id]
    assert [e.number for e in calls.call_log(missed_only=True)] == ["+1 202 555 0123"]
    assert calls.call_log(agent="nobody-here", line="nowhere") == []
    # Calling the missed number back logs an outgoing call and closes the callback task.
    missed = log[0]
    assert missed.callback_status == "open" and missed.callback_task_id is not None
    calls.record_dial("+1 202 555 0123", None, "agent01", missed.callback_task_id)
    after = calls.call_log()
    assert after[0].direction == "outbound"
    assert next(e for e in after if e.interaction_id == missed.interaction_id).callback_status == (
        "done"
    )


def _at_once(count: int, work: Any) -> list[Any]:
    """Run `work(i)` in `count` real threads released together; results in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:  # reported below with the thread's index
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_concurrent_answers_of_one_call_record_it_once(engine: Engine) -> None:
    seed_database(engine, 5, now=SEEDED)
    calls = _service(engine, login="agent01")
    sandra = calls.match(_event(STORY_CUSTOMERS["S2"].phone_raw, CallState.RINGING))
    # Four adapters (threads, each its own connection) report each of five calls at once.
    ids = _at_once(
        20,
        lambda i: calls.answered(
            _event("6175550142", CallState.ANSWERED, call_id=f"race-{i % 5}"),
            sandra.customer_id,
            None,
        ),
    )
    assert len(set(ids)) == 5
    assert all(ids[i] == ids[i % 5] for i in range(20))
    with Database(engine).read() as session:
        rows = session.scalars(
            select(Interaction.call_id).where(Interaction.call_id.like("race-%"))
        ).all()
    assert sorted(rows) == [f"race-{n}" for n in range(5)]
    # The same call id from another source is another call.
    other = dataclasses.replace(_event("6175550142", CallState.ANSWERED, "race-0"), source="ami")
    assert calls.answered(other, sandra.customer_id, None) not in ids


def test_concurrent_hang_ups_of_a_missed_call_make_one_callback(engine: Engine) -> None:
    seed_database(engine, 5, now=SEEDED)
    calls = _service(engine, login="agent01")
    event = _event("+1 202 555 0188", CallState.ENDED, call_id="gone-1")
    records = _at_once(4, lambda _i: calls.ended(event, None))
    assert len({r.interaction_id for r in records}) == 1
    assert [r.callback_task_id is not None for r in records].count(True) == 1
    with Database(engine).read() as session:
        tasks = session.scalars(select(Task).where(Task.title == "Call back +1 202 555 0188"))
        assert len(tasks.all()) == 1


def test_withheld_missed_call_makes_no_callback(engine: Engine) -> None:
    seed_database(engine, 5, now=SEEDED)
    record = _service(engine).ended(_event("anonymous", CallState.ENDED, "w-1"), None)
    assert record.callback_task_id is None


def test_a_call_id_the_parser_accepts_fits_the_column(engine: Engine) -> None:
    seed_database(engine, 5, now=SEEDED)
    longest = "x" * MAX_CALL_ID_LENGTH
    decoded = event_from_json(
        {"number": "6175550142", "state": "answered", "call_id": longest}, "webhook"
    )
    assert decoded.call_id == longest
    interaction_id = _service(engine).answered(decoded, None, None)
    with Database(engine).read() as session:
        stored = session.get(Interaction, interaction_id)
        assert stored is not None and stored.call_id == longest
