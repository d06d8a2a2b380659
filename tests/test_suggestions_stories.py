"""Next best action on the seeded demo data at a frozen clock (both databases): S1's
Eleanor (refill, add-on once rules are mined, counterpart, new line, cheaper
alternative), S2's Sandra (high churn, a retention offer within the agent's
authority) and S2's newcomer (a welcome offer from her sign-up note)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from app.clock import fixed_clock
from app.seeding import seed_demo
from app.services.authority import AuthorityService
from app.services.suggestions import SuggestionService
from models.authority import Concession
from models.catalog import Product, StoreStock
from models.commerce import Order, OrderLine
from models.database import Database
from models.enums import ConcessionType
from models.people import Customer, User
from models.seed.story_customers import (
    RETENTION_OFFER_CODE,
    S1_COMING_IN_DAYS,
    S1_COMING_SKU,
    S1_COUNTERPART_SKU,
    S1_NEW_LINE_SKU,
    S1_REFILL_SKU,
    STORY_CUSTOMERS,
    WELCOME_OFFER_CODE,
)
from models.suggestions import AssociationRule, AssociationRuleItem, RuleRun
from tests.factories import agent_context

NOW = dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def demo(engine: Engine) -> Iterator[Engine]:
    seed_demo(engine, 20, now=NOW - dt.timedelta(minutes=5))
    yield engine


def _service(engine: Engine, login: str = "agent01") -> SuggestionService:
    return SuggestionService(Database(engine), fixed_clock(NOW), agent=agent_context(engine, login))


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


def _product(engine: Engine, sku: str) -> int:
    with Database(engine).read() as session:
        found = session.scalar(select(Product.id).where(Product.sku == sku))
    assert found is not None
    return found


def test_s1_eleanor_refill_counterpart_new_line_and_cheaper(demo: Engine) -> None:
    eleanor = _customer(demo, "S1")
    perfume = _product(demo, S1_REFILL_SKU)
    with Database(demo).read() as session:
        last = session.scalar(
            select(func.max(Order.placed_at))
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.customer_id == eleanor, OrderLine.product_id == perfume)
        )
    assert last is not None
    day = last.astimezone().date()
    found = _service(demo).suggest(eleanor)
    assert found.churn.level == "none"
    by_kind = {i.kind: i for i in found.items}
    refill = found.items[0]
    assert (refill.kind, refill.sku, refill.budget) == ("refill", S1_REFILL_SKU, "within")
    assert refill.reason.startswith("bought every 12-1")  # about every 90 days
    assert refill.reason.endswith(f"weeks, last on {day.day} {day:%b}: due")
    assert by_kind["counterpart"].sku == S1_COUNTERPART_SKU
    assert by_kind["counterpart"].reason.endswith("(his and hers)")
    cheaper = by_kind["down_sell"]
    assert cheaper.reason.endswith("cheaper (she finds it expensive)")
    assert cheaper.price_cents is not None and cheaper.price_cents < 11800
    lines = [i for i in found.items if i.kind == "new_line"]
    assert {i.sku for i in lines} == {S1_NEW_LINE_SKU, S1_COMING_SKU}
    coming = next(i for i in lines if i.sku == S1_COMING_SKU)
    launch = NOW.date() + dt.timedelta(days=S1_COMING_IN_DAYS)
    assert coming.available_from == launch
    assert coming.reason.endswith(f"from {launch.day} {launch:%b}")
    assert found.rules_mined_at is None


def test_s1_add_ons_once_rules_are_mined(demo: Engine) -> None:
    """A mining (the miner is issue 13's other half; here its result, written by hand):
    customers who bought her perfume often add a travel spray."""
    eleanor = _customer(demo, "S1")
    perfume = _product(demo, S1_REFILL_SKU)
    with Database(demo).write() as session:
        spray = session.scalar(
            select(Product.id)
            .join(StoreStock, StoreStock.product_id == Product.id)
            .where(Product.product_line == "Travel Spray", StoreStock.quantity > 0)
            .order_by(Product.id)
            .limit(1)
        )
        assert spray is not None
        run = RuleRun(
            mined_by="test", source="order_lines", baskets=5000, items=200, min_support=0.002,
            min_confidence=0.2, max_length=3, rule_count=1, seconds=0.5, mined_at=NOW,
        )  # fmt: skip
        session.add(run)
        session.flush()
        rule = AssociationRule(
            run_id=run.id, antecedent_key=str(perfume), consequent_key=str(spray),
            antecedent_size=1, consequent_size=1, baskets=40, support=0.008,
            confidence=0.62, lift=4.2,
        )  # fmt: skip
        session.add(rule)
        session.flush()
        session.add_all(
            [
                AssociationRuleItem(rule_id=rule.id, product_id=perfume, side="a"),
                AssociationRuleItem(rule_id=rule.id, product_id=spray, side="c"),
            ]
        )
    found = _service(demo).suggest(eleanor)
    assert found.rules_mined_at == NOW
    add_on = next(i for i in found.items if i.kind == "add_on")
    assert add_on.product_id == spray
    assert add_on.reason == (
        "62% of customers who bought Aubade Eau de Parfum 50 ml also bought it"
    )
    assert [i.kind for i in found.items][:2] == ["refill", "add_on"]


def test_s2_sandra_is_at_high_churn_with_a_retention_offer_i_may_grant(demo: Engine) -> None:
    sandra = _customer(demo, "S2")
    found = _service(demo).suggest(sandra)
    assert found.churn.level == "high"
    assert [f.code for f in found.churn.factors] == [
        "broken_commitments",
        "unresolved_cases",
        "repeat_contacts",
        "negative_feedback",
        "value",
    ]
    assert found.churn.factors[0].text == "2 broken promises in the last 6 months"
    assert found.churn.factors[-1].text == "customer for 10 years, platinum"
    offer = found.items[0]
    assert (offer.kind, offer.key) == ("retention", f"retention:{RETENTION_OFFER_CODE}")
    assert (offer.concession_type, offer.amount_cents) == ("credit", 2500)
    assert offer.within_authority is True  # an agent may credit $25 at once
    assert "down_sell" not in {i.kind for i in found.items}  # one phone is no habit
    summary = AuthorityService(
        Database(demo), fixed_clock(NOW), agent=agent_context(demo, "super01")
    ).relationship(sandra)
    assert summary.churn_risk is not None
    assert summary.churn_risk.startswith("high: 2 broken promises in the last 6 months; ")


def test_s2_newcomer_gets_a_welcome_offer_from_her_sign_up_note(demo: Engine) -> None:
    maya = _customer(demo, "S2-newcomer")
    found = _service(demo).suggest(maya)
    assert [(i.kind, i.key) for i in found.items] == [("welcome", f"welcome:{WELCOME_OFFER_CODE}")]
    welcome = found.items[0]
    assert welcome.reason.startswith("new customer; sign-up note: ")
    assert (welcome.concession_type, welcome.percent, welcome.within_authority) == (
        "discount",
        10.0,
        True,
    )
    # Once granted (an impression offered with its concession), not suggested again.
    service = _service(demo)
    shown = service.record_shown(maya, found.items, "pop-1")
    with Database(demo).write() as session:
        agent = session.scalar(select(User.id).where(User.login == "agent01"))
        assert agent is not None
        concession = Concession(
            idempotency_key="welcome-1", customer_id=maya, type=ConcessionType.DISCOUNT,
            amount_cents=1500, reason="welcome", granted_by_id=agent, granted_at=NOW,
        )  # fmt: skip
        session.add(concession)
        session.flush()
        concession_id = concession.id
    service.offered(shown[0].id, concession_id)
    assert service.suggest(maya).items == ()
