"""Keep `customer_values` current: every active customer's RFM scores and segment,
recomputed in set-based SQL (a DELETE, INSERT ... SELECTs with window functions and,
on SQLite, an UPDATE ... FROM for the product lines), so a million customers cost no
Python loop. The scores and segments follow app/segments.py (its formula and its
`RULES`, turned into the SQL CASE here).

`customers.segment` is left alone: it is the profile segment the seed or an import
gives ("premium", "families"), shown as such in the customer header; the value segment
("Champions", "At risk") lives here and is what the marketing lists select on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    null,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from app.clock import Clock, system_clock
from app.segments import NEW, NEW_WITHIN_DAYS, NO_PURCHASE, RULES
from models.base import UTCDateTime
from models.catalog import Product
from models.commerce import Order, OrderLine
from models.database import Database
from models.enums import CustomerStatus, OrderStatus
from models.marketing import CustomerValue
from models.people import Customer

STALE_AFTER = dt.timedelta(days=1)  # the housekeeping sweep refreshes values older than this
_LINES_MAX = 500  # customer_values.product_lines' size
# One refresh at a time on PostgreSQL: another client's sweep skips rather than queues.
_ADVISORY_LOCK = 0x52464D  # "RFM"


@dataclass(frozen=True)
class RefreshSummary:
    customers: int  # rows written (active customers)
    buyers: int  # of whom bought in the window
    computed_at: dt.datetime
    skipped: bool = False  # another client was refreshing (PostgreSQL) or values were fresh


@dataclass(frozen=True)
class SegmentCount:
    segment: str
    customers: int


class SegmentService:
    """Refresh and read the value segments."""

    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self._db = db
        self._clock = clock

    def refresh(self, *, only_if_stale: bool = False) -> RefreshSummary:
        """Recompute every active customer's values in one transaction. `only_if_stale`
        (the housekeeping sweep): do nothing when the values are younger than a day."""
        now = self._clock()
        if only_if_stale:  # a read first: the sweep asks every minute, it is fresh all day
            with self._db.lookup() as session:
                if not _stale(session, now):
                    return RefreshSummary(0, 0, now, skipped=True)
        with self._db.write() as session:
            if session.get_bind().dialect.name == "postgresql":
                got = session.execute(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK}
                ).scalar_one()
                if not got:
                    return RefreshSummary(0, 0, now, skipped=True)
            if only_if_stale and not _stale(session, now):
                return RefreshSummary(0, 0, now, skipped=True)
            session.execute(delete(CustomerValue))
            for statement in _insert_values(session, now):
                session.execute(statement)
            customers, buyers = session.execute(
                select(
                    func.count(),
                    func.coalesce(
                        func.sum(case((CustomerValue.last_order_at.is_not(None), 1), else_=0)),
                        0,
                    ),
                )
            ).one()
        return RefreshSummary(int(customers), int(buyers), now)

    def last_computed(self) -> dt.datetime | None:
        with self._db.lookup() as session:
            return session.execute(select(func.max(CustomerValue.computed_at))).scalar()

    def counts(self) -> list[SegmentCount]:
        """Customers per value segment, largest first."""
        with self._db.lookup() as session:
            rows = session.execute(
                select(CustomerValue.segment, func.count())
                .group_by(CustomerValue.segment)
                .order_by(func.count().desc(), CustomerValue.segment)
            ).all()
        return [SegmentCount(name, int(n)) for name, n in rows]

    def segment_of(self, customer_id: int) -> str | None:
        with self._db.lookup() as session:
            return session.execute(
                select(CustomerValue.segment).where(CustomerValue.customer_id == customer_id)
            ).scalar()


def _stale(session: Session, now: dt.datetime) -> bool:
    last = session.execute(select(func.max(CustomerValue.computed_at))).scalar()
    return last is None or now - last >= STALE_AFTER


def _at(value: dt.datetime) -> ColumnElement[Any]:
    return literal(value, UTCDateTime())


def _score(value: ColumnElement[Any]) -> ColumnElement[int]:
    """app/segments.py's `1 + (rank - 1) * 5 // n` over the buyers (integer division on
    both databases)."""
    rank = func.rank().over(order_by=value)
    return 1 + (rank - 1) * 5 // func.count().over()


def _segment_case(
    recency: Any, frequency: Any, monetary: Any, first_order: Any, now: dt.datetime
) -> ColumnElement[str]:
    """`app.segments.segment_for` as a CASE over the same rules."""

    def within(column: Any, bounds: tuple[int, int]) -> ColumnElement[bool]:
        return and_(column >= bounds[0], column <= bounds[1])

    whens: list[tuple[ColumnElement[bool], str]] = [
        (recency.is_(None), NO_PURCHASE),
        (first_order >= _at(now - dt.timedelta(days=NEW_WITHIN_DAYS)), NEW),
    ]
    for rule in RULES:
        whens.append(
            (
                and_(
                    within(recency, rule.recency),
                    within(frequency, rule.frequency),
                    within(monetary, rule.monetary),
                ),
                rule.name,
            )
        )
    return case(*whens, else_=RULES[-1].name)


def _insert_values(session: Session, now: dt.datetime) -> list[Any]:
    """Two INSERT ... SELECTs and, on SQLite, an UPDATE ... FROM: the buyers (aggregate
    the orders per active customer, score them with window functions, name the segment),
    every other active customer as "No purchase", then the product lines each bought.

    Three statements, not one with outer joins between derived tables: SQLite does not
    always index a materialised sub-query and then scans it once per customer (20,000
    customers took 90 s that way). Joined to customer_values, the lines meet a primary
    key."""
    year_ago = now - dt.timedelta(days=365)
    two_years_ago = now - dt.timedelta(days=730)
    buyers = (
        select(
            Order.customer_id.label("customer_id"),
            func.max(Order.placed_at).label("last_order_at"),
            func.min(Order.placed_at).label("first_order_at"),
            func.sum(case((Order.placed_at >= _at(year_ago), 1), else_=0)).label("orders_12m"),
            func.sum(
                case((Order.placed_at >= _at(two_years_ago), Order.total_cents), else_=0)
            ).label("monetary_cents"),
        )
        .join(Customer, Customer.id == Order.customer_id)
        .where(
            Order.status != OrderStatus.CANCELLED,
            Order.placed_at <= _at(now),
            Customer.status == CustomerStatus.ACTIVE,
        )
        .group_by(Order.customer_id)
        .cte("buyers")
    )
    scored = select(
        buyers,
        _score(buyers.c.last_order_at).label("r"),
        _score(buyers.c.orders_12m).label("f"),
        _score(buyers.c.monetary_cents).label("m"),
    ).cte("scored")
    lines = _lines(session, two_years_ago, now)
    segment = _segment_case(scored.c.r, scored.c.f, scored.c.m, scored.c.first_order_at, now)
    # PostgreSQL hash-joins the lines in the INSERT (an UPDATE afterwards would write
    # every row twice: 2.7 s against 7 s at 20,000 customers); SQLite gets them after.
    joined = session.get_bind().dialect.name == "postgresql"
    scored_rows = select(
        scored.c.customer_id,
        scored.c.last_order_at,
        scored.c.orders_12m,
        scored.c.monetary_cents,
        scored.c.r,
        scored.c.f,
        scored.c.m,
        segment,
        func.substr(lines.c.product_lines, 1, _LINES_MAX) if joined else null(),
        _at(now),
    ).select_from(scored)
    if joined:
        scored_rows = scored_rows.outerjoin(lines, lines.c.customer_id == scored.c.customer_id)
    no_purchase = select(
        Customer.id,
        null(),
        literal(0),
        literal(0),
        literal(1),
        literal(1),
        literal(1),
        literal(NO_PURCHASE),
        null(),
        _at(now),
    ).where(
        Customer.status == CustomerStatus.ACTIVE,
        ~exists(select(CustomerValue.customer_id).where(CustomerValue.customer_id == Customer.id)),
    )
    columns = [
        "customer_id",
        "last_order_at",
        "orders_12m",
        "monetary_cents",
        "recency_score",
        "frequency_score",
        "monetary_score",
        "segment",
        "product_lines",
        "computed_at",
    ]
    with_lines = (
        update(CustomerValue)
        .values(product_lines=func.substr(lines.c.product_lines, 1, _LINES_MAX))
        .where(CustomerValue.customer_id == lines.c.customer_id)
    )
    statements = [
        insert(CustomerValue).from_select(columns, scored_rows),
        insert(CustomerValue).from_select(columns, no_purchase),
    ]
    return [*statements, with_lines] if not joined else statements


def _lines(session: Session, since: dt.datetime, now: dt.datetime) -> Any:
    """The product lines each customer bought over 24 months, sorted and comma-joined."""
    bought = (
        select(Order.customer_id.label("customer_id"), Product.product_line.label("line"))
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(
            Order.status != OrderStatus.CANCELLED,
            Order.placed_at >= _at(since),
            Order.placed_at <= _at(now),
            Product.product_line.is_not(None),
        )
        .distinct()
        .subquery("bought")
    )
    if session.get_bind().dialect.name == "postgresql":
        joined = func.string_agg(bought.c.line, aggregate_order_by(literal(","), bought.c.line))
        return (
            select(bought.c.customer_id, joined.label("product_lines"))
            .group_by(bought.c.customer_id)
            .subquery("lines")
        )
    # SQLite: group_concat keeps the order rows arrive in, so sort them first.
    ordered = select(bought).order_by(bought.c.customer_id, bought.c.line).subquery("ordered")
    return (
        select(
            ordered.c.customer_id,
            func.group_concat(ordered.c.line, literal(",")).label("product_lines"),
        )
        .group_by(ordered.c.customer_id)
        .subquery("lines")
    )
