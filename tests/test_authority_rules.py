"""The authority rules (AUTH_CONTRACT "The rules") through AuthorityService: one set of
cases for both databases. On SQLite the service applies them itself (authority_local);
on PostgreSQL the SECURITY DEFINER functions do, and the service only calls them.

Time: on SQLite the services read a fixed clock that `World.advance` moves; on
PostgreSQL the server's clock decides, so `advance` moves the stored instants back
instead (presence heartbeats, request expiries), which the rules see the same way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select, text

from app.agent import resolve_agent
from app.bootstrap import Services, build_services
from app.changes import Change, Changes, Entity
from app.clock import fixed_clock, system_clock
from app.config import load_settings
from app.operations import authority as ops
from app.services.authority import (
    AuthorityService,
    ConcessionAsk,
    Denial,
    LimitRow,
    Outcome,
    Status,
    new_key,
)
from models.authority import (
    AuditEntry,
    AuthorityLimit,
    AuthoritySettings,
    Concession,
    ConcessionBudget,
    OverrideDecision,
    OverrideRequest,
)
from models.database import Database, make_engine
from models.enums import ConcessionType, OverrideDecisionKind, OverrideStatus, Role
from models.people import Customer, User
from models.service import Case
from tests.factories import agent_context
from tests.pg_logins import GHOST, AuthorityDb

GIFT = ConcessionType.GOODWILL_GIFT
DISCOUNT = ConcessionType.DISCOUNT
FEE = ConcessionType.FEE_WAIVER
CREDIT = ConcessionType.CREDIT
# Thursday 3 December 2026, 10:00 in New York (the budget's zone).
NOW = dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 12, 3)

STAFF = {
    "agent01": Role.AGENT,
    "agent02": Role.AGENT,
    "senior01": Role.SENIOR_AGENT,
    "super01": Role.SUPERVISOR,
    "super02": Role.SUPERVISOR,
    "manager01": Role.MANAGER,
    "admin01": Role.ADMIN,
}
STRANGER = GHOST  # can log in (on PostgreSQL: a member of rapport_agent), no users row
# role -> type -> (allowed, max per concession, max %, daily budget, customer total / 30 days)
MATRIX: dict[Role, dict[ConcessionType, tuple[bool, int, int | None, int | None, int | None]]] = {
    Role.AGENT: {
        GIFT: (True, 3000, None, 10000, 20000),
        DISCOUNT: (True, 2000, 10, 10000, None),
        FEE: (False, 0, None, None, None),
        CREDIT: (True, 2500, None, 10000, None),
    },
    Role.SENIOR_AGENT: {
        GIFT: (True, 6000, None, 25000, 60000),
        DISCOUNT: (True, 5000, 15, 25000, None),
        FEE: (True, 10000, None, 30000, None),
    },
    Role.SUPERVISOR: {
        GIFT: (True, 15000, None, 100000, 150000),
        DISCOUNT: (True, 10000, 25, 100000, None),
        FEE: (True, 40000, None, 200000, None),
    },
    Role.MANAGER: {
        GIFT: (True, 50000, None, None, None),
        DISCOUNT: (True, 50000, 50, None, None),
        FEE: (True, 200000, None, None, None),
    },
}


class World:
    """Staff, limits and two customers; each login's service.

    SQLite: the staff rows are enough (the service applies the rules) and the services
    read the world's fixed clock. PostgreSQL: pgsec's `authority_db` (tests/pg_logins.py),
    a provisioned database where each member of staff is a real login in its group, each
    service on that login's own engine, so the functions act as that login; the names
    are unique per test (roles are the cluster's), `login()` maps them back. Its matrix
    and heartbeats are replaced by this world's."""

    def __init__(self, engine: Engine, authority: AuthorityDb | None = None) -> None:
        self.engine = engine
        self.db = Database(engine)
        self._now = NOW
        self.pg = authority is not None
        self.authority = authority
        self.ids: dict[str, int] = {}
        self._services: dict[str, Database] = {}
        with self.db.write() as session:
            session.execute(text("UPDATE authority_settings SET budget_zone = 'America/New_York'"))
            session.execute(text("DELETE FROM authority_limits"))
            session.execute(text("DELETE FROM staff_presence"))
            if authority is None:
                for base, role in STAFF.items():
                    session.add(User(login=base, display_name=display_name(base), role=role))
            session.flush()
            for base in STAFF:
                found = session.scalar(select(User.id).where(User.login == self.login(base)))
                assert found is not None
                self.ids[base] = found
            for role, kinds in MATRIX.items():
                for kind, (allowed, cap, percent, budget, total) in kinds.items():
                    session.add(
                        AuthorityLimit(
                            role=role,
                            concession_type=kind,
                            allowed=allowed,
                            max_amount_cents=cap,
                            max_percent=None if percent is None else Decimal(percent),
                            daily_budget_cents=budget,
                            period_days=30,
                            max_total_per_period_cents=total,
                        )
                    )
            ada = Customer(
                first_name="Ada",
                last_name="Lovelace",
                search_name="ada lovelace",
                customer_since=dt.date(2001, 5, 1),
            )
            bob = Customer(
                first_name="Bob",
                last_name="Babbage",
                search_name="bob babbage",
                customer_since=dt.date(2011, 5, 1),
            )
            session.add_all([ada, bob])
            session.flush()
            self.ada, self.bob = ada.id, bob.id
            case = Case(
                reference="CS-26-900001",
                customer_id=bob.id,
                category="complaint",
                subject="Late",
                priority="normal",
                status="open",
                opened_at=NOW,
                updated_at=NOW,
            )
            session.add(case)
            session.flush()
            self.bob_case = case.id

    def close(self) -> None:
        if self.pg:
            self.engine.dispose()

    def login(self, base: str) -> str:
        return base if self.authority is None else self.authority.login(base)

    @property
    def now(self) -> dt.datetime:
        """The rules' now: the world's clock, or PostgreSQL's."""
        if not self.pg:
            return self._now
        with self.engine.connect() as conn:
            value = conn.execute(text("SELECT now()")).scalar()
        assert isinstance(value, dt.datetime)
        return value

    @property
    def day(self) -> dt.date:
        """The budget's day: now in New York."""
        return self.now.astimezone(ZoneInfo("America/New_York")).date()

    def svc(self, base: str) -> AuthorityService:
        if self.authority is None:
            agent = agent_context(self.engine, base)
            return AuthorityService(self.db, fixed_clock(self._now), agent=agent)
        if base not in self._services:
            self._services[base] = self.authority.database(base)
        db = self._services[base]
        with db.read() as session:
            agent = resolve_agent(session, None, "test-db", "test@pc")
        return AuthorityService(db, system_clock, agent=agent)

    def advance(self, seconds: int) -> None:
        """Let `seconds` pass for presence and request expiry."""
        if not self.pg:
            self._now += dt.timedelta(seconds=seconds)
            return
        shift = {"s": dt.timedelta(seconds=seconds)}
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE staff_presence SET seen_at = seen_at - :s"), shift)
            conn.execute(text("UPDATE override_requests SET expires_at = expires_at - :s"), shift)

    def limit(self, **values: Any) -> None:
        """A matrix row written directly (the world's setup, not an admin's edit)."""
        with self.db.write() as session:
            session.add(AuthorityLimit(period_days=30, **values))

    def audits(self, action: str) -> list[AuditEntry]:
        with self.db.read() as session:
            return list(
                session.scalars(
                    select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
                )
            )

    def denial_audited(self, outcome: Outcome, base: str) -> None:
        """The denial left an audit row by `base`'s login naming its reason."""
        assert outcome.status is Status.DENIED
        assert outcome.reason is not None
        with self.db.read() as session:
            rows = session.scalars(
                select(AuditEntry).where(AuditEntry.actor == self.login(base))
            ).all()
        reasons = [(r.detail or {}).get("reason") for r in rows]
        assert outcome.reason.value in reasons, (outcome.reason, reasons)

    def count(self, model: Any, *where: Any) -> int:
        with self.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def display_name(base: str) -> str:
    """'Super 01' for super01, as tests/pg_logins.py names its logins."""
    return f"{base.rstrip('0123456789').title()} {base[-2:]}"


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest) -> Iterator[World]:
    if request.param == "sqlite":
        made = World(request.getfixturevalue("sqlite_engine"))
    else:
        authority: AuthorityDb = request.getfixturevalue("authority_db")
        made = World(make_engine(authority.admin_url), authority)
    try:
        yield made
    finally:
        made.close()


def gift(world: World, cents: int, customer: int | None = None, **extra: Any) -> ConcessionAsk:
    return ConcessionAsk(
        customer_id=world.ada if customer is None else customer,
        type=GIFT,
        amount_cents=cents,
        reason="Parcel arrived late",
        **extra,
    )


# -- grant ------------------------------------------------------------------------------


def test_a_grant_within_authority_is_recorded_once_with_its_audit(world: World) -> None:
    agent = world.svc("agent01")
    outcome = agent.grant(gift(world, 2500), "key-1")
    assert outcome.status is Status.GRANTED and outcome.ok
    assert outcome.concession_id is not None
    assert outcome.remaining_budget_cents == 7500
    assert (
        outcome.message == "Granted: $25.00 goodwill gift. $75.00 of today's goodwill budget left."
    )
    with world.db.read() as session:
        concession = session.get(Concession, outcome.concession_id)
        assert concession is not None
        assert (concession.granted_by_id, concession.amount_cents) == (world.ids["agent01"], 2500)
        assert concession.idempotency_key == "key-1"
        budget = session.get(ConcessionBudget, (world.ids["agent01"], world.day, GIFT))
        assert budget is not None and (budget.spent_cents, budget.limit_cents) == (2500, 10000)
    [audit] = world.audits("concession.grant")
    assert audit.actor == world.login("agent01") and audit.entity == "concession"
    assert audit.entity_id == outcome.concession_id
    assert audit.after is not None and audit.after["amount_cents"] == 2500
    gift_today = next(t for t in agent.my_authority() if t.type is GIFT)
    assert (gift_today.spent_today_cents, gift_today.remaining_today_cents) == (2500, 7500)


def test_a_retry_with_the_same_key_returns_the_first_outcome(world: World) -> None:
    agent = world.svc("agent01")
    first = agent.grant(gift(world, 2500), "key-1")
    again = agent.grant(gift(world, 2500), "key-1")
    assert again.replayed and not first.replayed
    assert (again.status, again.concession_id) == (Status.GRANTED, first.concession_id)
    assert world.count(Concession) == 1
    assert agent.my_authority()[list(ConcessionType).index(GIFT)].spent_today_cents == 2500


def test_the_same_key_with_other_parameters_is_refused(world: World) -> None:
    agent = world.svc("agent01")
    agent.grant(gift(world, 2500), "key-1")
    other = agent.grant(gift(world, 2000), "key-1")
    assert (other.status, other.reason) == (Status.DENIED, Denial.KEY_REUSED)
    assert world.count(Concession) == 1
    world.denial_audited(other, "agent01")
    # another login replaying my key gets nothing of mine
    stolen = world.svc("agent02").grant(gift(world, 2500), "key-1")
    assert stolen.reason is Denial.KEY_REUSED


def test_above_the_limit_is_denied_with_who_may(world: World) -> None:
    agent = world.svc("agent01")
    outcome = agent.grant(gift(world, 5000), new_key())
    assert (outcome.status, outcome.reason) == (Status.DENIED, Denial.ABOVE_LIMIT)
    assert outcome.limit_cents == 3000
    assert outcome.required_role is Role.SENIOR_AGENT  # the lowest role row covering $50
    assert outcome.message == "Above your limit of $30.00 for a goodwill gift: ask a supervisor."
    assert agent.grant(gift(world, 12000), new_key()).required_role is Role.SUPERVISOR
    assert agent.grant(gift(world, 40000), new_key()).required_role is Role.MANAGER
    beyond = agent.grant(gift(world, 90000), new_key())
    assert beyond.reason is Denial.ABOVE_LIMIT and beyond.required_role is None
    assert world.count(Concession) == 0
    world.denial_audited(outcome, "agent01")
    denied = world.audits("concession.denied")
    assert len(denied) == 4 and denied[0].entity == "customer"
    assert denied[0].entity_id == world.ada


def test_a_percentage_above_the_maximum_is_denied(world: World) -> None:
    agent = world.svc("agent01")
    ask = ConcessionAsk(world.ada, DISCOUNT, 1500, "Loyalty", percent=Decimal("12.5"))
    outcome = agent.grant(ask, new_key())
    assert (outcome.reason, outcome.required_role) == (Denial.ABOVE_LIMIT, Role.SENIOR_AGENT)
    assert "10%" in outcome.message
    world.denial_audited(outcome, "agent01")
    ok = ConcessionAsk(world.ada, DISCOUNT, 1500, "Loyalty", percent=Decimal("10"))
    assert agent.grant(ok, new_key()).status is Status.GRANTED


def test_a_type_the_role_may_not_grant_is_denied(world: World) -> None:
    agent = world.svc("agent01")
    fee = ConcessionAsk(world.ada, FEE, 2000, "Waive the late fee")
    outcome = agent.grant(fee, new_key())
    assert (outcome.reason, outcome.required_role) == (Denial.TYPE_NOT_ALLOWED, Role.SENIOR_AGENT)
    world.denial_audited(outcome, "agent01")
    # no row at all for the type
    sample = ConcessionAsk(world.ada, ConcessionType.POLICY_EXCEPTION, 100, "Exception")
    none = agent.grant(sample, new_key())
    assert (none.reason, none.required_role) == (Denial.TYPE_NOT_ALLOWED, None)


def test_invalid_asks_are_denied_in_words(world: World) -> None:
    agent = world.svc("agent01")
    cases = [
        gift(world, -1),
        ConcessionAsk(world.ada, GIFT, 100, "   "),
        ConcessionAsk(world.ada, GIFT, 100, "x" * 2001),
        ConcessionAsk(world.ada, GIFT, 100, "Late", currency="usd"),
        ConcessionAsk(world.ada, DISCOUNT, 100, "Late", percent=Decimal(0)),
        ConcessionAsk(world.ada, DISCOUNT, 100, "Late", percent=Decimal("100.5")),
        ConcessionAsk(999_999, GIFT, 100, "Late"),
        gift(world, 100, case_id=world.bob_case),  # Bob's case, Ada's concession
        gift(world, 100, case_id=999_999),
        gift(world, 100, order_id=999_999),
    ]
    for ask in cases:
        outcome = agent.grant(ask, new_key())
        assert (outcome.status, outcome.reason) == (Status.DENIED, Denial.INVALID), ask
        assert outcome.detail and outcome.message.startswith("Not recorded: ")
    assert world.count(Concession) == 0
    assert len(world.audits("concession.denied")) == len(cases)


def test_a_customer_limit_over_the_period_counts_everyone_s_grants(world: World) -> None:
    assert world.svc("super01").grant(gift(world, 15000), new_key()).status is Status.GRANTED
    assert world.svc("agent01").grant(gift(world, 3000), new_key()).status is Status.GRANTED
    outcome = world.svc("agent02").grant(gift(world, 2500), new_key())
    assert (outcome.reason, outcome.limit_cents) == (Denial.CUSTOMER_LIMIT, 20000)
    assert outcome.required_role is Role.SENIOR_AGENT
    world.denial_audited(outcome, "agent02")
    # another customer is another total
    assert world.svc("agent02").grant(gift(world, 2500, world.bob), new_key()).ok


def test_the_daily_budget_reaches_its_exact_edge_and_not_a_cent_more(world: World) -> None:
    agent = world.svc("agent01")
    for _ in range(3):
        assert agent.grant(gift(world, 3000), new_key()).status is Status.GRANTED
    edge = agent.grant(gift(world, 1000, world.bob), new_key())
    assert (edge.status, edge.remaining_budget_cents) == (Status.GRANTED, 0)
    over = agent.grant(gift(world, 1, world.bob), new_key())
    assert (over.status, over.reason) == (Status.DENIED, Denial.OVER_BUDGET)
    assert (over.limit_cents, over.remaining_budget_cents) == (10000, 0)
    world.denial_audited(over, "agent01")
    assert world.count(Concession) == 4
    # another type has its own budget, another agent their own
    assert agent.grant(ConcessionAsk(world.bob, CREDIT, 100, "Credit"), new_key()).ok
    assert world.svc("agent02").grant(gift(world, 100, world.bob), new_key()).ok


def test_a_user_adjustment_replaces_the_role_row(world: World) -> None:
    world.limit(
        user_id=world.ids["agent02"],
        concession_type=GIFT,
        allowed=True,
        max_amount_cents=5000,
        daily_budget_cents=20000,
        max_total_per_period_cents=50000,
    )
    world.limit(user_id=world.ids["agent02"], concession_type=DISCOUNT, allowed=False,
                max_amount_cents=0)  # fmt: skip
    trusted = world.svc("agent02")
    outcome = trusted.grant(gift(world, 4500), new_key())
    assert (outcome.status, outcome.remaining_budget_cents) == (Status.GRANTED, 15500)
    assert world.svc("agent01").grant(gift(world, 4500), new_key()).reason is Denial.ABOVE_LIMIT
    barred = trusted.grant(ConcessionAsk(world.ada, DISCOUNT, 500, "Sorry"), new_key())
    assert barred.reason is Denial.TYPE_NOT_ALLOWED
    assert trusted.check(gift(world, 4500)).within


def test_rows_apply_only_within_their_validity_dates(world: World) -> None:
    day = world.day
    tomorrow, yesterday = day + dt.timedelta(days=1), day - dt.timedelta(days=1)
    world.limit(user_id=world.ids["agent01"], concession_type=GIFT, allowed=True,
                max_amount_cents=5000, daily_budget_cents=20000, valid_from=tomorrow)  # fmt: skip
    world.limit(user_id=world.ids["agent02"], concession_type=GIFT, allowed=True,
                max_amount_cents=5000, daily_budget_cents=20000, valid_until=yesterday)  # fmt: skip
    world.limit(user_id=world.ids["senior01"], concession_type=GIFT, allowed=True,
                max_amount_cents=9000, daily_budget_cents=20000, valid_from=day,
                valid_until=day)  # fmt: skip
    not_yet = world.svc("agent01").grant(gift(world, 4500), new_key())
    assert (not_yet.reason, not_yet.limit_cents) == (Denial.ABOVE_LIMIT, 3000)
    expired = world.svc("agent02").grant(gift(world, 4500), new_key())
    assert (expired.reason, expired.limit_cents) == (Denial.ABOVE_LIMIT, 3000)
    assert world.svc("senior01").grant(gift(world, 8000), new_key()).status is Status.GRANTED
    # a role row out of its dates is no row: the type is not allowed
    with world.db.write() as session:
        row = session.scalar(
            select(AuthorityLimit).where(
                AuthorityLimit.role == Role.AGENT, AuthorityLimit.concession_type == CREDIT
            )
        )
        assert row is not None
        row.valid_until = yesterday
    lapsed = world.svc("agent01").grant(ConcessionAsk(world.ada, CREDIT, 100, "x"), new_key())
    assert lapsed.reason is Denial.TYPE_NOT_ALLOWED


def test_not_staff_is_denied_and_audited(world: World) -> None:
    outcome = world.svc(STRANGER).grant(gift(world, 100), new_key())
    assert (outcome.status, outcome.reason) == (Status.DENIED, Denial.NOT_STAFF)
    world.denial_audited(outcome, STRANGER)


# -- requests ---------------------------------------------------------------------------


def present(world: World, *logins: str) -> None:
    for login in logins:
        world.svc(login).set_presence(True)


def test_a_request_above_my_limit_waits_for_the_available_approvers(world: World) -> None:
    present(world, "super01", "super02", "manager01")
    world.svc("super02").set_presence(False)
    agent = world.svc("agent01")
    assert agent.check(gift(world, 5000)).required_role is Role.SUPERVISOR
    assert agent.approvers_available() == 2
    outcome = agent.request_override(gift(world, 5000), "req-1")
    assert (outcome.status, outcome.required_role, outcome.approvers) == (
        Status.PENDING,
        Role.SUPERVISOR,
        2,
    )
    assert outcome.request_id is not None and outcome.expires_at is not None
    assert abs((outcome.expires_at - world.now).total_seconds() - 300) < 5
    again = agent.request_override(gift(world, 5000), "req-1")
    assert again.replayed and again.request_id == outcome.request_id
    assert world.count(OverrideRequest) == 1
    [audit] = world.audits("override.request")
    assert (audit.actor, audit.entity_id) == (world.login("agent01"), outcome.request_id)
    view = agent.override(outcome.request_id)
    assert view is not None and view.status is OverrideStatus.PENDING
    assert (view.requested_by_login, view.customer_name) == (world.login("agent01"), "Ada Lovelace")
    assert [r.id for r in agent.my_requests()] == [outcome.request_id]
    assert [r.id for r in world.svc("super01").approval_queue()] == [outcome.request_id]
    assert world.svc("agent02").approval_queue() == []


def test_a_request_within_my_authority_is_not_needed(world: World) -> None:
    present(world, "super01")
    outcome = world.svc("agent01").request_override(gift(world, 2000), new_key())
    assert outcome.status is Status.NOT_NEEDED
    assert world.count(OverrideRequest) == 0


def test_nobody_available_is_said_at_once(world: World) -> None:
    present(world, "super01", "manager01")
    world.advance(31)  # heartbeats older than 30 s: nobody is there any more
    outcome = world.svc("agent01").request_override(gift(world, 5000), new_key())
    assert (outcome.status, outcome.approvers) == (Status.NO_APPROVER, 0)
    assert not outcome.ok
    assert outcome.message == (
        "No supervisor is available right now (none signed in): offer a callback instead."
    )
    assert world.count(OverrideRequest) == 0
    assert len(world.audits("override.no_approver")) == 1


def test_above_every_limit_no_request_is_made(world: World) -> None:
    present(world, "super01", "manager01")
    outcome = world.svc("agent01").request_override(gift(world, 90000), new_key())
    assert (outcome.status, outcome.reason) == (Status.DENIED, Denial.ABOVE_EVERY_LIMIT)
    world.denial_audited(outcome, "agent01")
    assert world.count(OverrideRequest) == 0


def ask_supervisor(world: World, cents: int = 5000, login: str = "agent01") -> int:
    present(world, "super01", "super02", "manager01")
    outcome = world.svc(login).request_override(gift(world, cents), new_key())
    assert outcome.status is Status.PENDING, outcome
    assert outcome.request_id is not None
    return outcome.request_id


def test_an_approval_records_one_concession_for_the_requester_and_the_approver(
    world: World,
) -> None:
    request_id = ask_supervisor(world)
    outcome = world.svc("super01").decide(request_id, OverrideDecisionKind.APPROVE, "")
    assert outcome.status is Status.APPROVED and outcome.concession_id is not None
    with world.db.read() as session:
        [concession] = session.scalars(select(Concession)).all()
        assert concession.granted_by_id == world.ids["agent01"]
        assert concession.approved_by_id == world.ids["super01"]
        assert concession.override_request_id == request_id
        assert concession.amount_cents == 5000
        request = session.get(OverrideRequest, request_id)
        assert request is not None and request.status is OverrideStatus.APPROVED
    [audit] = world.audits("override.approve")
    assert audit.actor == world.login("super01")
    assert audit.before is not None and audit.before["status"] == "pending"
    assert audit.after is not None and audit.after["status"] == "approved"
    view = world.svc("agent01").override(request_id)
    assert view is not None and view.decided_by == "Super 01"
    assert view.concession_id == outcome.concession_id
    ledger = world.svc("agent01").ledger(world.ada)
    assert [(r.granted_by, r.approved_by) for r in ledger] == [("Agent 01", "Super 01")]


def test_a_rejection_needs_a_comment(world: World) -> None:
    request_id = ask_supervisor(world)
    supervisor = world.svc("super01")
    blank = supervisor.decide(request_id, OverrideDecisionKind.REJECT, "  ")
    assert (blank.status, blank.reason) == (Status.DENIED, Denial.INVALID)
    world.denial_audited(blank, "super01")
    rejected = supervisor.decide(request_id, OverrideDecisionKind.REJECT, "Already refunded")
    assert rejected.status is Status.REJECTED
    view = world.svc("agent01").override(request_id)
    assert view is not None and view.comment == "Already refunded"
    assert world.count(Concession) == 0


def test_a_counter_offer_then_its_acceptance(world: World) -> None:
    request_id = ask_supervisor(world)
    supervisor = world.svc("super01")
    too_much = supervisor.decide(request_id, OverrideDecisionKind.COUNTER, "Half", 5000)
    assert too_much.reason is Denial.INVALID
    countered = supervisor.decide(request_id, OverrideDecisionKind.COUNTER, "Half", 2500)
    assert (countered.status, countered.counter_amount_cents) == (Status.COUNTERED, 2500)
    assert world.count(Concession) == 0
    not_mine = world.svc("agent02").accept_counter(request_id, new_key())
    assert not_mine.reason is Denial.NOT_YOURS
    agent = world.svc("agent01")
    accepted = agent.accept_counter(request_id, "accept-1")
    assert accepted.status is Status.GRANTED and accepted.concession_id is not None
    again = agent.accept_counter(request_id, "accept-1")
    assert again.replayed and again.concession_id == accepted.concession_id
    with world.db.read() as session:
        [concession] = session.scalars(select(Concession)).all()
        assert (concession.amount_cents, concession.approved_by_id) == (2500, world.ids["super01"])
        assert concession.granted_by_id == world.ids["agent01"]


def test_a_second_decision_changes_nothing_and_says_so(world: World) -> None:
    request_id = ask_supervisor(world)
    first = world.svc("super01").decide(request_id, OverrideDecisionKind.APPROVE, "")
    assert first.status is Status.APPROVED
    second = world.svc("super02").decide(request_id, OverrideDecisionKind.REJECT, "No")
    assert (second.status, second.reason) == (Status.DENIED, Denial.ALREADY_DECIDED)
    assert second.request_status is OverrideStatus.APPROVED
    assert second.message.startswith("Already approved by Super 01 at ")
    assert second.message.endswith(": nothing changed.")
    assert world.count(OverrideDecision) == 1 and world.count(Concession) == 1
    assert len(world.audits("override.decide_again")) == 1


def test_nobody_decides_their_own_request(world: World) -> None:
    present(world, "manager01")
    fee = ConcessionAsk(world.ada, FEE, 100000, "Waive the upgrade fee")
    mine = world.svc("super01").request_override(fee, new_key())
    assert (mine.status, mine.required_role) == (Status.PENDING, Role.MANAGER)
    assert mine.request_id is not None
    outcome = world.svc("super01").decide(mine.request_id, OverrideDecisionKind.APPROVE, "")
    assert (outcome.status, outcome.reason) == (Status.DENIED, Denial.OWN_REQUEST)
    world.denial_audited(outcome, "super01")
    assert world.svc("super01").approval_queue() == []


def test_an_agent_cannot_decide(world: World) -> None:
    request_id = ask_supervisor(world)
    outcome = world.svc("agent02").decide(request_id, OverrideDecisionKind.APPROVE, "")
    assert (outcome.status, outcome.reason) == (Status.DENIED, Denial.NOT_APPROVER)
    world.denial_audited(outcome, "agent02")
    admin = world.svc("admin01").decide(request_id, OverrideDecisionKind.APPROVE, "")
    assert admin.reason is Denial.NOT_APPROVER
    assert world.count(OverrideDecision) == 0


def test_above_a_supervisor_s_own_limit_a_manager_decides(world: World) -> None:
    # super02 is trusted with less than the supervisor role
    world.limit(user_id=world.ids["super02"], concession_type=GIFT, allowed=True,
                max_amount_cents=4000, daily_budget_cents=20000)  # fmt: skip
    request_id = ask_supervisor(world, 5000)
    low = world.svc("super02").decide(request_id, OverrideDecisionKind.APPROVE, "")
    assert (low.reason, low.limit_cents, low.required_role) == (
        Denial.ABOVE_YOUR_LIMIT,
        4000,
        Role.MANAGER,
    )
    world.denial_audited(low, "super02")
    assert world.svc("manager01").decide(request_id, OverrideDecisionKind.APPROVE, "").ok
    # above the supervisor role itself: only managers see it and may decide
    big = ask_supervisor(world, 40000)
    assert world.svc("agent01").override(big) is not None
    view = world.svc("agent01").override(big)
    assert view is not None and view.required_role is Role.MANAGER
    assert big not in [r.id for r in world.svc("super01").approval_queue()]
    assert big in [r.id for r in world.svc("manager01").approval_queue()]
    refused = world.svc("super01").decide(big, OverrideDecisionKind.APPROVE, "")
    assert (refused.reason, refused.required_role) == (Denial.NOT_APPROVER, Role.MANAGER)
    assert world.svc("manager01").decide(big, OverrideDecisionKind.APPROVE, "").ok


def test_withdraw_by_the_requester_only_and_only_while_pending(world: World) -> None:
    request_id = ask_supervisor(world)
    other = world.svc("agent02").withdraw(request_id)
    assert other.reason is Denial.NOT_YOURS
    world.denial_audited(other, "agent02")
    outcome = world.svc("agent01").withdraw(request_id)
    assert outcome.status is Status.WITHDRAWN
    again = world.svc("agent01").withdraw(request_id)
    assert (again.reason, again.request_status) == (Denial.NOT_PENDING, OverrideStatus.WITHDRAWN)
    late = world.svc("super01").decide(request_id, OverrideDecisionKind.APPROVE, "")
    assert late.request_status is OverrideStatus.WITHDRAWN
    assert world.count(Concession) == 0
    assert world.svc("super01").approval_queue() == []


def test_requests_expire(world: World) -> None:
    first = ask_supervisor(world)
    second = ask_supervisor(world, 6000)
    world.advance(301)
    present(world, "super01")
    # deciding one past its time expires it
    outcome = world.svc("super01").decide(first, OverrideDecisionKind.APPROVE, "")
    assert outcome.status is Status.EXPIRED
    assert world.svc("super01").approval_queue() == []
    # housekeeping expires the rest
    assert world.svc("agent01").expire_due() == 1
    assert world.svc("agent01").expire_due() == 0
    late = world.svc("super01").decide(second, OverrideDecisionKind.APPROVE, "")
    assert (late.reason, late.request_status) == (Denial.ALREADY_DECIDED, OverrideStatus.EXPIRED)
    assert len(world.audits("override.expire")) == 2
    assert world.count(Concession) == 0


# -- the matrix -------------------------------------------------------------------------


def test_an_admin_sets_a_limit_audited_with_before_and_after(world: World) -> None:
    admin = world.svc("admin01")
    row = next(
        r for r in admin.matrix() if r.role is Role.AGENT and r.type is GIFT and r.user_id is None
    )
    raised = LimitRow(**{**row.__dict__, "max_amount_cents": 4000})
    outcome = admin.set_limit(raised, "limit-1")
    assert outcome.status is Status.SAVED
    assert admin.set_limit(raised, "limit-1").replayed
    [audit] = world.audits("authority.limit")
    assert audit.actor == world.login("admin01")
    assert audit.before is not None and audit.before["max_amount_cents"] == 3000
    assert audit.after is not None and audit.after["max_amount_cents"] == 4000
    assert world.svc("agent01").grant(gift(world, 3500), new_key()).ok
    # a person's adjustment: added, then deleted
    person = LimitRow(None, None, world.ids["agent02"], None, GIFT, True, 7000, None, 20000,
                      30, None, world.day, None)  # fmt: skip
    added = admin.set_limit(person, new_key())
    assert added.status is Status.SAVED and added.limit_id is not None
    assert any(r.user_id == world.ids["agent02"] for r in admin.matrix())
    bad = admin.set_limit(
        LimitRow(
            None,
            Role.AGENT,
            world.ids["agent02"],
            None,
            GIFT,
            True,
            1,
            None,
            None,
            30,
            None,
            None,
            None,
        ),
        new_key(),  # fmt: skip
    )
    assert bad.reason is Denial.INVALID
    assert admin.delete_limit(added.limit_id).status is Status.SAVED
    assert not any(r.user_id == world.ids["agent02"] for r in admin.matrix())


def test_only_an_admin_sets_limits(world: World) -> None:
    agent = world.svc("agent01")
    row = next(r for r in agent.matrix() if r.role is Role.AGENT and r.type is GIFT)
    outcome = agent.set_limit(LimitRow(**{**row.__dict__, "max_amount_cents": 10**8}), new_key())
    assert (outcome.status, outcome.reason) == (Status.DENIED, Denial.NOT_ADMIN)
    world.denial_audited(outcome, "agent01")
    assert world.svc("super01").delete_limit(row.id or 0).reason is Denial.NOT_ADMIN
    assert agent.grant(gift(world, 3500), new_key()).reason is Denial.ABOVE_LIMIT


def test_the_settings_row_sets_the_budget_day(world: World) -> None:
    if not world.pg:  # 23:30 on 3 Dec in New York is 4 Dec in UTC: still the 3rd's budget
        world._now = dt.datetime(2026, 12, 4, 4, 30, tzinfo=dt.UTC)
    new_york = world.now.astimezone(ZoneInfo("America/New_York")).date()
    world.svc("agent01").grant(gift(world, 1000), new_key())
    with world.db.read() as session:
        days = session.scalars(select(ConcessionBudget.day)).all()
        zone = session.scalar(select(AuthoritySettings.budget_zone))
    assert zone == "America/New_York"
    assert days == [new_york]


# -- operations -------------------------------------------------------------------------


def test_operations_name_what_they_changed(sqlite_engine: Engine) -> None:
    world = World(sqlite_engine)
    base = build_services(load_settings(), sqlite_engine)

    def services(login: str) -> Services:
        acting = base.acting_as(agent_context(sqlite_engine, login))
        return dataclasses.replace(acting, authority=world.svc(login))

    agent, boss = services("agent01"), services("super01")
    granted = ops.grant(agent, gift(world, 2000), new_key())
    assert granted.value.status is Status.GRANTED and granted.value.concession_id is not None
    assert granted.changes == Changes.of(
        Change(Entity.CONCESSION, granted.value.concession_id, world.ada)
    )
    assert ops.grant(agent, gift(world, 9000), new_key()).changes == Changes()
    assert ops.set_presence(boss, True).changes == Changes()
    asked = ops.request_override(agent, gift(world, 5000), new_key())
    request_id = asked.value.request_id
    assert request_id is not None
    assert asked.changes == Changes.of(Change(Entity.OVERRIDE, request_id, world.ada))
    decided = ops.decide(boss, request_id, OverrideDecisionKind.APPROVE, "")
    concession_id = decided.value.concession_id
    assert concession_id is not None
    assert decided.changes == Changes.of(
        Change(Entity.OVERRIDE, request_id, world.ada),
        Change(Entity.CONCESSION, concession_id, world.ada),
    )
    again = ops.decide(boss, request_id, OverrideDecisionKind.APPROVE, "", customer_id=world.ada)
    assert again.value.reason is Denial.ALREADY_DECIDED and again.changes == Changes()
    late = ops.request_override(agent, gift(world, 6000), new_key()).value.request_id
    assert late is not None
    world.advance(400)
    swept = ops.expire_due(services("agent01"))
    assert swept.value == 1
    assert swept.changes == Changes.of(Change(Entity.OVERRIDE, late, world.ada))
