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


def dashboard_dataset(engine: Engine) -> dict[str, int]:
    """The small world tests/test_dashboards.py counts by hand: Q4 2026 against Q3.

    Two departments and teams (alice: North, Billing; bob: South, Delivery), two
    stores, four customers (c1, c2 gold "vip"; c3, c4 standard "mass"), five cases,
    eight contacts, five feedback, three concessions, five orders and five impressions.
    The expected figures are worked out in tests/test_dashboards.py. Names -> ids."""
    from models.authority import Concession
    from models.catalog import Store
    from models.commerce import Order
    from models.enums import (
        CaseStatus,
        ConcessionType,
        OfferKind,
        OfferOutcome,
        OrderStatus,
        Priority,
        Role,
        Sentiment,
        Tier,
    )
    from models.people import User
    from models.service import Case, Feedback, OfferEvent

    def at(month: int, day: int) -> dt.datetime:
        return dt.datetime(2026, month, day, 10, 0, tzinfo=dt.UTC)

    ids: dict[str, int] = {}
    with Database(engine).write() as session:

        def add(name: str, row: object) -> None:
            session.add(row)
            session.flush()
            ids[name] = row.id  # type: ignore[attr-defined]

        add("d1", Department(code="billing", name="Billing"))
        add("d2", Department(code="delivery", name="Delivery"))
        for name, team, dept in (("alice", "North", "d1"), ("bob", "South", "d2")):
            add(
                name,
                User(
                    login=name,
                    display_name=name.title(),
                    role=Role.AGENT,
                    team=team,
                    department_id=ids[dept],
                ),
            )
        for code in ("S1", "S2"):
            add(
                code,
                Store(code=code, name=f"Store {code}", address="1 Main St", city="Town",
                      country="US", latitude=0.0, longitude=0.0),
            )  # fmt: skip
        for name, tier, segment in (
            ("c1", Tier.GOLD, "vip"),
            ("c2", Tier.GOLD, "vip"),
            ("c3", Tier.STANDARD, "mass"),
            ("c4", Tier.STANDARD, "mass"),
        ):
            add(
                name,
                Customer(first_name=name.upper(), last_name="Test", search_name=f"{name} test",
                         tier=tier, segment=segment, customer_since=dt.date(2020, 1, 1)),
            )  # fmt: skip
        orders = (
            ("o1", "c1", "S1", at(10, 1), 10000, OrderStatus.DELIVERED),
            ("o2", "c1", "S2", at(10, 20), 6000, OrderStatus.DELIVERED),
            ("o3", "c1", "S2", at(11, 1), 4000, OrderStatus.CANCELLED),
            ("o4", "c3", "S2", at(12, 1), 3000, OrderStatus.PAID),
            ("o5", "c2", "S2", at(11, 1), 8000, OrderStatus.DELIVERED),
        )
        for name, customer, store, placed, total, status in orders:
            add(
                name,
                Order(number=name.upper(), customer_id=ids[customer], channel=Channel.WEB,
                      store_id=ids[store], placed_at=placed, status=status,
                      subtotal_cents=total, total_cents=total),
            )  # fmt: skip
        # name, customer, department, assignee, opened, resolved, SLA due, breached,
        # first response breached, order
        cases = (
            ("k1", "c1", "d1", "alice", at(10, 5), at(10, 7), at(10, 8), None, None, "o1"),
            ("k2", "c2", "d1", "alice", at(10, 10), at(10, 20), at(10, 12), at(10, 12), None, None),
            ("k3", "c3", "d2", "bob", at(11, 2), None, None, None, at(11, 3), None),
            ("k4", "c4", "d2", "bob", at(8, 1), at(8, 3), at(8, 4), None, None, None),
            ("k5", "c3", "d2", "bob", at(9, 20), at(10, 2), at(9, 25), at(9, 25), None, None),
        )
        for name, customer, dept, who, opened, resolved, due, breached, fr, order in cases:
            add(
                name,
                Case(reference=name.upper(), customer_id=ids[customer], category="general",
                     subject=f"case {name}", priority=Priority.NORMAL,
                     status=CaseStatus.OPEN if resolved is None else CaseStatus.RESOLVED,
                     department_id=ids[dept], assignee_id=ids[who], opened_at=opened,
                     resolved_at=resolved, sla_due_at=due, sla_breached_at=breached,
                     first_response_breached_at=fr, order_id=ids[order] if order else None),
            )  # fmt: skip
        contacts = (
            ("i1", "c1", "k1", "alice", at(10, 5), "S1"),
            ("i2", "c2", "k2", "alice", at(10, 10), None),
            ("i3", "c2", "k2", "alice", at(10, 15), None),
            ("i4", "c3", "k3", "bob", at(11, 2), None),
            ("i5", "c3", "k3", "bob", at(11, 3), None),
            ("i6", "c3", "k3", "bob", at(11, 4), None),
            ("i7", "c4", "k4", "bob", at(8, 1), None),
            ("i8", "c3", "k5", "bob", at(9, 20), None),
        )
        for name, customer, case_name, who, started, store in contacts:
            add(
                name,
                Interaction(customer_id=ids[customer], case_id=ids[case_name],
                            channel=Channel.PHONE, direction=Direction.INBOUND,
                            started_at=started, agent_id=ids[who],
                            store_id=ids[store] if store else None),
            )  # fmt: skip
        feedback = (
            ("f1", "c1", "i1", "k1", 5, Sentiment.POSITIVE, at(10, 6)),
            ("f2", "c2", "i3", "k2", 2, Sentiment.NEGATIVE, at(10, 16)),
            ("f3", "c3", "i4", "k3", 4, Sentiment.NEUTRAL, at(11, 2)),
            ("f4", "c3", None, "k3", None, Sentiment.NEGATIVE, at(11, 5)),
            ("f5", "c4", "i7", "k4", 3, Sentiment.NEUTRAL, at(8, 2)),
        )
        for name, customer, contact, case_name, rating, sentiment, received in feedback:
            add(
                name,
                Feedback(customer_id=ids[customer], case_id=ids[case_name], rating=rating,
                         interaction_id=ids[contact] if contact else None, sentiment=sentiment,
                         source=Channel.PHONE, received_at=received),
            )  # fmt: skip
        concessions = (
            ("g1", "c1", "k1", "alice", ConcessionType.CREDIT, 2000, at(10, 7), "o1"),
            ("g2", "c3", "k3", "bob", ConcessionType.DISCOUNT, 1500, at(11, 3), None),
            ("g3", "c4", "k4", "bob", ConcessionType.SAMPLE, 1000, at(8, 2), None),
        )
        for name, customer, case_name, who, kind, amount, granted, order in concessions:
            add(
                name,
                Concession(idempotency_key=name, customer_id=ids[customer], case_id=ids[case_name],
                           type=kind, amount_cents=amount, reason="sorry", granted_by_id=ids[who],
                           granted_at=granted, order_id=ids[order] if order else None),
            )  # fmt: skip
        impressions = (
            ("e1", "c1", "alice", OfferKind.REFILL, OfferOutcome.ACCEPTED, at(10, 5), "i1", None),
            ("e2", "c1", "alice", OfferKind.ADD_ON, OfferOutcome.SHOWN, at(10, 5), "i1", "o2"),
            ("e3", "c2", "alice", OfferKind.REFILL, OfferOutcome.DECLINED, at(10, 10), "i2", None),
            ("e4", "c3", "bob", OfferKind.REFILL, OfferOutcome.SHOWN, at(11, 2), "i4", None),
            ("e5", "c4", "bob", OfferKind.REFILL, OfferOutcome.ACCEPTED, at(8, 1), "i7", None),
        )
        for name, customer, who, kind, outcome, shown, contact, order in impressions:
            add(
                name,
                OfferEvent(customer_id=ids[customer], agent_id=ids[who], kind=kind,
                           reason="because", outcome=outcome, at=shown,
                           interaction_id=ids[contact], order_id=ids[order] if order else None),
            )  # fmt: skip
    return ids
