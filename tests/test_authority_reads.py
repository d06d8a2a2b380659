"""The authority reads on the demo data (both databases): Dorothy's relationship and
why she qualifies for the loyalty exception (S7), S4's gift above the agent's limit,
the ledger of a customer's concessions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from app.clock import fixed_clock
from app.seeding import seed_demo
from app.services import authority
from app.services.authority import AuthorityService, ConcessionAsk, new_key
from models.authority import AuthoritySettings, Concession, Policy
from models.commerce import Order
from models.database import Database
from models.enums import ConcessionType, Role
from models.people import Customer, User
from models.seed.story_customers import (
    S7_BUNDLE_NAME,
    S7_LIFETIME_VALUE_CENTS,
    STORY_CUSTOMERS,
)
from models.service import Case
from tests.factories import agent_context

NOW = dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC)
DEMO_CUSTOMERS = 3000  # the demo's own size (app/config.py demo_customers)


@pytest.fixture
def demo(engine: Engine) -> Iterator[Engine]:
    seed_demo(engine, DEMO_CUSTOMERS, now=NOW - dt.timedelta(minutes=5))
    yield engine


def _service(engine: Engine, login: str) -> AuthorityService:
    return AuthorityService(Database(engine), fixed_clock(NOW), agent=agent_context(engine, login))


def _customer(engine: Engine, key: str) -> int:
    story = STORY_CUSTOMERS[key]
    with Database(engine).read() as session:
        found = session.scalar(
            select(Customer.id).where(
                Customer.first_name == story.first_name, Customer.last_name == story.last_name
            )
        )
    assert found is not None
    return found


def test_dorothy_s_relationship_and_why_she_qualifies(demo: Engine) -> None:
    dorothy = _customer(demo, "S7")
    supervisor = _service(demo, "super01")
    summary = supervisor.relationship(dorothy)
    assert (summary.customer_since, summary.tenure_years) == (dt.date(1997, 3, 1), 29)
    assert set(summary.services) == {"landline", "internet", "tv", "mobile"}
    assert (summary.bundle, summary.bundle_services) == (S7_BUNDLE_NAME, 4)
    assert (summary.lifetime_value_cents, summary.currency) == (S7_LIFETIME_VALUE_CENTS, "AUD")
    assert summary.value_top_percent is not None and 3 <= summary.value_top_percent <= 7
    assert (summary.open_complaints, summary.concessions_12m) == (0, 0)
    hints = {h.code: h for h in supervisor.policy_hints(dorothy)}
    upgrade = hints["EARLY_UPGRADE_FEE"]
    assert upgrade.qualifies and upgrade.missing == ()
    assert upgrade.reasons == (
        "customer since 1997",
        "4 services in one bundle",
        f"top {summary.value_top_percent}% by value",
        "no open complaints",
    )
    assert (upgrade.fee_cents, upgrade.override_role) == (35000, Role.SUPERVISOR)
    assert "GOODWILL_CAP" not in hints  # no exception rules: no hint
    with Database(demo).read() as session:  # the budget's day is the call centre's
        assert session.scalar(select(AuthoritySettings.budget_zone)) == "America/New_York"


def test_a_customer_who_does_not_qualify_is_told_what_is_missing(demo: Engine) -> None:
    priya = _customer(demo, "S4")
    hint = next(h for h in _service(demo, "agent01").policy_hints(priya) if h.code.startswith("E"))
    assert not hint.qualifies
    assert "a customer for 3 years (10 needed)" in hint.missing
    assert "0 services in one bundle (3 needed)" in hint.missing


def test_s4_a_gift_above_the_agent_s_limit_needs_a_supervisor(demo: Engine) -> None:
    priya = _customer(demo, "S4")
    agent = _service(demo, "agent01")
    assert agent.agent.role is Role.AGENT
    gift = ConcessionAsk(priya, ConcessionType.GOODWILL_GIFT, 5000, "Before her birthday")
    check = agent.check(gift)
    assert not check.within and check.required_role is Role.SUPERVISOR
    assert check.message == (
        "Above your limit of $30.00 for a goodwill gift: a supervisor must approve."
    )
    assert agent.check(ConcessionAsk(priya, ConcessionType.GOODWILL_GIFT, 3000, "Sorry")).within
    # the matrix holds one row per role and type, and one person's adjustment
    matrix = agent.matrix()
    assert len([r for r in matrix if r.role is not None]) == 4 * len(ConcessionType)
    assert [r.user_name is not None for r in matrix if r.user_id is not None] == [True]
    assert any(login_role == Role.SUPERVISOR for _id, _name, login_role in agent.staff())


def test_the_value_rank_from_a_sample_is_close_to_the_exact_one(
    demo: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    dorothy = _customer(demo, "S7")
    service = _service(demo, "super01")
    exact = service.relationship(dorothy).value_top_percent
    monkeypatch.setattr(authority, "VALUE_SAMPLE", 1000)  # every third customer
    sampled = service.relationship(dorothy).value_top_percent
    assert exact is not None and sampled is not None
    assert abs(exact - sampled) <= 3


def test_the_ledger_newest_first_with_who_granted_and_approved(engine: Engine) -> None:
    db = Database(engine)
    with db.write() as session:
        agent = User(login="agent01", display_name="Jordan Bennett", role=Role.AGENT)
        boss = User(login="super01", display_name="Maria Lopez", role=Role.SUPERVISOR)
        ada = Customer(first_name="Ada", last_name="Lovelace", search_name="ada lovelace",
                       customer_since=dt.date(2001, 5, 1))  # fmt: skip
        session.add_all([agent, boss, ada])
        session.flush()
        policy = Policy(code="EARLY_UPGRADE_FEE", name="Early upgrade fee", description="Fee",
                        rule={}, override_role=Role.SUPERVISOR, active=True)  # fmt: skip
        order = Order(number="R1", customer_id=ada.id, channel="web", status="delivered",
                      placed_at=NOW - dt.timedelta(days=9), currency="USD", subtotal_cents=100,
                      discount_cents=0, total_cents=100)  # fmt: skip
        case = Case(reference="CS-26-000009", customer_id=ada.id, category="complaint",
                    subject="Late", priority="normal", status="open", opened_at=NOW,
                    updated_at=NOW)  # fmt: skip
        session.add_all([policy, order, case])
        session.flush()
        session.add_all(
            [
                Concession(
                    idempotency_key=new_key(),
                    customer_id=ada.id,
                    type="credit",
                    amount_cents=1500,
                    currency="USD",
                    reason="Late parcel",
                    granted_by_id=agent.id,
                    granted_at=NOW - dt.timedelta(days=40),
                    order_id=order.id,
                ),  # fmt: skip
                Concession(
                    idempotency_key=new_key(),
                    customer_id=ada.id,
                    type="fee_waiver",
                    amount_cents=35000,
                    currency="USD",
                    reason="Loyal since 2001",
                    granted_by_id=agent.id,
                    approved_by_id=boss.id,
                    case_id=case.id,
                    policy_id=policy.id,
                    granted_at=NOW - dt.timedelta(days=1),
                    percent=Decimal("100"),
                ),  # fmt: skip
            ]
        )
        ada_id = ada.id
    service = AuthorityService(db, fixed_clock(NOW), agent=agent_context(engine, "agent01"))
    ledger = service.ledger(ada_id)
    assert [(r.type, r.granted_by, r.approved_by) for r in ledger] == [
        (ConcessionType.FEE_WAIVER, "Jordan Bennett", "Maria Lopez"),
        (ConcessionType.CREDIT, "Jordan Bennett", None),
    ]
    waiver, credit = ledger
    assert (waiver.case_reference, waiver.policy_code, waiver.percent) == (
        "CS-26-000009",
        "EARLY_UPGRADE_FEE",
        Decimal("100"),
    )
    assert (credit.order_number, credit.case_reference) == ("R1", None)
    assert service.ledger(ada_id, limit=1) == ledger[:1]
    summary = service.relationship(ada_id)
    assert (summary.concessions_12m, summary.concessions_12m_cents) == (2, 36500)
    assert (summary.open_complaints, summary.open_cases) == (1, 1)
    assert (summary.lifetime_value_cents, summary.value_top_percent) == (100, 100)
