"""The SQL pieces the dashboards share (app/services/dashboards.py): the period, the
slice's filters on each table, the 90-day spend after an anchor, and the drill-down
reads of cases, customers, concessions, impressions, contacts and feedback.

Every piece is SQLAlchemy Core that runs on SQLite and PostgreSQL; where the two
differ (adding days to a timestamp, the calendar day of one) `backend` chooses.
The slice filters are IN (subquery) conditions rather than joins, so each dashboard
reads its own table through its time index and the planner makes them semi-joins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.orm import Session

from models.authority import Concession
from models.catalog import Store
from models.commerce import Order
from models.enums import OrderStatus, Tier
from models.people import Customer, Department, User
from models.service import Case, Feedback, Interaction, OfferEvent

SPEND_DAYS = 90  # "what they spent in the following 90 days"
DRILL_LIMIT = 10_000  # rows a drill-down returns at most (the figure says how many)
# Orders that count as money spent: not cancelled and not sent back.
SPENT = (OrderStatus.PLACED, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED)


@dataclass(frozen=True)
class Slice:
    """What a dashboard shows: the period [start, end) and the optional filters.

    `previous` is the period just before (as long, unless `previous_start` says where
    it starts), with the same filters, shown beside every figure."""

    start: dt.datetime
    end: dt.datetime
    team: str | None = None
    department_id: int | None = None
    store_id: int | None = None
    segment: str | None = None
    tier: str | None = None
    # Where the previous period starts when it is not as long as this one (last
    # quarter beside the quarter before: 92 days beside 91).
    previous_start: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a dashboard period must end after it starts")

    @property
    def previous(self) -> Slice:
        start = self.previous_start or self.start - (self.end - self.start)
        return replace(self, start=start, end=self.start, previous_start=None)

    def within(self, start: dt.datetime, end: dt.datetime) -> Slice:
        """The same filters over a part of the period (a bar of a weekly chart)."""
        return replace(self, start=max(start, self.start), end=min(end, self.end))


@dataclass(frozen=True)
class Table:
    """Rows of a dashboard or of a drill-down, ready for the table and the export.

    `parts` (parallel to rows, may be empty) is what a row drills into; `truncated`
    says DRILL_LIMIT cut the rows short."""

    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    parts: tuple[str | None, ...] = ()
    truncated: bool = False


@dataclass(frozen=True)
class Figure:
    """One tile: `unit` is count, cents, percent or rating; None when nothing to measure."""

    key: str  # what `drill` takes: "cases.opened"
    label: str
    current: float | None
    previous: float | None
    unit: str = "count"
    hint: str = ""

    @property
    def change(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous


@dataclass(frozen=True)
class Bar:
    label: str
    current: float
    previous: float
    part: str | None = None  # what the bar drills into with `drill_key`


@dataclass(frozen=True)
class Choices:
    """What a slice may be narrowed to: (id, name) for departments and stores."""

    teams: tuple[str, ...]
    departments: tuple[tuple[int, str], ...]
    stores: tuple[tuple[int, str], ...]
    segments: tuple[str, ...]
    tiers: tuple[str, ...]


def slice_choices(session: Session) -> Choices:
    """The teams, departments, stores and segments there are (segments: one scan of
    customers, once when the page opens), and the tiers."""
    teams = select(User.team).where(User.team.is_not(None)).distinct().order_by(User.team)
    segments = (
        select(Customer.segment)
        .where(Customer.segment.is_not(None))
        .distinct()
        .order_by(Customer.segment)
    )
    return Choices(
        teams=tuple(session.scalars(teams)),
        departments=tuple(
            (i, n)
            for i, n in session.execute(
                select(Department.id, Department.name).order_by(Department.name)
            )
        ),
        stores=tuple(
            (i, n) for i, n in session.execute(select(Store.id, Store.name).order_by(Store.name))
        ),
        segments=tuple(s for s in session.scalars(segments) if s),
        tiers=tuple(t.value for t in Tier),
    )


StoreFilter = Callable[[int], ColumnElement[bool]]


def in_period(column: Any, s: Slice) -> ColumnElement[bool]:
    return (column >= s.start) & (column < s.end)  # type: ignore[no-any-return]


def scope(
    s: Slice,
    *,
    agent: Any,
    customer: Any,
    department: Any = None,
    store: StoreFilter | None = None,
) -> list[ColumnElement[bool]]:
    """The slice's filters on one table: whose agent (team, department), where (store)
    and which customers (segment, tier)."""
    where: list[ColumnElement[bool]] = []
    if s.team is not None:
        where.append(agent.in_(select(User.id).where(User.team == s.team)))
    if s.department_id is not None:
        if department is not None:
            where.append(department == s.department_id)
        else:
            where.append(agent.in_(select(User.id).where(User.department_id == s.department_id)))
    if s.store_id is not None and store is not None:
        where.append(store(s.store_id))
    if s.segment is not None:
        where.append(customer.in_(select(Customer.id).where(Customer.segment == s.segment)))
    if s.tier is not None:
        where.append(customer.in_(select(Customer.id).where(Customer.tier == s.tier)))
    return where


def order_store(order_id: Any) -> StoreFilter:
    return lambda store: order_id.in_(select(Order.id).where(Order.store_id == store))


def interaction_store(interaction_id: Any) -> StoreFilter:
    return lambda store: interaction_id.in_(
        select(Interaction.id).where(Interaction.store_id == store)
    )


def concession_scope(s: Slice) -> list[ColumnElement[bool]]:
    return [
        in_period(Concession.granted_at, s),
        *scope(
            s,
            agent=Concession.granted_by_id,
            customer=Concession.customer_id,
            store=order_store(Concession.order_id),
        ),
    ]


def offer_scope(s: Slice) -> list[ColumnElement[bool]]:
    return [
        in_period(OfferEvent.at, s),
        *scope(
            s,
            agent=OfferEvent.agent_id,
            customer=OfferEvent.customer_id,
            store=interaction_store(OfferEvent.interaction_id),
        ),
    ]


def case_filters(s: Slice) -> list[ColumnElement[bool]]:
    return scope(
        s,
        agent=Case.assignee_id,
        customer=Case.customer_id,
        department=Case.department_id,
        store=order_store(Case.order_id),
    )


def interaction_scope(s: Slice) -> list[ColumnElement[bool]]:
    return [
        in_period(Interaction.started_at, s),
        *scope(
            s,
            agent=Interaction.agent_id,
            customer=Interaction.customer_id,
            store=lambda store: Interaction.store_id == store,
        ),
    ]


def feedback_scope(s: Slice) -> list[ColumnElement[bool]]:
    """Feedback belongs to the agent of the contact it came from (none: the case's)."""
    agent = func.coalesce(
        select(Interaction.agent_id)
        .where(Interaction.id == Feedback.interaction_id)
        .scalar_subquery(),
        select(Case.assignee_id).where(Case.id == Feedback.case_id).scalar_subquery(),
    )
    return [
        in_period(Feedback.received_at, s),
        *scope(
            s,
            agent=agent,
            customer=Feedback.customer_id,
            store=interaction_store(Feedback.interaction_id),
        ),
    ]


def closed_at() -> Any:
    """When a case stopped being work: resolved, or closed without a resolution."""
    return func.coalesce(Case.resolved_at, Case.closed_at)


def contacts_of_case() -> Any:
    """How many contacts (interactions) a case had: ix on interactions.case_id."""
    return (
        select(func.count(Interaction.id))
        .where(Interaction.case_id == Case.id)
        .correlate(Case)
        .scalar_subquery()
    )


def plus_days(column: Any, days: int, backend: str) -> Any:
    if backend == "postgresql":
        return column + literal_column(f"interval '{int(days)} days'")
    return func.datetime(column, f"+{int(days)} days")


def day_of(column: Any, backend: str) -> Any:
    """The UTC calendar day of a timestamp as 'YYYY-MM-DD' (for weekly buckets)."""
    if backend == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


def spent_within(customer: Any, anchor: Any, backend: str) -> ColumnElement[bool]:
    """An order of `customer` that counts as spent in the SPEND_DAYS after `anchor`
    (ix_orders_customer_placed)."""
    return (  # type: ignore[no-any-return]
        (Order.customer_id == customer)
        & (Order.placed_at > anchor)
        & (Order.placed_at <= plus_days(anchor, SPEND_DAYS, backend))
        & Order.status.in_(SPENT)
    )


def spend_after(customer: Any, anchor: Any, backend: str) -> Any:
    """The customer's spend in the SPEND_DAYS after `anchor`, as a scalar sub-query."""
    return (
        select(func.coalesce(func.sum(Order.total_cents), 0))
        .where(spent_within(customer, anchor, backend))
        .scalar_subquery()
    )


def conceded_anchors(s: Slice) -> Any:
    """Customers granted a concession in the slice, with their first one's time."""
    return (
        select(
            Concession.customer_id.label("customer_id"),
            func.min(Concession.granted_at).label("anchor"),
        )
        .where(*concession_scope(s))
        .group_by(Concession.customer_id)
        .subquery()
    )


def similar_anchors(s: Slice) -> Any:
    """The comparison group: customers with a case opened in the slice and no
    concession at all in the period, anchored at their first such case."""
    return (
        select(Case.customer_id.label("customer_id"), func.min(Case.opened_at).label("anchor"))
        .where(
            in_period(Case.opened_at, s),
            *case_filters(s),
            Case.customer_id.not_in(
                select(Concession.customer_id).where(in_period(Concession.granted_at, s))
            ),
        )
        .group_by(Case.customer_id)
        .subquery()
    )
