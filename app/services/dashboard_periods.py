"""The dashboards' arithmetic over both periods (app/services/dashboards.py): each
dashboard statement reads the period and the one before in one pass over
[previous start, end) and tells them apart with `period_flag`, so a slice's sub-queries
and scans are paid once per open instead of once per period (issue 14's bench.dashboard,
docs/benchmarks.md); and the figures of one period from the rows it returned."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from app.services.dashboard_sql import Slice, conceded_anchors, similar_anchors, spent_within
from models.commerce import Order
from models.enums import Sentiment
from models.people import Customer


def count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def rate(part: float, whole: float) -> float | None:
    return None if not whole else round(100.0 * part / whole, 1)


def both_periods(s: Slice) -> Slice:
    """The period and the one before as one slice: [previous start, end)."""
    return replace(s, start=s.previous.start, previous_start=None)


def period_flag(s: Slice) -> Callable[[Any], Any]:
    """1 for a time in the period, 0 for one before it (within `span`)."""
    return lambda column: case((column >= s.start, 1), else_=0)


def per_period(
    session: Session, rows: Any, hit: Callable[[Any], ColumnElement[bool]]
) -> dict[int, tuple[int, int]]:
    """(rows, rows where `hit`) per period of `rows` (columns now, n), in one statement:
    `n` (a correlated count) is computed once per row in the sub-query."""
    sub = rows.subquery()
    counts = session.execute(
        select(sub.c.now, func.count(), count_if(hit(sub.c.n))).group_by(sub.c.now)
    ).all()
    found = {int(p): (int(n), int(h)) for p, n, h in counts}
    return {p: found.get(p, (0, 0)) for p in (0, 1)}


def contact_figures(
    contacts: int, fcr: tuple[int, int], repeat: tuple[int, int], feedback: list[Any]
) -> dict[str, Any]:
    """One period's contact-quality figures; `feedback` rows are (sentiment, count,
    rated, 4 or 5, sum of ratings)."""
    by_sentiment = {str(k): int(n) for k, n, *_ in feedback}
    rated = sum(int(r[2]) for r in feedback)
    return {
        "contacts": contacts,
        "fcr": rate(fcr[1], fcr[0]),
        "repeat": rate(repeat[1], repeat[0]),
        "csat": rate(sum(int(r[3]) for r in feedback), rated),
        "rating": round(sum(int(r[4]) for r in feedback) / rated, 2) if rated else None,
        "feedback": sum(by_sentiment.values()),
        "sentiment": by_sentiment,
        "negative": rate(by_sentiment.get(Sentiment.NEGATIVE.value, 0), sum(by_sentiment.values())),
    }


def concession_figures(
    by_type: Any, conceded: dict[str, tuple[int, int]], similar: dict[str, tuple[int, int]]
) -> dict[str, Any]:
    """One period's concession figures from its rows by type and its groups' (count,
    spend) per tier."""
    people = sum(n for n, _ in conceded.values())
    spent = sum(total for _, total in conceded.values())
    # Tier-matched: each conceded customer compared with the similar ones of her tier.
    overall_n = sum(n for n, _ in similar.values())
    overall = sum(t for _, t in similar.values()) / overall_n if overall_n else None
    expected = 0.0
    for tier, (n, _) in conceded.items():
        sn, stotal = similar.get(tier, (0, 0))
        mean = stotal / sn if sn else overall
        if mean is None:
            expected = float("nan")
            break
        expected += n * mean
    similar_mean = expected / people if people and expected == expected else overall
    return {
        "by_type": {str(t): (int(n), int(a or 0), int(c)) for t, n, a, c in by_type},
        "count": sum(int(n) for _, n, _a, _c in by_type),
        "amount": sum(int(a or 0) for _, _n, a, _c in by_type),
        "customers": people,
        "spend": spent / people if people else None,
        "similar": similar_mean,
        "similar_n": overall_n,
    }


SpendGroups = dict[tuple[int, str], dict[str, tuple[int, int]]]


def spend_by_group(
    session: Session, cuts: tuple[tuple[int, Slice], ...], backend: str
) -> SpendGroups:
    """(customers, their 90-day spend) per tier, for each (period flag, "conceded" or
    "similar") of `cuts`, in one statement: the four anchor sets joined to customers
    once for their tier (four scans of customers, one per statement, became one)."""
    anchors = union_all(
        *(
            select(
                literal(now).label("now"),
                literal(name).label("grp"),
                sets.c.customer_id,
                sets.c.anchor,
            )
            for now, cut in cuts
            for name, sets in (
                ("conceded", conceded_anchors(cut)),
                ("similar", similar_anchors(cut)),
            )
        )
    ).subquery()
    # Each customer's spend by a join, not a correlated sub-query: PostgreSQL runs a
    # join's index probes in its parallel workers and a sub-plan only in the leader
    # (1.09 s -> 0.63 s at a million customers, docs/benchmarks.md).
    per_customer = (
        select(
            anchors.c.now,
            anchors.c.grp,
            Customer.tier,
            func.coalesce(func.sum(Order.total_cents), 0).label("spend"),
        )
        .select_from(anchors)
        .join(Customer, Customer.id == anchors.c.customer_id)
        .outerjoin(Order, spent_within(anchors.c.customer_id, anchors.c.anchor, backend))
        .group_by(anchors.c.now, anchors.c.grp, anchors.c.customer_id, Customer.tier)
        .subquery()
    )
    rows = session.execute(
        select(per_customer.c.now, per_customer.c.grp, per_customer.c.tier, func.count())
        .add_columns(func.sum(per_customer.c.spend))
        .group_by(per_customer.c.now, per_customer.c.grp, per_customer.c.tier)
    ).all()
    groups: SpendGroups = {(now, name): {} for now, _ in cuts for name in ("conceded", "similar")}
    for now, name, tier, n, total in rows:
        groups[(int(now), str(name))][str(tier)] = (int(n), int(total or 0))
    return groups
