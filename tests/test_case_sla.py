"""A case's SLA clock in the case service: started at opening by the matching policy,
stopped while waiting on the customer, stopped for first response by a reply."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from app.services.cases import CaseService
from models.database import Database
from models.enums import CaseStatus
from models.seed import seed_database
from models.service import Case
from tests.factories import add_ada, agent_context

# Wednesday 2 December 2026, 15:00 UTC = 10:00 in New York (the seeded calendar's zone).
OPENED = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


def test_the_clock_starts_pauses_while_waiting_on_the_customer_and_resumes(
    engine: Engine,
) -> None:
    seed_database(engine, 0, now=OPENED - dt.timedelta(days=1))  # calendar and policies
    customer = add_ada(engine)
    clock = Clock(OPENED)
    cases = CaseService(Database(engine), clock, agent=agent_context(engine))
    case_id, _ = cases.open_case(customer, "complaint", "Broken hinge", None, "normal")
    db = Database(engine)
    with db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.sla_policy_id is not None
        due, first_due, version = case.sla_due_at, case.first_response_due_at, case.version
    assert first_due is not None and due is not None and OPENED < first_due < due
    # Waiting on the customer from 11:00 New York time to the next morning 11:00.
    clock.at = OPENED + dt.timedelta(hours=1)
    version = cases.change_status(case_id, CaseStatus.WAITING_CUSTOMER, version)
    with db.read() as session:
        assert session.get(Case, case_id).sla_paused_since == clock.at  # type: ignore[union-attr]
    clock.at = OPENED + dt.timedelta(days=1, hours=1)
    cases.change_status(case_id, CaseStatus.OPEN, version)
    with db.read() as session:
        resumed = session.get(Case, case_id)
        assert resumed is not None and resumed.sla_paused_since is None
        # A whole business day paused (9 business hours on the seeded calendar): the due
        # time moved later by at least that much wall time.
        assert resumed.sla_due_at is not None and resumed.sla_due_at - due >= dt.timedelta(hours=9)
    clock.at += dt.timedelta(minutes=5)
    cases.add_note(case_id, "We are sending a new hinge today.", internal=False)
    with db.read() as session:
        answered = session.get(Case, case_id)
        assert answered is not None and answered.first_response_at == clock.at
