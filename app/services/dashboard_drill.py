"""Drill-down (app/services/dashboards.py): the cases, customers, concessions,
impressions, contacts or feedback behind a dashboard figure, with the same slice
filters as the figure, so the rows match its count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.services.dashboard_sql import (
    DRILL_LIMIT,
    SPEND_DAYS,
    Slice,
    Table,
    case_filters,
    closed_at,
    conceded_anchors,
    concession_scope,
    contacts_of_case,
    feedback_scope,
    in_period,
    interaction_scope,
    offer_scope,
    similar_anchors,
    spend_after,
)
from models.authority import Concession
from models.enums import OfferOutcome, Sentiment
from models.people import Customer, Department, User
from models.service import Case, Feedback, Interaction, OfferEvent

# -- the tables of rows -------------------------------------------------------------------


def _limited(
    session: Session, query: Any, headers: Sequence[str], shape: Callable[[Any], tuple[Any, ...]]
) -> Table:
    rows = session.execute(query.limit(DRILL_LIMIT + 1)).all()
    return Table(
        headers=tuple(headers),
        rows=tuple(shape(r) for r in rows[:DRILL_LIMIT]),
        truncated=len(rows) > DRILL_LIMIT,
    )


def _when(value: dt.datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def _name(first: str | None, last: str | None) -> str:
    return " ".join(p for p in (first, last) if p)


def cases_table(session: Session, where: Sequence[ColumnElement[bool]]) -> Table:
    assignee = User.__table__.alias("assignee")
    query = (
        select(
            Case.reference,
            Customer.first_name,
            Customer.last_name,
            Case.subject,
            Department.name,
            assignee.c.display_name,
            Case.status,
            Case.opened_at,
            closed_at(),
            Case.sla_due_at,
            Case.sla_breached_at,
        )
        .join(Customer, Customer.id == Case.customer_id)
        .outerjoin(Department, Department.id == Case.department_id)
        .outerjoin(assignee, assignee.c.id == Case.assignee_id)
        .where(*where)
        .order_by(Case.opened_at, Case.id)
    )
    return _limited(
        session,
        query,
        ("Case", "Customer", "Subject", "Department", "Assignee", "Status", "Opened")
        + ("Resolved", "SLA due", "SLA breached"),
        lambda r: (
            r[0],
            _name(r[1], r[2]),
            r[3],
            r[4] or "",
            r[5] or "",
            str(r[6]),
            _when(r[7]),
            _when(r[8]),
            _when(r[9]),
            _when(r[10]),
        ),  # fmt: skip
    )


def concessions_table(session: Session, where: Sequence[ColumnElement[bool]]) -> Table:
    query = (
        select(
            Concession.granted_at,
            Customer.first_name,
            Customer.last_name,
            Concession.type,
            Concession.amount_cents,
            Concession.currency,
            User.display_name,
            Case.reference,
            Concession.reason,
        )
        .join(Customer, Customer.id == Concession.customer_id)
        .join(User, User.id == Concession.granted_by_id)
        .outerjoin(Case, Case.id == Concession.case_id)
        .where(*where)
        .order_by(Concession.granted_at, Concession.id)
    )
    return _limited(
        session,
        query,
        ("Granted", "Customer", "Type", "Amount", "Currency", "Granted by", "Case", "Reason"),
        lambda r: (
            _when(r[0]),
            _name(r[1], r[2]),
            str(r[3]),
            r[4] / 100,
            r[5],
            r[6],
            r[7] or "",
            r[8],
        ),  # fmt: skip
    )


def customers_table(session: Session, anchors: Any, backend: str) -> Table:
    """The customers of an anchors subquery with their spend in the SPEND_DAYS after."""
    spend = spend_after(anchors.c.customer_id, anchors.c.anchor, backend)
    query = (
        select(
            Customer.id,
            Customer.first_name,
            Customer.last_name,
            Customer.tier,
            Customer.segment,
            anchors.c.anchor,
            spend,
        )
        .join(Customer, Customer.id == anchors.c.customer_id)
        .order_by(Customer.id)
    )
    return _limited(
        session,
        query,
        ("Customer id", "Customer", "Tier", "Segment", "From", f"Spent in {SPEND_DAYS} days"),
        lambda r: (
            r[0],
            _name(r[1], r[2]),
            str(r[3]),
            r[4] or "",
            _when(_aware(r[5])),
            int(r[6]) / 100,
        ),  # fmt: skip
    )


def _aware(value: Any) -> dt.datetime | None:
    """min() of a timestamp comes back as text on SQLite (no column type to convert)."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def impressions_table(session: Session, where: Sequence[ColumnElement[bool]]) -> Table:
    query = (
        select(
            OfferEvent.at,
            Customer.first_name,
            Customer.last_name,
            OfferEvent.kind,
            OfferEvent.reason,
            OfferEvent.rule_ref,
            User.display_name,
            OfferEvent.outcome,
            OfferEvent.ordered_at,
        )
        .join(Customer, Customer.id == OfferEvent.customer_id)
        .outerjoin(User, User.id == OfferEvent.agent_id)
        .where(*where)
        .order_by(OfferEvent.at, OfferEvent.id)
    )
    return _limited(
        session,
        query,
        ("Shown", "Customer", "Kind", "Why", "Rule", "Agent", "Outcome", "Ordered"),
        lambda r: (
            _when(r[0]),
            _name(r[1], r[2]),
            str(r[3]),
            r[4],
            r[5] or "",
            r[6] or "",
            str(r[7]),
            _when(r[8]),
        ),  # fmt: skip
    )


def interactions_table(session: Session, where: Sequence[ColumnElement[bool]]) -> Table:
    query = (
        select(
            Interaction.started_at,
            Customer.first_name,
            Customer.last_name,
            Interaction.channel,
            Interaction.direction,
            User.display_name,
            Case.reference,
            Interaction.summary,
        )
        .outerjoin(Customer, Customer.id == Interaction.customer_id)
        .outerjoin(User, User.id == Interaction.agent_id)
        .outerjoin(Case, Case.id == Interaction.case_id)
        .where(*where)
        .order_by(Interaction.started_at, Interaction.id)
    )
    return _limited(
        session,
        query,
        ("Started", "Customer", "Channel", "Direction", "Agent", "Case", "Summary"),
        lambda r: (
            _when(r[0]),
            _name(r[1], r[2]),
            str(r[3]),
            str(r[4]),
            r[5] or "",
            r[6] or "",
            r[7] or "",
        ),  # fmt: skip
    )


def feedback_table(session: Session, where: Sequence[ColumnElement[bool]]) -> Table:
    query = (
        select(
            Feedback.received_at,
            Customer.first_name,
            Customer.last_name,
            Feedback.rating,
            Feedback.sentiment,
            Feedback.source,
            Case.reference,
            Feedback.text,
        )
        .join(Customer, Customer.id == Feedback.customer_id)
        .outerjoin(Case, Case.id == Feedback.case_id)
        .where(*where)
        .order_by(Feedback.received_at, Feedback.id)
    )
    return _limited(
        session,
        query,
        ("Received", "Customer", "Rating", "Sentiment", "Channel", "Case", "Text"),
        lambda r: (
            _when(r[0]),
            _name(r[1], r[2]),
            "" if r[3] is None else r[3],
            str(r[4]),
            str(r[5]),
            r[6] or "",
            r[7] or "",
        ),  # fmt: skip
    )


def drill_down(session: Session, backend: str, key: str, s: Slice, part: str | None) -> Table:
    """The rows behind the figure `key` (optionally one bar or row of it: `part`)."""
    field, _, value = (part or "").partition("=")
    if key in ("concessions.granted", "concessions.amount"):
        where = concession_scope(s)
        if field == "type":
            where.append(Concession.type == value)
        return concessions_table(session, where)
    if key in ("concessions.customers", "concessions.spend", "concessions.kept"):
        return customers_table(session, conceded_anchors(s), backend)
    if key == "concessions.similar":
        return customers_table(session, similar_anchors(s), backend)
    if key.startswith("suggestions."):
        return impressions_table(session, _impressions_where(key, s, field, value))
    if key.startswith("cases.") or key in ("contact.fcr", "contact.repeat"):
        return cases_table(session, _cases_where(key, s, field, value))
    if key == "contact.contacts":
        return interactions_table(session, interaction_scope(s))
    if key.startswith("contact."):
        where = feedback_scope(s)
        if key == "contact.csat":
            where.append(Feedback.rating.is_not(None))
        if key == "contact.negative":
            where.append(Feedback.sentiment == Sentiment.NEGATIVE)
        if field == "sentiment":
            where.append(Feedback.sentiment == value)
        return feedback_table(session, where)
    raise ValueError(f"no drill-down for {key!r}")


def _impressions_where(key: str, s: Slice, field: str, value: str) -> list[ColumnElement[bool]]:
    where = offer_scope(s)
    if key == "suggestions.accepted":
        where.append(OfferEvent.outcome == OfferOutcome.ACCEPTED)
    elif key == "suggestions.declined":
        where.append(OfferEvent.outcome == OfferOutcome.DECLINED)
    elif key in ("suggestions.converted", "suggestions.rate"):
        where.append(
            (OfferEvent.outcome == OfferOutcome.ACCEPTED) | OfferEvent.order_id.is_not(None)
        )
    if field == "kind":
        where.append(OfferEvent.kind == value)
    elif field == "rule":
        where.append(
            OfferEvent.rule_ref.is_(None) if value == "-" else OfferEvent.rule_ref == value
        )
    elif field == "agent":
        where.append(
            OfferEvent.agent_id.is_(None)
            if value == "-"
            else OfferEvent.agent_id.in_(select(User.id).where(User.display_name == value))
        )
    return where


def _cases_where(key: str, s: Slice, field: str, value: str) -> list[ColumnElement[bool]]:
    if field == "week":
        week = dt.datetime.fromisoformat(value)
        s = s.within(week, week + dt.timedelta(weeks=1))
    where = case_filters(s)
    done = closed_at()
    if field == "department":
        where.append(Case.department_id == int(value))
    if key in ("cases.opened", "contact.repeat"):
        where.append(in_period(Case.opened_at, s))
        if key == "contact.repeat":
            where.append(contacts_of_case() >= 2)
    elif key in ("cases.resolved", "contact.fcr", "cases.attained"):
        where.append(in_period(done, s))
        if key == "contact.fcr":
            where.append(contacts_of_case() <= 1)
        if key == "cases.attained":
            where += [Case.sla_due_at.is_not(None), Case.sla_breached_at.is_(None)]
    elif key == "cases.backlog":
        where += [Case.opened_at < s.end, done.is_(None) | (done >= s.end)]
    elif key == "cases.breached":
        where.append(in_period(Case.sla_breached_at, s))
    elif key == "cases.first_response":
        where.append(in_period(Case.first_response_breached_at, s))
    else:
        raise ValueError(f"no drill-down for {key!r}")
    return where
