"""The facts `app/churn.py` scores, read for one customer in three indexed queries (the
customer's commitments, open cases with their contacts, recent feedback). Shared by
the suggestions (the pop) and the authority's relationship summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, bindparam, cast, func, literal, null, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app import churn
from app.clock import local_today
from app.errors import UserError
from app.services.views import ChurnRisk
from models.commerce import Order
from models.enums import OPEN_CASE_STATUSES, CommitmentStatus, OrderStatus, Sentiment
from models.people import Customer
from models.service import Case, Commitment, Feedback, Interaction

# What the reads run on: a session, or (at the pop) its connection for Core rows.
Reader = Session | Connection

# Words that say a complaint is about the price (a down-sell then helps, not hurts).
PRICE_WORDS = ("price", "expensive", "too much", "cost", "afford", "cheaper", "overpriced")


@dataclass(frozen=True)
class Trouble:
    """What the service reads besides the churn facts: is anything open about price?"""

    broken_commitments: int
    repeat_contacts: int
    unresolved_cases: int
    negative_feedback: int
    about_price: bool


def about_price(text: str | None) -> bool:
    lowered = (text or "").lower()
    return any(word in lowered for word in PRICE_WORDS)


# Built once (the pop runs it for every customer): only its parameters change. One
# round trip: the broken promises (ix_commitments_customer_status), the open cases with
# their contacts (ix_cases_customer_status, interactions by case) and the recent
# feedback (by customer), as rows (kind, at, text, label, number).
_CONTACTS = (
    select(func.count()).where(Interaction.case_id == Case.id).correlate(Case).scalar_subquery()
)
_TROUBLE = union_all(
    select(
        literal("b").label("kind"),
        func.max(Commitment.due_until).label("at"),
        cast(null(), String).label("text"),
        cast(null(), String).label("label"),
        func.count().label("number"),
    ).where(
        Commitment.customer_id == bindparam("customer"),
        Commitment.status == CommitmentStatus.BROKEN,
        func.coalesce(Commitment.broken_at, Commitment.due_until) >= bindparam("broken_since"),
    ),
    select(
        literal("c"),
        Case.opened_at,
        cast(Case.subject, String),
        cast(Case.category, String),
        _CONTACTS,
    ).where(Case.customer_id == bindparam("customer"), Case.status.in_(OPEN_CASE_STATUSES)),
    select(
        literal("f"),
        Feedback.received_at,
        cast(Feedback.text, String),
        cast(Feedback.sentiment, String),
        Feedback.rating,
    ).where(
        Feedback.customer_id == bindparam("customer"),
        Feedback.received_at >= bindparam("feedback_since"),
    ),
)


def trouble(session: Reader, customer_id: int, now: dt.datetime) -> Trouble:
    """Broken promises, open cases with their contacts, recent feedback: one statement."""
    rows = session.execute(
        _TROUBLE,
        {
            "customer": customer_id,
            "broken_since": now - dt.timedelta(days=churn.BROKEN_WINDOW_DAYS),
            "feedback_since": now - dt.timedelta(days=churn.FEEDBACK_WINDOW_DAYS),
        },
    ).all()
    broken = sum(int(n or 0) for kind, _a, _t, _l, n in rows if kind == "b")
    cases = [(at, text, label, int(n or 0)) for kind, at, text, label, n in rows if kind == "c"]
    feedback = [(text, label, n) for kind, _a, text, label, n in rows if kind == "f"]
    stale_before = now - dt.timedelta(days=churn.STALE_CASE_DAYS)
    negative = [
        text
        for text, sentiment, rating in feedback
        if sentiment == Sentiment.NEGATIVE.value or (rating is not None and rating <= 2)
    ]
    return Trouble(
        broken_commitments=broken,
        repeat_contacts=max((n for *_r, n in cases), default=0),
        unresolved_cases=sum(1 for opened, *_r in cases if _aware(opened) < stale_before),
        negative_feedback=len(negative),
        about_price=any(about_price(f"{subject} {category}") for _o, subject, category, _n in cases)
        or any(about_price(text) for text, _s, _r in feedback),
    )


def _aware(moment: Any) -> dt.datetime:
    """A union's column comes back as the driver gives it: SQLite's is naive UTC text."""
    found: dt.datetime = dt.datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return found if found.tzinfo else found.replace(tzinfo=dt.UTC)


def facts(
    found: Trouble,
    tenure_years: int | None,
    tier: str | None,
    spend_last_year_cents: int,
    spend_year_before_cents: int,
    orders_year_before: int,
) -> churn.ChurnFacts:
    return churn.ChurnFacts(
        tenure_years=tenure_years,
        tier=tier,
        broken_commitments=found.broken_commitments,
        repeat_contacts=found.repeat_contacts,
        unresolved_cases=found.unresolved_cases,
        negative_feedback=found.negative_feedback,
        spend_last_year_cents=spend_last_year_cents,
        spend_year_before_cents=spend_year_before_cents,
        orders_year_before=orders_year_before,
    )


def yearly_spend(orders: list[tuple[dt.datetime, int]], now: dt.datetime) -> tuple[int, int, int]:
    """Spend over the last 12 months, over the 12 before, and the orders of those 12,
    from (placed_at, total) pairs."""
    year = dt.timedelta(days=365)
    last = sum(total for placed, total in orders if placed > now - year)
    earlier = [total for placed, total in orders if now - 2 * year < placed <= now - year]
    return last, sum(earlier), len(earlier)


def customer_churn(session: Session, customer_id: int, now: dt.datetime) -> ChurnRisk:
    """The churn risk of one customer (the header's, the relationship summary's)."""
    customer = session.execute(
        select(Customer.customer_since, Customer.tier).where(Customer.id == customer_id)
    ).first()
    if customer is None:
        raise UserError(f"customer {customer_id} does not exist")
    today = local_today(lambda: now)
    orders = session.execute(
        select(Order.placed_at, Order.total_cents, Order.currency).where(
            Order.customer_id == customer_id,
            Order.status.not_in((OrderStatus.CANCELLED, OrderStatus.RETURNED)),
            Order.placed_at >= now - dt.timedelta(days=2 * 365),
        )
    ).all()
    per_currency: dict[str, list[tuple[dt.datetime, int]]] = {}
    for placed, total, currency in orders:
        per_currency.setdefault(currency, []).append((placed, int(total)))
    main = max(per_currency.values(), key=len, default=[])
    found = trouble(session, customer_id, now)
    return churn.churn_risk(
        facts(
            found,
            tenure(customer[0], today),
            tier_name(customer[1]),
            *yearly_spend(main, now),
        )
    )


def tenure(since: dt.date | None, today: dt.date) -> int | None:
    if since is None:
        return None
    years = today.year - since.year - ((today.month, today.day) < (since.month, since.day))
    return max(0, years)


def tier_name(tier: Any) -> str | None:
    return None if tier is None else str(getattr(tier, "value", tier))


def in_words(risk: ChurnRisk) -> str:
    """ "high: 2 broken promises in the last 6 months; ..." (the level alone with none)."""
    return f"{risk.level}: {risk.summary}" if risk.factors else risk.level
