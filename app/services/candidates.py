"""The candidates of a suggestion and their words: the reads `SuggestionService.suggest`
(app/services/suggestions.py) makes at the pop, built once with bound parameters, and
the pure steps that turn what she bought into refills, add-ons, catalogue relations and
down-sells, ranked and worded. Split from the service so each file is one thing: what
can be suggested (here), and the service that suggests and records (there)."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Integer, and_, bindparam, func, or_, select

from app import refills
from app.services.churn_facts import Reader
from app.services.views import (
    Suggestion,
)
from models.catalog import Product, ProductRelation, StoreStock
from models.commerce import Order, OrderLine
from models.enums import (
    OfferKind,
    OrderStatus,
    ProductRelationKind,
)
from models.people import Customer
from models.suggestions import AssociationRule, AssociationRuleItem, Offer, RuleRun

DOWN_SELL_CHEAPER = 0.85  # a down-sell saves at least 15%
DOWN_SELLS = 1  # one cheaper alternative says it; more would crowd out the rest
# A rhythm whose upper quartile is more than this times the lower is chance, not habit.
REGULAR_SPREAD = 2.0
RULES_READ = 30  # the best rules that apply; more could never reach the five shown
# Candidates looked up (product, price, stock) at most: the best by score. Some drop
# out (discontinued, unavailable), so well over the five shown.
CANDIDATES_READ = 20

# Ranking: a base per kind; the kind's own measure adds within its band, and a product
# above her usual order value loses ABOVE_BUDGET_PENALTY (ranked lower, still shown).
BASE_SCORE = {
    OfferKind.RETENTION: 100.0,
    OfferKind.WELCOME: 90.0,
    OfferKind.REFILL: 80.0,
    OfferKind.ADD_ON: 60.0,
    OfferKind.DOWN_SELL: 55.0,
    OfferKind.COUNTERPART: 50.0,
    OfferKind.NEW_LINE: 45.0,
}
ABOVE_BUDGET_PENALTY = 30.0


@dataclass
class Candidate:
    product_id: int
    kind: OfferKind
    reason: str
    score: float
    rule_id: int | None = None
    rule_ref: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Bought:
    """One order line of the customer's, with its order and product."""

    order_id: int
    placed_at: dt.datetime
    currency: str
    total_cents: int
    product_id: int | None
    quantity: int
    unit_price_cents: int
    name: str | None
    product_line: str | None
    category: str | None


@dataclass(frozen=True)
class RuleRow:
    """A current association rule as `suggest` uses it."""

    id: int
    antecedents: tuple[int, ...]
    consequents: tuple[int, ...]
    confidence: float
    lift: float

    @property
    def ref(self) -> str:
        return f"{','.join(map(str, self.antecedents))}=>{','.join(map(str, self.consequents))}"


_LATEST_RUN = select(RuleRun.id, RuleRun.mined_at).order_by(RuleRun.id.desc()).limit(1)
# Per rule, how many of its antecedents she bought (ix_association_rule_items_product);
# a rule applies when that is all of them. Grouped first, so both planners start from
# her products (a few dozen items) and fetch each rule by its key.
_MATCHED = (
    select(AssociationRuleItem.rule_id, func.count().label("matched"))
    .where(
        AssociationRuleItem.product_id.in_(bindparam("products", expanding=True)),
        AssociationRuleItem.side == "a",
    )
    .group_by(AssociationRuleItem.rule_id)
    .subquery()
)
_RULES = (
    select(
        AssociationRule.id,
        AssociationRule.antecedent_key,
        AssociationRule.consequent_key,
        AssociationRule.confidence,
        AssociationRule.lift,
    )
    .join(_MATCHED, _MATCHED.c.rule_id == AssociationRule.id)
    .where(
        AssociationRule.run_id == bindparam("run"),
        _MATCHED.c.matched == AssociationRule.antecedent_size,
    )
    .order_by(AssociationRule.lift.desc(), AssociationRule.confidence.desc(), AssociationRule.id)
    .limit(RULES_READ)
)


def rules_for(session: Reader, run_id: int, product_ids: Sequence[int]) -> list[RuleRow]:
    """The best RULES_READ rules (by lift, then confidence) of the run `run_id` whose
    antecedents are all among `product_ids`: the one read of the rules at the pop (by
    ix_association_rule_items_product; the subset test is the count of matches)."""
    if not product_ids:
        return []
    rows = session.execute(_RULES, {"products": list(product_ids), "run": run_id}).all()
    return [
        RuleRow(rid, _ids(a), _ids(c), float(conf), float(lift)) for rid, a, c, conf, lift in rows
    ]


def _ids(key: str) -> tuple[int, ...]:
    return tuple(int(part) for part in key.split(",") if part)


# -- the pieces of `suggest` ------------------------------------------------------------

# Built once (the pop runs them for every customer): only their parameters change.
# The customer, the latest rule run and her order lines with their products, in one
# round trip (one row with no order when she has none; none when she does not exist).
BOUGHT = (
    select(
        Customer.customer_since,
        Customer.tier,
        select(RuleRun.id).order_by(RuleRun.id.desc()).limit(1).scalar_subquery(),
        select(RuleRun.mined_at).order_by(RuleRun.id.desc()).limit(1).scalar_subquery(),
        Order.id,
        Order.placed_at,
        Order.currency,
        Order.total_cents,
        OrderLine.product_id,
        OrderLine.quantity,
        OrderLine.unit_price_cents,
        Product.name,
        Product.product_line,
        Product.category,
    )
    .select_from(Customer)
    .outerjoin(
        Order,
        and_(
            Order.customer_id == Customer.id,
            Order.status.not_in((OrderStatus.CANCELLED, OrderStatus.RETURNED)),
            # Her latest `orders` only (suggestions.ORDERS_READ), as the customer view's
            # "last bought": a pop costs the same for 500 orders or 10,000.
            Order.id.in_(
                select(Order.id)
                .where(Order.customer_id == bindparam("customer"))
                .order_by(Order.placed_at.desc(), Order.id.desc())
                .limit(bindparam("orders", type_=Integer))
            ),
        ),
    )
    .outerjoin(OrderLine, OrderLine.order_id == Order.id)
    .outerjoin(Product, Product.id == OrderLine.product_id)
    .where(Customer.id == bindparam("customer"))
)
_RELATIONS = select(
    ProductRelation.product_id,
    ProductRelation.related_product_id,
    ProductRelation.kind,
    ProductRelation.note,
).where(
    or_(
        and_(
            ProductRelation.product_id.in_(bindparam("owned", expanding=True)),
            ProductRelation.kind.in_(
                (ProductRelationKind.COUNTERPART, ProductRelationKind.COMPLEMENTS)
            ),
        ),
        and_(
            ProductRelation.related_product_id.in_(bindparam("owned", expanding=True)),
            ProductRelation.kind == ProductRelationKind.COUNTERPART,
        ),
    )
)
_RANGE = select(Product.id, Product.product_line, Product.category, Product.price_cents).where(
    Product.active.is_(True),
    or_(
        Product.product_line.in_(bindparam("lines", expanding=True)),
        Product.category.in_(bindparam("categories", expanding=True)),
    ),
)
_MOST_IN_A_STORE = (
    select(func.max(StoreStock.quantity))
    .where(StoreStock.product_id == Product.id)
    .correlate(Product)
    .scalar_subquery()
)
_PRODUCTS = select(
    Product.id,
    Product.name,
    Product.sku,
    Product.price_cents,
    Product.active,
    Product.launch_date,
    _MOST_IN_A_STORE,
).where(Product.id.in_(bindparam("ids", expanding=True)))


def bought_row(r: Sequence[Any]) -> _Bought:
    return _Bought(
        order_id=r[0],
        placed_at=r[1],
        currency=r[2],
        total_cents=int(r[3]),
        product_id=r[4],
        quantity=int(r[5] or 1),
        unit_price_cents=int(r[6] or 0),
        name=r[7],
        product_line=r[8],
        category=r[9],
    )


def usual_order(bought: list[_Bought]) -> tuple[str, int, list[tuple[dt.datetime, int]]]:
    """Her main currency (most orders), the median order in it, and those orders."""
    orders: dict[int, _Bought] = {}
    for b in bought:
        orders.setdefault(b.order_id, b)
    per_currency: dict[str, list[tuple[dt.datetime, int]]] = {}
    for b in orders.values():
        per_currency.setdefault(b.currency, []).append((b.placed_at, b.total_cents))
    if not per_currency:
        return "USD", 0, []
    currency = max(per_currency, key=lambda c: (len(per_currency[c]), c))
    main = per_currency[currency]
    return currency, int(statistics.median(total for _p, total in main)), main


def refill_candidates(bought: list[_Bought], today: dt.date) -> list[Candidate]:
    per_product: dict[int, list[tuple[dt.date, int]]] = {}
    for b in bought:
        if b.product_id is not None:
            per_product.setdefault(b.product_id, []).append(
                (b.placed_at.astimezone().date(), b.quantity)
            )
    found = []
    for product_id, purchases in per_product.items():
        rhythm = refills.rhythm(purchases)
        if rhythm is None or not rhythm.is_due(today):
            continue
        if rhythm.high_days > REGULAR_SPREAD * max(rhythm.low_days, 1.0):
            continue
        overdue = (today - rhythm.due_on).days
        found.append(
            Candidate(
                product_id,
                OfferKind.REFILL,
                rhythm.words(today),
                BASE_SCORE[OfferKind.REFILL] + min(10.0, overdue / 7),
                extra={"last": rhythm.last},
            )
        )
    return found


def add_on_candidates(
    rules: list[RuleRow], recent: set[int], owned: set[int], names: dict[int, str | None]
) -> list[Candidate]:
    found = []
    for rule in rules:
        if not set(rule.antecedents) <= recent:
            continue
        bought = " and ".join(str(names.get(p) or f"#{p}") for p in rule.antecedents)
        reason = f"{round(100 * rule.confidence)}% of customers who bought {bought} also bought it"
        for product_id in rule.consequents:
            if product_id in owned:
                continue
            found.append(
                Candidate(
                    product_id,
                    OfferKind.ADD_ON,
                    reason,
                    BASE_SCORE[OfferKind.ADD_ON] + min(rule.lift, 10.0) + rule.confidence,
                    rule_id=rule.id,
                    rule_ref=rule.ref,
                )
            )
    return found


def related_candidates(
    session: Reader, owned: set[int], names: dict[int, str | None]
) -> list[Candidate]:
    if not owned:
        return []
    rows = session.execute(_RELATIONS, {"owned": sorted(owned)}).all()
    found = []
    for product_id, related_id, kind, note in rows:
        if kind == ProductRelationKind.COUNTERPART:
            # A counterpart goes both ways: his for her, hers for him.
            mine = product_id in owned
            have, other = (product_id, related_id) if mine else (related_id, product_id)
            if other in owned:
                continue
            reason = f"the counterpart of {names.get(have) or 'what she owns'}"
            kind_made = OfferKind.COUNTERPART
        else:
            have, other = product_id, related_id
            if other in owned:
                continue
            reason = f"a newer line that complements {names.get(have) or 'what she uses'}"
            kind_made = OfferKind.NEW_LINE
        if note:
            reason = f"{reason} ({note})"
        found.append(Candidate(other, kind_made, reason, BASE_SCORE[kind_made]))
    return found


def down_sell_candidates(
    session: Reader, recent: list[_Bought], owned: set[int], why: str
) -> list[Candidate]:
    """The cheapest product of the same range (product line, else category) as the
    latest purchases, at least 15% below what she paid."""
    latest: dict[int, _Bought] = {}
    for b in sorted(recent, key=lambda b: b.placed_at, reverse=True):
        if b.product_id is not None and b.product_id not in latest:
            latest[b.product_id] = b
    ranges = {b.product_line for b in latest.values() if b.product_line}
    categories = {b.category for b in latest.values() if not b.product_line and b.category}
    if not ranges and not categories:
        return []
    rows = session.execute(
        _RANGE, {"lines": sorted(ranges), "categories": sorted(categories)}
    ).all()
    found: list[Candidate] = []
    used: set[int] = set()
    for b in latest.values():
        paid = b.unit_price_cents
        if paid <= 0:
            continue
        same = [
            (price, pid)
            for pid, line, category, price in rows
            if (line == b.product_line if b.product_line else category == b.category)
            and pid not in owned
            and pid not in used
            and price <= DOWN_SELL_CHEAPER * paid
        ]
        if not same:
            continue
        price, pid = min(same)
        used.add(pid)
        cheaper = round(100 * (paid - price) / paid)
        found.append(
            Candidate(
                pid,
                OfferKind.DOWN_SELL,
                f"same range as {b.name}, {cheaper}% cheaper ({why})",
                BASE_SCORE[OfferKind.DOWN_SELL] + cheaper / 100,
            )
        )
        if len(found) >= DOWN_SELLS:
            break
    return found


def products_of(session: Reader, ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = session.execute(_PRODUCTS, {"ids": ids}).all()
    return {
        pid: {
            "name": name,
            "sku": sku,
            "price_cents": int(price),
            "active": bool(active),
            "launch_date": launch,
            "stock": int(most or 0),
        }
        for pid, name, sku, price, active, launch, most in rows
    }


def to_suggestion(
    c: Candidate,
    product: dict[str, Any] | None,
    owned: set[int],
    usual: int,
    currency: str,
    today: dt.date,
) -> Suggestion | None:
    if product is None or not product["active"]:
        return None  # discontinued
    if c.kind != OfferKind.REFILL and c.product_id in owned:
        return None
    launch: dt.date | None = product["launch_date"]
    coming = launch is not None and launch > today
    reason = c.reason
    if coming:
        if c.kind not in (OfferKind.COUNTERPART, OfferKind.NEW_LINE):
            return None
        assert launch is not None
        reason = f"{reason}: from {launch.day} {launch:%b}"
    elif product["stock"] <= 0:
        return None  # unavailable: in no store and no launch to wait for
    price = product["price_cents"]
    above = usual > 0 and price > usual
    score = c.score - (ABOVE_BUDGET_PENALTY if above else 0.0)
    return Suggestion(
        key=f"{c.kind.value}:{c.product_id}",
        kind=c.kind.value,
        title=product["name"],
        reason=reason,
        product_id=c.product_id,
        sku=product["sku"],
        price_cents=price,
        currency=currency,
        budget="above" if above else "within",
        rule_id=c.rule_id,
        rule_ref=c.rule_ref,
        available_from=launch if coming else None,
        score=score,
    )


def offer_value(offer: Offer, usual: int) -> int:
    """What granting the offer is worth: its amount (a credit, or a percentage's cap),
    else the percentage of her usual order."""
    if offer.amount_cents is not None:
        return int(offer.amount_cents)
    if offer.percent is not None:
        return round(float(offer.percent) * usual / 100)
    return 0
