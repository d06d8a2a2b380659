"""SuggestionService on a small hand-made world (both databases): what is suggested and
what never is, the down-sell's condition, the offers, the impressions and their
outcomes, orders linked to them, and conversion."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import pytest
from sqlalchemy import Engine, select

from app.bootstrap import build_services
from app.changes import Change, Entity
from app.clock import fixed_clock
from app.config import load_settings
from app.errors import UserError
from app.operations import suggestions as operations
from app.services import suggestions as suggestions_module
from app.services.authority import Check, ConcessionAsk
from app.services.suggestions import SuggestionService
from app.services.views import MAX_SUGGESTIONS, Suggestion
from models.authority import Concession
from models.catalog import Product, ProductRelation, Store, StoreStock
from models.commerce import Order, OrderLine
from models.database import Database
from models.enums import (
    Channel,
    CommitmentStatus,
    ConcessionType,
    OfferKind,
    OfferOutcome,
    OrderStatus,
    ProductRelationKind,
    Role,
    Sentiment,
)
from models.people import Customer, CustomerNote, User
from models.service import Case, Commitment, Feedback, OfferEvent
from models.suggestions import AssociationRule, AssociationRuleItem, Offer, RuleRun
from tests.factories import agent_context

NOW = dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC)
TODAY = NOW.astimezone().date()  # the service's "today" is the machine's calendar day


class Authority:
    """Stands in for AuthorityService.check: whether this agent may grant it at once."""

    def __init__(self, within: bool) -> None:
        self.within = within
        self.asked: list[ConcessionAsk] = []

    def check(self, ask: ConcessionAsk) -> Check:
        self.asked.append(ask)
        return Check(self.within, None, "", None if self.within else Role.SUPERVISOR)


@dataclass
class World:
    engine: Engine
    ada: int
    products: dict[str, int]
    rules: dict[str, int]
    agent_id: int

    def service(self, within: bool = True, login: str = "ann") -> SuggestionService:
        return SuggestionService(
            Database(self.engine),
            fixed_clock(NOW),
            agent=agent_context(self.engine, login),
            authority=Authority(within),  # type: ignore[arg-type]
        )


def _days(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


# name: (price, active, stock, launch in days (negative: launched), line)
CATALOGUE: dict[str, tuple[int, bool, int, int, str]] = {
    "cream": (5000, True, 5, -900, "Day Cream"),
    "cheap cream": (3000, True, 4, -900, "Day Cream"),
    "cleanser": (2000, True, 9, -900, "Cleanser"),
    "serum": (4000, True, 3, -900, "Serum"),
    "mask": (3500, True, 2, -900, "Mask"),
    "toner": (2500, True, 2, -900, "Toner"),
    "watch": (50000, True, 1, -900, "Watch"),
    "gone": (3000, False, 7, -900, "Serum"),  # discontinued
    "none left": (3000, True, 0, -900, "Serum"),  # in no store, no launch to wait for
    "his": (4500, True, 2, -300, "Day Cream Men"),
    "coming": (4800, True, 0, 13, "Night Veil"),
    "coming add-on": (2800, True, 0, 13, "Lip Balm"),
}


@pytest.fixture
def world(engine: Engine) -> World:
    with Database(engine).write() as session:
        ann = User(login="ann", display_name="Ann Agent", role=Role.AGENT)
        bob = User(login="bob", display_name="Bob Agent", role=Role.AGENT)
        store = Store(
            code="S1", name="Main", address="1 Main St", city="Boston", country="US",
            latitude=0.0, longitude=0.0,
        )  # fmt: skip
        session.add_all([ann, bob, store])
        session.flush()
        ids: dict[str, int] = {}
        for n, (name, (price, active, stock, launch, line)) in enumerate(CATALOGUE.items()):
            product = Product(
                sku=f"SKU-{n:02d}", name=name.title(), category="Skincare", price_cents=price,
                launch_date=TODAY + dt.timedelta(days=launch), active=active, product_line=line,
                replenish_days=60 if name == "cream" else None,
            )  # fmt: skip
            session.add(product)
            session.flush()
            ids[name] = product.id
            session.add(StoreStock(store_id=store.id, product_id=product.id, quantity=stock))
        ada = Customer(
            first_name="Ada", last_name="Lovelace", search_name="ada lovelace",
            customer_since=dt.date(2015, 5, 1),
        )  # fmt: skip
        session.add(ada)
        session.flush()
        # Her cream every 30 days, the last one 31 days ago (due); the cleanser once.
        for n, age in enumerate((121, 91, 61, 31)):
            lines = [("cream", 1)] + ([("cleanser", 1)] if n == 0 else [])
            _order(
                session,
                ada.id,
                f"A{n}",
                _days(age),
                [(ids[p], q, CATALOGUE[p][0]) for p, q in lines],
            )
        session.add_all(
            [
                ProductRelation(
                    product_id=ids["his"], related_product_id=ids["cream"],
                    kind=ProductRelationKind.COUNTERPART, note="his and hers",
                ),
                ProductRelation(
                    product_id=ids["cream"], related_product_id=ids["coming"],
                    kind=ProductRelationKind.COMPLEMENTS,
                ),
            ]
        )  # fmt: skip
        run = RuleRun(
            mined_by="test", source="order_lines", baskets=1000, items=12, min_support=0.01,
            min_confidence=0.2, max_length=3, rule_count=0, seconds=0.1, mined_at=_days(1),
        )  # fmt: skip
        session.add(run)
        session.flush()
        rules = {}
        cream, cleanser = ids["cream"], ids["cleanser"]
        for name, antecedents, consequent, confidence, lift in (
            ("serum", (cream, cleanser), "serum", 0.62, 3.1),
            ("mask", (cream,), "mask", 0.40, 2.0),
            ("toner", (cream,), "toner", 0.45, 2.0),
            ("watch", (cream,), "watch", 0.30, 4.0),
            ("gone", (cream,), "gone", 0.9, 9.0),
            ("none left", (cream,), "none left", 0.9, 9.0),
            ("owned", (cream,), "cleanser", 0.9, 9.0),
            ("coming add-on", (cream,), "coming add-on", 0.9, 9.0),
            ("not hers", (ids["serum"],), "mask", 0.9, 9.0),  # antecedent she never bought
        ):
            target = ids[consequent]
            rule = AssociationRule(
                run_id=run.id, antecedent_key=",".join(map(str, sorted(antecedents))),
                consequent_key=str(target), antecedent_size=len(antecedents),
                consequent_size=1, baskets=50, support=0.05, confidence=confidence, lift=lift,
            )  # fmt: skip
            session.add(rule)
            session.flush()
            rules[name] = rule.id
            for product_id in antecedents:
                session.add(AssociationRuleItem(rule_id=rule.id, product_id=product_id, side="a"))
            session.add(AssociationRuleItem(rule_id=rule.id, product_id=target, side="c"))
        session.add_all(
            [
                Offer(
                    code="RET-25", name="$25 credit", kind=OfferKind.RETENTION,
                    concession_type=ConcessionType.CREDIT, amount_cents=2500,
                ),
                Offer(
                    code="WEL-10", name="10% off", kind=OfferKind.WELCOME,
                    concession_type=ConcessionType.DISCOUNT, percent=10.0,
                ),
            ]
        )  # fmt: skip
        return World(engine, ada.id, ids, rules, ann.id)


def _order(
    session: Any,
    customer_id: int,
    number: str,
    placed: dt.datetime,
    lines: list[tuple[int, int, int]],
) -> int:
    total = sum(q * price for _p, q, price in lines)
    order = Order(
        number=number, customer_id=customer_id, channel=Channel.STORE, placed_at=placed,
        status=OrderStatus.DELIVERED, currency="USD", subtotal_cents=total, total_cents=total,
    )  # fmt: skip
    session.add(order)
    session.flush()
    for n, (product_id, quantity, price) in enumerate(lines, start=1):
        session.add(
            OrderLine(
                order_id=order.id, line_no=n, product_id=product_id, quantity=quantity,
                unit_price_cents=price,
            )
        )  # fmt: skip
    session.flush()
    return order.id


def _by_kind(items: tuple[Suggestion, ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in items:
        found.setdefault(item.kind, []).append(item.title)
    return found


def test_the_best_five_never_owned_discontinued_or_unavailable(world: World) -> None:
    found = world.service().suggest(world.ada)
    assert len(found.items) == MAX_SUGGESTIONS
    assert found.rules_mined_at == _days(1)
    assert (found.usual_order_cents, found.currency, found.churn.level) == (5000, "USD", "none")
    titles = [i.title for i in found.items]
    assert titles == ["Cream", "Serum", "Toner", "Mask", "His"]
    refill, serum = found.items[0], found.items[1]
    assert refill.kind == "refill" and refill.key == f"refill:{world.products['cream']}"
    assert refill.reason == f"bought every 4 weeks, last on {_day(31)}: due"
    assert (serum.kind, serum.rule_id) == ("add_on", world.rules["serum"])
    assert serum.reason == "62% of customers who bought Cream and Cleanser also bought it"
    assert serum.rule_ref == f"{world.products['cream']},{world.products['cleanser']}=>" + str(
        world.products["serum"]
    )
    # Never: the discontinued, the one in no store, the one she owns, a coming product
    # as an add-on, a rule whose antecedents she did not all buy.
    everything = world.service().suggest(world.ada)
    never = {"Gone", "None Left", "Cleanser", "Coming Add-On"}
    assert not never & {i.title for i in everything.items}


def test_below_the_five_the_counterpart_and_the_coming_line_with_its_date(world: World) -> None:
    service = world.service()
    with Database(world.engine).write() as session:  # fewer add-ons leave room for them
        for name in ("mask", "toner", "watch"):
            session.delete(session.get(AssociationRule, world.rules[name]))
    found = service.suggest(world.ada)
    kinds = _by_kind(found.items)
    assert kinds == {
        "refill": ["Cream"],
        "add_on": ["Serum"],
        "counterpart": ["His"],
        "new_line": ["Coming"],
    }
    his = next(i for i in found.items if i.kind == "counterpart")
    assert his.reason == "the counterpart of Cream (his and hers)"
    coming = next(i for i in found.items if i.kind == "new_line")
    launch = TODAY + dt.timedelta(days=13)
    assert coming.available_from == launch
    assert coming.reason == f"a newer line that complements Cream: from {launch.day} {launch:%b}"


def test_above_her_usual_order_is_marked_and_ranked_lower(world: World) -> None:
    with Database(world.engine).write() as session:
        for name in ("mask", "toner"):
            session.delete(session.get(AssociationRule, world.rules[name]))
    found = world.service().suggest(world.ada)
    watch = next(i for i in found.items if i.title == "Watch")
    assert (watch.budget, watch.price_cents) == ("above", 50000)
    assert all(i.budget == "within" for i in found.items if i.title != "Watch")
    # Its lift (4.0) beats the serum's (3.1), yet the budget ranks it below every add-on
    # and relation within her budget.
    assert [i.title for i in found.items][-1] == "Watch"


def test_a_down_sell_only_when_spend_falls_or_price_is_the_complaint(world: World) -> None:
    service = world.service()
    assert "down_sell" not in _by_kind(service.suggest(world.ada).items)
    with Database(world.engine).write() as session:
        session.add(
            Feedback(
                customer_id=world.ada, rating=3, sentiment=Sentiment.NEUTRAL,
                text="Love the cream but it's too expensive now", source=Channel.PHONE,
                received_at=_days(10),
            )
        )  # fmt: skip
    found = service.suggest(world.ada)
    cheaper = next(i for i in found.items if i.kind == "down_sell")
    assert cheaper.title == "Cheap Cream"
    assert cheaper.reason == "same range as Cream, 40% cheaper (she finds it expensive)"


def test_a_down_sell_when_her_spend_falls(world: World) -> None:
    with Database(world.engine).write() as session:
        watch = world.products["watch"]
        for n in range(4):  # a regular buyer a year ago: four watches, then only creams
            _order(session, world.ada, f"W{n}", _days(400 + 20 * n), [(watch, 1, 50000)])
    found = world.service().suggest(world.ada)
    # A fall alone, with what is at stake (a customer since 2015): worth watching.
    assert found.churn.level == "watch"
    assert [f.code for f in found.churn.factors] == ["falling_spend", "value"]
    cheaper = next(i for i in found.items if i.kind == "down_sell")
    assert cheaper.reason.endswith("(her spend is falling)")


def _make_her_unhappy(engine: Engine, customer_id: int) -> None:
    with Database(engine).write() as session:
        case = Case(
            reference="CS-1", customer_id=customer_id, category="network", subject="No signal",
            priority="high", status="open", opened_at=_days(100),
        )  # fmt: skip
        session.add(case)
        session.flush()
        for n in range(2):
            session.add(
                Commitment(
                    customer_id=customer_id, case_id=case.id, description=f"Visit {n}",
                    due_until=_days(60 - n), status=CommitmentStatus.BROKEN,
                    broken_at=_days(59 - n),
                )
            )  # fmt: skip
        session.add(
            Feedback(
                customer_id=customer_id, rating=1, sentiment=Sentiment.NEGATIVE,
                text="Nobody fixes it", source=Channel.EMAIL, received_at=_days(5),
            )
        )  # fmt: skip


@pytest.mark.parametrize("within", [True, False])
def test_retention_at_high_churn_says_whether_i_may_grant_it(world: World, within: bool) -> None:
    _make_her_unhappy(world.engine, world.ada)
    service = world.service(within=within)
    found = service.suggest(world.ada)
    assert found.churn.level == "high"
    first = found.items[0]
    assert (first.kind, first.key, first.title) == ("retention", "retention:RET-25", "$25 credit")
    assert (first.concession_type, first.amount_cents, first.within_authority) == (
        "credit",
        2500,
        within,
    )
    assert first.reason.startswith("high churn risk: 2 broken promises")
    asked = service.authority.asked  # type: ignore[attr-defined]
    assert [(a.customer_id, a.type, a.amount_cents) for a in asked] == [
        (world.ada, ConcessionType.CREDIT, 2500)
    ]
    assert service.churn_risk(world.ada) == found.churn


def test_welcome_for_a_newcomer_who_came_unhappy_from_elsewhere(world: World) -> None:
    with Database(world.engine).write() as session:
        maya = Customer(
            first_name="Maya", last_name="Okafor", search_name="maya okafor",
            customer_since=TODAY - dt.timedelta(days=12),
        )  # fmt: skip
        old = Customer(
            first_name="Olga", last_name="Old", search_name="olga old",
            customer_since=TODAY - dt.timedelta(days=3000),
        )  # fmt: skip
        session.add_all([maya, old])
        session.flush()
        for who in (maya, old):
            session.add(
                CustomerNote(
                    customer_id=who.id, body="Switched from Telco One after a bad experience",
                    created_at=_days(12),
                )
            )  # fmt: skip
        maya_id, old_id = maya.id, old.id
    service = world.service()
    found = service.suggest(maya_id)
    assert [(i.kind, i.title, i.percent) for i in found.items] == [("welcome", "10% off", 10.0)]
    assert found.items[0].reason == 'new customer; sign-up note: "Switched from"'
    assert found.items[0].amount_cents == 0  # 10% of no orders yet
    assert service.suggest(old_id).items == ()  # a customer for years is no newcomer


def test_impressions_are_idempotent_by_key_and_record_the_agent(world: World) -> None:
    service = world.service()
    items = service.suggest(world.ada).items
    shown = service.record_shown(world.ada, items, "view-1")
    again = service.record_shown(world.ada, items, "view-1")  # a refresh, or a retry
    assert again == shown
    assert [i.key for i in shown] == [i.key for i in items]
    assert {i.outcome for i in shown} == {"shown"}
    with Database(world.engine).read() as session:
        rows = session.scalars(select(OfferEvent).order_by(OfferEvent.rank)).all()
        assert len(rows) == len(items)
        assert [r.rank for r in rows] == list(range(1, len(items) + 1))
        assert {r.agent_id for r in rows} == {world.agent_id}
        assert rows[1].rule_id == world.rules["serum"] and rows[1].rule_ref
        assert rows[0].impression_key == f"view-1:{items[0].key}"
    other = service.record_shown(world.ada, items[:1], "view-2")  # another showing
    assert other[0].id not in {i.id for i in shown}


def test_accept_decline_and_offered_are_recorded_with_the_agent(world: World) -> None:
    service = world.service()
    items = service.suggest(world.ada).items
    first, second, third = service.record_shown(world.ada, items[:3], "view-1")
    bob = world.service(login="bob")
    assert bob.accept(first.id).outcome == "accepted"
    declined = service.decline(second.id, "too_expensive")
    assert (declined.outcome, declined.decline_reason) == ("declined", "too_expensive")
    with pytest.raises(UserError, match="one of not_interested"):
        service.decline(second.id, "meh")
    with Database(world.engine).write() as session:
        concession = Concession(
            idempotency_key="k1", customer_id=world.ada, type=ConcessionType.SAMPLE,
            amount_cents=500, reason="a sample", granted_by_id=world.agent_id, granted_at=NOW,
        )  # fmt: skip
        session.add(concession)
        session.flush()
        concession_id = concession.id
    offered = service.offered(third.id, concession_id)
    assert (offered.outcome, offered.concession_id) == ("offered", concession_id)
    with pytest.raises(UserError):
        service.accept(999_999)
    with Database(world.engine).read() as session:
        rows = {e.id: e for e in session.scalars(select(OfferEvent))}
    assert rows[first.id].agent_id != world.agent_id  # bob answered it
    assert rows[second.id].outcome_at == NOW
    assert rows[second.id].agent_id == world.agent_id


def test_link_orders_within_30_days_and_not_after_31(world: World) -> None:
    service = world.service()
    serum = next(i for i in service.suggest(world.ada).items if i.title == "Serum")
    shown = service.record_shown(world.ada, [serum, replace(serum, key="add_on:late")], "v")
    late_shown = shown[1]
    with Database(world.engine).write() as session:
        session.get(OfferEvent, late_shown.id).at = _days(40)  # type: ignore[union-attr]
        soon = _order(
            session,
            world.ada,
            "S1",
            NOW + dt.timedelta(days=29),
            [(world.products["serum"], 1, 4000)],
        )
    later = SuggestionService(
        Database(world.engine), fixed_clock(NOW + dt.timedelta(days=29, hours=1)),
        agent=agent_context(world.engine, "ann"), authority=Authority(True),  # type: ignore[arg-type]
    )  # fmt: skip
    assert later.link_orders() == 1
    assert later.link_orders() == 0  # once
    with Database(world.engine).read() as session:
        linked = session.get(OfferEvent, shown[0].id)
        missed = session.get(OfferEvent, late_shown.id)
        assert linked is not None and missed is not None
        assert (linked.order_id, linked.ordered_at) == (soon, NOW + dt.timedelta(days=29))
        assert missed.order_id is None  # shown 40 days before that order: 69 days
    # One day past the window: an order 31 days after its showing is not its return.
    again = service.record_shown(world.ada, [replace(serum, key="add_on:again")], "w")
    with Database(world.engine).write() as session:
        _order(
            session,
            world.ada,
            "S2",
            NOW + dt.timedelta(days=31),
            [(world.products["serum"], 1, 4000)],
        )
    much_later = SuggestionService(
        Database(world.engine), fixed_clock(NOW + dt.timedelta(days=31, hours=1)),
        agent=agent_context(world.engine, "ann"), authority=Authority(True),  # type: ignore[arg-type]
    )  # fmt: skip
    assert much_later.link_orders() == 0
    with Database(world.engine).read() as session:
        assert session.get(OfferEvent, again[0].id).order_id is None  # type: ignore[union-attr]


def test_conversion_by_kind_rule_agent_and_month(world: World) -> None:
    ann, bob = world.service(), world.service(login="bob")
    items = ann.suggest(world.ada).items
    november = ann.record_shown(world.ada, items[:2], "nov")  # refill, serum add-on
    december = bob.record_shown(world.ada, items[:3], "dec")  # refill, serum, toner
    with Database(world.engine).write() as session:
        for impression in november:
            session.get(OfferEvent, impression.id).at = NOW - dt.timedelta(days=20)  # type: ignore[union-attr]
        refill_nov = session.get(OfferEvent, november[0].id)
        assert refill_nov is not None
        refill_nov.order_id = _order(session, world.ada, "N1", NOW - dt.timedelta(days=19), [])
    ann.accept(november[0].id)  # accepted, and later ordered: converted once
    bob.decline(december[1].id, "not_now")
    since, until = NOW - dt.timedelta(days=60), NOW + dt.timedelta(days=1)
    by_kind = {r.group: r for r in ann.conversion(since, until, "kind")}
    assert set(by_kind) == {"refill", "add_on"}
    refill = by_kind["refill"]
    assert (refill.shown, refill.accepted, refill.ordered, refill.converted) == (2, 1, 1, 1)
    assert refill.rate == 0.5
    add_on = by_kind["add_on"]
    assert (add_on.shown, add_on.declined, add_on.converted, add_on.rate) == (3, 1, 0, 0.0)
    by_rule = {r.group: r.shown for r in ann.conversion(since, until, "rule")}
    assert by_rule["-"] == 2  # the refills come from no rule
    assert sum(by_rule.values()) == 5 and len(by_rule) == 3
    by_agent = {
        r.group: (r.shown, r.accepted, r.declined) for r in ann.conversion(since, until, "agent")
    }
    # ann accepted november's refill: the agent recorded on it is who reacted.
    assert by_agent == {"Ann Agent": (2, 1, 0), "Bob Agent": (3, 0, 1)}
    months = {r.group: r.shown for r in ann.conversion(since, until, "period")}
    assert months == {"2026-11": 2, "2026-12": 3}
    assert ann.conversion(until, until + dt.timedelta(days=1), "kind") == ()
    with pytest.raises(UserError):
        ann.conversion(since, until, "colour")


def _day(age: int) -> str:
    day = (NOW - dt.timedelta(days=age)).astimezone().date()
    return f"{day.day} {day:%b}"


def test_operations_show_and_react_name_the_impressions(world: World) -> None:
    services = build_services(load_settings(), world.engine)
    services = services.acting_as(agent_context(world.engine, "ann"))
    items = world.service().suggest(world.ada).items[:2]
    shown = operations.show(services, world.ada, items, "op-view", case_id=None)
    assert shown.changes.items == {Change(Entity.SUGGESTION, i.id, world.ada) for i in shown.value}
    declined = operations.react(services, shown.value[0].id, OfferOutcome.DECLINED, "not_now")
    assert declined.value.decline_reason == "not_now"
    assert declined.changes.items == {Change(Entity.SUGGESTION, shown.value[0].id, world.ada)}
    accepted = operations.react(services, shown.value[1].id, OfferOutcome.ACCEPTED)
    assert accepted.value.outcome == "accepted"
    with pytest.raises(ValueError):
        operations.react(services, shown.value[1].id, OfferOutcome.OFFERED)


def test_link_orders_then_reads_only_the_orders_added_since(world: World) -> None:
    service = world.service()
    serum = next(i for i in service.suggest(world.ada).items if i.title == "Serum")
    (shown,) = service.record_shown(world.ada, [serum], "v")
    sweeper = SuggestionService(
        Database(world.engine), fixed_clock(NOW + dt.timedelta(days=2)),
        agent=agent_context(world.engine, "ann"), authority=Authority(True),  # type: ignore[arg-type]
    )  # fmt: skip
    assert sweeper.link_orders() == 0  # the first sweep: the impressions of the month
    with Database(world.engine).write() as session:
        order = _order(
            session,
            world.ada,
            "L1",
            NOW + dt.timedelta(days=1),
            [(world.products["serum"], 1, 4000)],
        )
    assert sweeper.link_orders() == 1  # the next: the orders added since, this one
    assert sweeper.link_orders() == 0
    with Database(world.engine).read() as session:
        assert session.get(OfferEvent, shown.id).order_id == order  # type: ignore[union-attr]


def test_only_her_latest_orders_are_read(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pop costs the same for 500 orders or 10,000: with only her latest order read,
    the cream has no rhythm and the cleanser (in her oldest order) is not hers."""
    monkeypatch.setattr(suggestions_module, "ORDERS_READ", 1)
    found = world.service().suggest(world.ada)
    kinds = _by_kind(found.items)
    assert "refill" not in kinds
    assert "Serum" not in kinds.get("add_on", [])  # its rule needs cream and cleanser
    assert "Mask" in kinds["add_on"]  # cream alone is enough for this one
