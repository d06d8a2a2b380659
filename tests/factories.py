"""Small records the tests build again and again, made in one place."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import Engine

from app.agent import AgentContext, agent_named
from app.telephony.events import CallEvent, CallState
from models.database import Database
from models.enums import Channel, Direction, InteractionOutcome
from models.people import Customer, Department
from models.service import Interaction

# A login the staff table does not know: the agent acts with no staff id (what a
# service once did with an actor of None).
NO_STAFF = "nobody"


def agent_context(engine: Engine, login: str = NO_STAFF) -> AgentContext:
    """The agent `login` as `app.agent.resolve_agent` makes it for a staff row (or none).

    Not resolve_agent itself: on PostgreSQL that takes the connection's session_user,
    and the tests act as many agents over one connection URL. Build it after the
    staff rows the test relies on exist (e.g. after seeding).
    """
    with Database(engine).read() as session:
        return agent_named(session, login, "test-db", "test@pc")


def add_ada(engine: Engine) -> int:
    """A customer with a name and nothing else (no phones, orders or cases); her id."""
    with Database(engine).write() as session:
        customer = Customer(
            first_name="Ada",
            last_name="Lovelace",
            search_name="ada lovelace",
            customer_since=dt.date(2001, 5, 1),
        )
        session.add(customer)
        session.flush()
        return customer.id


def add_answered_call(engine: Engine, customer_id: int, call_id: str) -> int:
    """An answered call of the customer (and the call centre, where follow-ups go); its id."""
    with Database(engine).write() as session:
        session.add(Department(code="call_centre", name="Call centre"))
        call = Interaction(
            customer_id=customer_id,
            channel=Channel.PHONE,
            direction=Direction.INBOUND,
            outcome=InteractionOutcome.COMPLETED,
            started_at=dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC),
            call_id=call_id,
            call_source="test",
        )
        session.add(call)
        session.flush()
        return call.id


def call_event(number: str, state: CallState, call_id: str = "call-1") -> CallEvent:
    """A call event as a softphone on line agent01 reports it, stamped now."""
    return CallEvent(
        call_id=call_id,
        number=number,
        name=None,
        line="agent01",
        state=state,
        at=dt.datetime.now(dt.UTC),
        source="test",
        received_monotonic=time.perf_counter(),
    )
