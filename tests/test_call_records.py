"""What a call leaves in the call log, on both databases (issue 9, item 6).

A pop records the call as rung; a source that reports answer and hang-up completes
the same record; a caller created during the call is linked to it; the call log
names agents as the timeline does and shows the calls that rang on this workstation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import Engine, select

from app.clock import fixed_clock
from app.services.calls import CallMatch, CallService
from app.services.contacts import ContactDetails, ContactService, PhoneEdit
from app.services.customers import CustomerService
from app.telephony.events import CallEvent, CallState
from models.database import Database
from models.people import User
from models.seed import seed_database
from models.service import Interaction, Task
from tests.factories import NO_STAFF, agent_context

pytestmark = pytest.mark.clock  # seeds relative to now

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
SEEDED = NOW - dt.timedelta(minutes=1)
CLOCK = fixed_clock(NOW + dt.timedelta(minutes=5))
HERE = "agent01@pc-17"


def _event(
    number: str,
    state: CallState,
    call_id: str = "c-1",
    seconds: int = 0,
    line: str | None = None,
    source: str = "handoff",
    name: str | None = None,
) -> CallEvent:
    return CallEvent(
        call_id=call_id,
        number=number,
        name=name,
        line=line,
        state=state,
        at=NOW + dt.timedelta(seconds=seconds),
        source=source,
        received_monotonic=0.0,
    )


def _service(engine: Engine, workstation: str | None = HERE, login: str = NO_STAFF) -> CallService:
    """The call service of agent `login` (build it after seeding: it looks the staff up)."""
    db = Database(engine)
    customers = CustomerService(db, "US", CLOCK)
    agent = agent_context(engine, login)
    return CallService(db, customers, "US", CLOCK, workstation=workstation, agent=agent)


def _ring(calls: CallService, event: CallEvent) -> CallMatch:
    """What the window does on ringing: the pop's look-up, then the rung record."""
    match, _view = calls.ring(event)
    calls.record_ring(event, match)
    return match


def _an_agent(engine: Engine) -> tuple[str, str]:
    with Database(engine).read() as session:
        user = session.scalars(select(User).order_by(User.id)).first()
        assert user is not None
        return user.login, user.display_name


def test_a_pop_without_hang_up_is_logged_as_rung_without_callback(engine: Engine) -> None:
    seed_database(engine, 5, now=SEEDED)
    calls = _service(engine)
    _ring(calls, _event("+1 202 555 0111", CallState.RINGING, "pop-1"))
    (entry,) = calls.call_log()
    assert entry.outcome == "rang" and entry.number == "+1 202 555 0111"
    assert entry.callback_task_id is None
    # Not a missed call (nobody said it was not answered): not under "Missed only".
    assert calls.call_log(missed_only=True) == []
    # The same ring reported again (two sources) is one call.
    _ring(calls, _event("+1 202 555 0111", CallState.RINGING, "pop-1"))
    assert len(calls.call_log()) == 1


def test_answer_and_hang_up_complete_the_rung_record(engine: Engine) -> None:
    seed_database(engine, 5, now=SEEDED)
    login, name = _an_agent(engine)
    calls = _service(engine, login=login)
    match = _ring(calls, _event("617 555 0142", CallState.RINGING, "c-9"))
    assert match.customer_id is not None
    answered_id = calls.answered(_event("617 555 0142", CallState.ANSWERED, "c-9", 5), None, None)
    record = calls.ended(_event("617 555 0142", CallState.ENDED, "c-9", 65), None)
    assert record.interaction_id == answered_id and record.duration_s == 60
    assert record.callback_task_id is None
    (entry,) = calls.call_log()
    assert entry.outcome == "completed" and entry.customer_name == "Sandra Kowalski"
    assert entry.agent == name  # the display name, as on the timeline


def test_a_rung_call_hung_up_unanswered_is_missed_with_one_callback(engine: Engine) -> None:
    seed_database(engine, 5, now=SEEDED)
    calls = _service(engine)
    _ring(calls, _event("+1 202 555 0123", CallState.RINGING, "m-1"))
    first = calls.ended(_event("+1 202 555 0123", CallState.ENDED, "m-1", 30), None)
    again = calls.ended(_event("+1 202 555 0123", CallState.ENDED, "m-1", 31), None)
    assert first.callback_task_id is not None and again.callback_task_id is None
    (entry,) = calls.call_log(missed_only=True)
    assert entry.outcome == "missed" and entry.callback_status == "open"
    with Database(engine).read() as session:
        assert (
            len(
                session.scalars(
                    select(Task).where(Task.interaction_id == entry.interaction_id)
                ).all()
            )
            == 1
        )


def test_missed_calls_that_rang_here_are_in_my_view(engine: Engine) -> None:
    seed_database(engine, 5, now=SEEDED)
    login, _name = _an_agent(engine)
    calls = _service(engine, login=login)
    # A source without line information: the missed call has no agent and no line.
    _ring(calls, _event("+1 202 555 0144", CallState.RINGING, "here-1"))
    calls.ended(_event("+1 202 555 0144", CallState.ENDED, "here-1", 20), None)
    # A call that rang on another workstation, for nobody we know.
    elsewhere = _service(engine, workstation="agent02@pc-03")
    _ring(elsewhere, _event("+1 202 555 0155", CallState.RINGING, "there-1"))
    elsewhere.ended(_event("+1 202 555 0155", CallState.ENDED, "there-1", 20), None)
    mine = calls.call_log(agent=login, line=None, workstation=calls.workstation)
    assert [e.number for e in mine] == ["+1 202 555 0144"]
    assert mine[0].outcome == "missed"
    assert {e.number for e in calls.call_log()} == {"+1 202 555 0144", "+1 202 555 0155"}


def test_the_line_of_this_workstation_is_learnt_from_its_calls(engine: Engine) -> None:
    seed_database(engine, 5, now=SEEDED)
    calls = _service(engine)
    # A call that rang here on line 5551000 teaches the workstation its line ...
    _ring(calls, _event("+1 202 555 0166", CallState.RINGING, "l-1", line="5551000", source="ami"))
    # ... so a call on that line that rang while this PC was off is ours too.
    other = _service(engine, workstation=None)
    other.ended(
        _event("+1 202 555 0177", CallState.ENDED, "l-2", 60, line="5551000", source="ami"),
        None,
    )
    other.ended(
        _event("+1 202 555 0188", CallState.ENDED, "l-3", 90, line="sales", source="ami"),
        None,
    )
    mine = calls.call_log(workstation=calls.workstation)
    assert {e.number for e in mine} == {"+1 202 555 0166", "+1 202 555 0177"}


def test_a_caller_created_during_the_call_is_linked_to_it(engine: Engine) -> None:
    seed_database(engine, 5, now=SEEDED)
    calls = _service(engine)
    event = _event("+1 202 555 0199", CallState.RINGING, "new-1", name="Ann Example")
    match = _ring(calls, event)
    assert match.result == "none"
    contacts = ContactService(Database(engine), "US", CLOCK, agent=agent_context(engine))
    saved = contacts.create(
        ContactDetails("Ann", "Example", "en", phones=(PhoneEdit("+1 202 555 0199"),))
    )
    calls.link_caller(event, saved.customer_id)
    (entry,) = calls.call_log()
    assert entry.customer_id == saved.customer_id and entry.customer_name == "Ann Example"
    # Hung up unanswered afterwards: the callback task is for the new customer too.
    record = calls.ended(dataclasses.replace(event, state=CallState.ENDED), None)
    assert record.customer_id == saved.customer_id
    with Database(engine).read() as session:
        task = session.get(Task, record.callback_task_id)
        assert task is not None and task.customer_id == saved.customer_id
        row = session.get(Interaction, record.interaction_id)
        assert row is not None and row.customer_id == saved.customer_id
