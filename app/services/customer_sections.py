"""The sections of a customer's record below the header.

Last bought, key dates, the timeline (interactions and feedback), the household
and relations, addresses with the nearest stores, and the latest notes. Each
function takes the open session of `CustomerService.load_customer` and returns
plain rows from views.py.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.services import views as v
from app.services.lookups import aware
from models.catalog import Product, Store
from models.commerce import Order, OrderLine
from models.enums import CustomerStatus
from models.people import Customer, CustomerAddress, CustomerNote, CustomerRelation, KeyDate, User
from models.service import Case, Feedback, Interaction

TIMELINE_PAGE = 300


def last_bought(session: Session, customer_id: int, limit: int = 12) -> list[v.LastBought]:
    # Only the most recent LAST_BOUGHT_ORDERS orders (the customer index, newest
    # first): reading every line of a 10,000-order history made the view 3x slower.
    recent = (
        select(Order.id, Order.placed_at)
        .where(Order.customer_id == customer_id, Order.status != "cancelled")
        .order_by(Order.placed_at.desc())
        .limit(v.LAST_BOUGHT_ORDERS)
        .subquery()
    )
    rows = session.execute(
        select(
            Product.id,
            Product.name,
            Product.sku,
            func.max(recent.c.placed_at),
            func.min(recent.c.placed_at),
            func.count(func.distinct(recent.c.id)),
        )
        .select_from(OrderLine)
        .join(recent, recent.c.id == OrderLine.order_id)
        .join(Product, Product.id == OrderLine.product_id)
        .group_by(Product.id, Product.name, Product.sku)
        .order_by(func.max(recent.c.placed_at).desc())
        .limit(limit)
    ).all()
    result = []
    for pid, name, sku, last_at, first_at, times in rows:
        last = aware(last_at)
        first = aware(first_at)
        assert last is not None and first is not None
        average = (last - first).days / (times - 1) if times > 1 else None
        result.append(
            v.LastBought(
                product_id=pid,
                product=name,
                sku=sku,
                last_at=last,
                times=int(times),
                average_days_between=average,
            )
        )
    return result


def next_occurrence(date: dt.date, today: dt.date, recurring: bool) -> dt.date:
    if not recurring:
        return date
    for year in (today.year, today.year + 1):
        try:
            candidate = date.replace(year=year)
        except ValueError:  # 29 February in a common year: celebrate on the 28th
            candidate = dt.date(year, 2, 28)
        if candidate >= today:
            return candidate
    return candidate


def key_dates(session: Session, customer_id: int, today: dt.date) -> list[v.KeyDateRow]:
    rows = session.execute(
        select(KeyDate, CustomerRelation.relation, CustomerRelation.related_name, Customer)
        .outerjoin(CustomerRelation, CustomerRelation.id == KeyDate.relation_id)
        .outerjoin(Customer, Customer.id == CustomerRelation.related_customer_id)
        .where(KeyDate.customer_id == customer_id)
    ).all()
    result = []
    for key_date, relation, related_name, related_customer in rows:
        nxt = next_occurrence(key_date.date, today, key_date.recurring_yearly)
        if nxt < today:
            continue
        if relation:
            who_name = related_name or (related_customer.display_name if related_customer else "")
            whose = f"{relation} {who_name.split(' ')[0]}".strip()
        else:
            whose = "own"
        result.append(
            v.KeyDateRow(
                whose=whose,
                kind=key_date.kind.value,
                label=key_date.label,
                next_on=nxt,
                days_until=(nxt - today).days,
            )
        )
    result.sort(key=lambda k: k.next_on)
    return result


def timeline(session: Session, customer_id: int) -> list[v.TimelineRow]:
    rows = session.execute(
        select(Interaction, User.display_name, Case.reference)
        .outerjoin(User, User.id == Interaction.agent_id)
        .outerjoin(Case, Case.id == Interaction.case_id)
        .where(Interaction.customer_id == customer_id)
        .order_by(Interaction.started_at.desc(), Interaction.id.desc())
        .limit(TIMELINE_PAGE)
    ).all()
    feedback = {
        f.interaction_id: f
        for f in session.scalars(
            select(Feedback).where(
                Feedback.customer_id == customer_id, Feedback.interaction_id.is_not(None)
            )
        )
    }
    result = []
    for item, agent, reference in rows:
        fb = feedback.get(item.id)
        duration = None
        if item.ended_at and (item.answered_at or item.started_at):
            duration = int((item.ended_at - (item.answered_at or item.started_at)).total_seconds())
        result.append(
            v.TimelineRow(
                id=item.id,
                started_at=item.started_at,
                channel=item.channel.value,
                direction=item.direction.value,
                outcome=(
                    v.call_outcome(item.outcome.value, item.answered_at, item.ended_at)
                    if item.call_id
                    else item.outcome.value
                ),
                summary=item.summary,
                agent=agent,
                case_reference=reference,
                duration_s=duration,
                rating=fb.rating if fb else None,
                sentiment=fb.sentiment.value if fb else None,
                feedback=fb.text if fb else None,
            )
        )
    # Feedback that came without an interaction (a survey, a post) is shown too.
    standalone = session.scalars(
        select(Feedback).where(
            Feedback.customer_id == customer_id, Feedback.interaction_id.is_(None)
        )
    ).all()
    for fb in standalone:
        result.append(
            v.TimelineRow(
                id=-fb.id,
                started_at=fb.received_at,
                channel=fb.source.value,
                direction="inbound",
                outcome="feedback",
                summary=None,
                agent=None,
                case_reference=None,
                duration_s=None,
                rating=fb.rating,
                sentiment=fb.sentiment.value,
                feedback=fb.text,
            )
        )
    result.sort(key=lambda r: r.started_at, reverse=True)
    return result


def relations(session: Session, customer_id: int) -> list[v.RelationRow]:
    rows = session.execute(
        select(CustomerRelation, Customer)
        .outerjoin(Customer, Customer.id == CustomerRelation.related_customer_id)
        .where(CustomerRelation.customer_id == customer_id)
    ).all()
    result = [
        v.RelationRow(
            relation=rel.relation,
            name=other.display_name if other else (rel.related_name or ""),
            customer_id=other.id if other else None,
        )
        for rel, other in rows
    ]
    household = session.scalar(select(Customer.household_id).where(Customer.id == customer_id))
    if household is not None:
        known = {r.customer_id for r in result}
        # A customer merged into another is that other person now: not listed again
        # (their survivor is listed when in the household too).
        for member in session.scalars(
            select(Customer)
            .where(
                Customer.household_id == household,
                Customer.id != customer_id,
                Customer.status != CustomerStatus.MERGED,
            )
            .order_by(Customer.id)
        ):
            if member.id not in known:
                result.append(
                    v.RelationRow(
                        relation="household", name=member.display_name, customer_id=member.id
                    )
                )
    return result


def addresses(session: Session, customer_id: int) -> list[v.AddressRow]:
    addresses = session.scalars(
        select(CustomerAddress).where(CustomerAddress.customer_id == customer_id)
    ).all()
    stores = session.scalars(select(Store)).all() if addresses else []
    result = []
    for a in addresses:
        text = ", ".join(
            part for part in (a.line1, a.line2, a.postal_code, a.city, a.country) if part
        )
        nearest: tuple[str, ...] = ()
        if a.latitude is not None and a.longitude is not None:
            lat, lon = a.latitude, a.longitude
            ranked = sorted(stores, key=lambda s: distance_km(lat, lon, s.latitude, s.longitude))[
                :3
            ]
            nearest = tuple(
                f"{s.name} ({distance_km(lat, lon, s.latitude, s.longitude):.0f} km)"
                for s in ranked
            )
        result.append(v.AddressRow(kind=a.kind, text=text, nearest_stores=nearest))
    return result


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(h))


def notes(session: Session, customer_id: int) -> list[v.NoteRow]:
    rows = session.execute(
        select(CustomerNote, User.display_name)
        .outerjoin(User, User.id == CustomerNote.author_id)
        .where(CustomerNote.customer_id == customer_id)
        .order_by(CustomerNote.created_at.desc())
        .limit(100)
    ).all()
    return [
        v.NoteRow(id=n.id, body=n.body, author=author, created_at=n.created_at)
        for n, author in rows
    ]
