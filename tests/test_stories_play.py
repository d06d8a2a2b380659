"""S2 and S4 played end to end on the demo data (both databases), by two logins in two
departments: a call-centre agent (agent01) and the warehouse (ware01) and delivery
(deli01), each with their own services, as their own Rapport would build them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from app.agent import AgentContext
from app.changes import Entity
from app.clock import Clock
from app.operations import housekeeping
from app.seeding import seed_demo
from app.services.authority import AuthorityService
from app.services.calls import CallService
from app.services.cases import CaseService
from app.services.commitments import CommitmentService, PreferenceWarning
from app.services.customers import CustomerService
from app.services.handoffs import HandoffService
from app.services.suggestions import SuggestionService
from app.telephony.events import CallEvent, CallState
from models.commerce import OrderLine
from models.database import Database
from models.enums import Channel, CommitmentKind, CommitmentStatus
from models.people import CustomerPhone, Department
from models.seed.story_customers import (
    S2_COVERAGE_CASE_SUBJECT,
    S4_ENGRAVING,
    STORY_CUSTOMERS,
)
from models.service import Case, Commitment
from tests.factories import agent_context

pytestmark = pytest.mark.clock

# Wednesday 2 December 2026 14:00 New York: inside the call centre's hours.
NOW = dt.datetime(2026, 12, 2, 19, 0, tzinfo=dt.UTC)
NEW_YORK = ZoneInfo("America/New_York")


class MovingClock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@dataclass
class Desk:
    """One agent's Rapport: their services, on their clock."""

    agent: AgentContext
    cases: CaseService
    handoffs: HandoffService
    commitments: CommitmentService
    calls: CallService


def _desk(engine: Engine, login: str, clock: Clock) -> Desk:
    db = Database(engine)
    agent = agent_context(engine, login)
    assert agent.user_id is not None, f"{login} is demo staff"
    return Desk(
        agent,
        CaseService(db, clock, agent=agent),
        HandoffService(db, clock, agent=agent),
        CommitmentService(db, clock, agent=agent, region="US", zone=NEW_YORK),
        CallService(db, CustomerService(db, "US", clock), "US", clock, agent=agent),
    )


def _call(number: str, state: CallState, call_id: str, at: dt.datetime) -> CallEvent:
    return CallEvent(
        call_id=call_id, number=number, name=None, line="agent01", state=state, at=at,
        source="test",
    )  # fmt: skip


def test_s2_her_calls_join_one_case_and_the_broken_visit_cannot_be_missed(
    engine: Engine,
) -> None:
    seed_demo(engine, 20, now=NOW - dt.timedelta(minutes=5))
    clock = MovingClock(NOW)
    me = _desk(engine, "agent01", clock)
    sandra = STORY_CUSTOMERS["S2"]
    db = Database(engine)
    with db.read() as session:
        case_id, customer_id = session.execute(
            select(Case.id, Case.customer_id).where(Case.subject == S2_COVERAGE_CASE_SUBJECT)
        ).one()
        office, mobile = (
            session.scalar(
                select(CustomerPhone.id).where(
                    CustomerPhone.customer_id == customer_id, CustomerPhone.kind == kind
                )
            )
            for kind in ("work", "mobile")
        )
    before = me.cases.load(case_id).contacts
    # Her call, joined to the case in the wrap-up: the count moves.
    match = me.calls.match(_call(sandra.phone_raw, CallState.RINGING, "s2-1", NOW))
    assert match.customer_id == customer_id
    call = me.calls.answered(
        _call(sandra.phone_raw, CallState.ANSWERED, "s2-1", NOW), customer_id, None
    )
    me.calls.ended(
        _call(sandra.phone_raw, CallState.ENDED, "s2-1", NOW + dt.timedelta(minutes=6)), None
    )
    me.calls.wrap_up(call, "complaint", "Still no signal at home", None, case_id=case_id)
    detail = me.cases.load(case_id)
    assert detail.contacts == before + 1 and detail.repeat_text is not None
    # The technician visit: on her mobile it warns (she asked us not to use it)...
    friday_6pm = dt.datetime(2026, 12, 4, 18, 0, tzinfo=NEW_YORK)
    with pytest.raises(PreferenceWarning, match="(?i)mobile|not"):
        me.commitments.make_commitment(
            customer_id, case_id, CommitmentKind.VISIT, "Technician visit",
            friday_6pm, friday_6pm + dt.timedelta(hours=2),
            contact_channel=Channel.PHONE, contact_phone_id=mobile,
        )  # fmt: skip
    # ... in her allowed window, on the office phone, it is booked.
    visit = me.commitments.make_commitment(
        customer_id, case_id, CommitmentKind.VISIT, "Technician visit, call office first",
        friday_6pm, friday_6pm + dt.timedelta(hours=2),
        contact_channel=Channel.PHONE, contact_phone_id=office,
    )  # fmt: skip
    # Nobody comes. The next sweep after the window breaks it, at its due time, once.
    later = friday_6pm.astimezone(dt.UTC) + dt.timedelta(hours=3)
    services_like = _Housekeeper(engine, me)
    swept = housekeeping.sweep(services_like, later)  # type: ignore[arg-type]
    assert visit.id in swept.changes.ids(Entity.COMMITMENT)
    with db.read() as session:
        row = session.get(Commitment, visit.id)
        assert row is not None and row.status == CommitmentStatus.BROKEN
        assert row.broken_at == friday_6pm.astimezone(dt.UTC) + dt.timedelta(hours=2)
    # At her next call it is impossible to miss: the header counts it.
    clock.at = later + dt.timedelta(days=1)
    view = CustomerService(db, "US", clock).load_customer(customer_id)
    assert view.header.broken_commitments >= 1


class _Housekeeper:
    """What housekeeping.sweep uses of Services: the database, the promise service, the
    authority service (which expires unanswered override requests) and the suggestions
    (which link later orders to what was suggested)."""

    def __init__(self, engine: Engine, desk: Desk) -> None:
        self.db = Database(engine)
        self.commitments = desk.commitments
        self.authority = AuthorityService(self.db, desk.commitments.clock, agent=desk.agent)
        self.suggestions = SuggestionService(
            self.db, desk.commitments.clock, agent=desk.agent, authority=self.authority
        )


def test_s4_the_watch_goes_through_three_departments_and_the_manager_sees_where(
    engine: Engine,
) -> None:
    seed_demo(engine, 20, now=NOW - dt.timedelta(minutes=5))
    clock = MovingClock(NOW)
    me, warehouse, delivery = (
        _desk(engine, login, clock) for login in ("agent01", "ware01", "deli01")
    )
    db = Database(engine)
    with db.read() as session:
        line_id, order_id, customer_id = session.execute(
            select(OrderLine.id, OrderLine.order_id, Case.customer_id)
            .join(Case, Case.order_id == OrderLine.order_id)
            .where(OrderLine.personalisation == S4_ENGRAVING)
        ).first()  # type: ignore[misc]
        departments = dict(session.execute(select(Department.code, Department.id)).all())
    # Opened from the order line: priority raised for Kevin's birthday, with the reason.
    case_id, reference = me.cases.open_case(
        customer_id, "complaint", "Engraving reads Kelvin", None, "normal",
        order_id=order_id, order_line_id=line_id,
    )  # fmt: skip
    detail = me.cases.load(case_id)
    assert reference.startswith("CS-26-") and detail.priority == "high"
    assert detail.priority_reason and "birthday" in detail.priority_reason
    assert S4_ENGRAVING in (detail.order_text or "")
    # Handed to the warehouse (re-engrave) and to delivery (before Monday).
    engrave = me.handoffs.hand_off(
        case_id, departments["warehouse"], "Re-engrave", None, NOW + dt.timedelta(days=1)
    )
    ship = me.handoffs.hand_off(
        case_id, departments["delivery"], "Courier before Monday", None, NOW + dt.timedelta(days=2)
    )
    promise = me.commitments.make_commitment(
        customer_id, case_id, CommitmentKind.DELIVERY, "Watch delivered before Monday",
        None, NOW + dt.timedelta(days=3),
    )  # fmt: skip
    # Each department works its own task, from its own login.
    clock.at = NOW + dt.timedelta(hours=5)
    started = warehouse.handoffs.start_task(engrave.id, engrave.version)
    clock.at = NOW + dt.timedelta(hours=20)
    warehouse.handoffs.complete_task(started.id, started.version, "Re-engraved, packed")
    clock.at = NOW + dt.timedelta(hours=44)
    delivery.handoffs.complete_task(ship.id, ship.version, "Delivered, signed by Priya")
    kept = me.commitments.keep(promise.id, promise.version)
    assert kept.status == "kept"
    follow_up = me.commitments.make_commitment(
        customer_id, case_id, CommitmentKind.FOLLOW_UP, "Call: is the watch right this time?",
        None, clock.at + dt.timedelta(days=2),
    )  # fmt: skip
    assert follow_up.status == "open"
    # The manager's view: where the time went, per department, on one timeline.
    detail = me.cases.load(case_id)
    waited = {t.department: t.waited for t in detail.department_times}
    assert waited["Warehouse"] == dt.timedelta(hours=20)
    assert waited["Delivery"] == dt.timedelta(hours=44)
    authors = {(e.who, e.department) for e in detail.timeline}
    assert {d for _w, d in authors} >= {"Call centre", "Warehouse", "Delivery"}
    assert detail.open_tasks == 0
