"""The top of a customer's record: the header's figures, cases and commitments.

The header counts open cases and broken or overdue commitments, so the three are
read together here; lifetime value is per currency, never summed across them.
Each function takes the open session of `CustomerService.load_customer`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import phones
from app.services import views as v
from models.commerce import Order
from models.enums import OPEN_CASE_STATUSES, CommitmentStatus
from models.people import ContactPreference, Customer, CustomerEmail, CustomerPhone, User
from models.service import Case, Commitment, Interaction

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def commitments(session: Session, customer_id: int, now: dt.datetime) -> list[v.CommitmentRow]:
    rows = session.execute(
        select(Commitment, Case.reference, User.display_name)
        .outerjoin(Case, Case.id == Commitment.case_id)
        .outerjoin(User, User.id == Commitment.owner_id)
        .where(Commitment.customer_id == customer_id)
        .order_by(Commitment.due_until.desc())
    ).all()
    result = [
        v.CommitmentRow(
            id=c.id,
            case_reference=ref,
            description=c.description,
            status=c.status.value,
            overdue=c.status == CommitmentStatus.OPEN and c.due_until < now,
            due_until=c.due_until,
            owner=owner,
        )
        for c, ref, owner in rows
    ]
    # Broken and overdue first: they are what the agent must not miss.
    result.sort(key=lambda c: (not (c.status == "broken" or c.overdue), c.status != "open"))
    return result


def cases(
    session: Session, customer_id: int, commitments: list[v.CommitmentRow]
) -> list[v.CaseRow]:
    contacts = (
        select(Interaction.case_id, func.count().label("n"))
        .where(Interaction.customer_id == customer_id, Interaction.case_id.is_not(None))
        .group_by(Interaction.case_id)
        .subquery()
    )
    rows = session.execute(
        select(Case, func.coalesce(contacts.c.n, 0))
        .outerjoin(contacts, contacts.c.case_id == Case.id)
        .where(Case.customer_id == customer_id)
        .order_by(Case.opened_at.desc())
    ).all()
    result = []
    for case_, n_contacts in rows:
        mine = [c for c in commitments if c.case_reference == case_.reference]
        result.append(
            v.CaseRow(
                id=case_.id,
                reference=case_.reference,
                subject=case_.subject,
                category=case_.category,
                status=case_.status.value,
                priority=case_.priority.value,
                is_open=case_.status in OPEN_CASE_STATUSES,
                opened_at=case_.opened_at,
                sla_due_at=case_.sla_due_at,
                contacts=int(n_contacts),
                broken_commitments=sum(c.status == "broken" for c in mine),
                overdue_commitments=sum(c.overdue for c in mine),
            )
        )
    result.sort(key=lambda c: not c.is_open)  # stable: open first, newest first within
    return result


def header(
    session: Session,
    customer: Customer,
    cases: list[v.CaseRow],
    commitments: list[v.CommitmentRow],
    default_region: str,
) -> v.CustomerHeader:
    totals = [
        v.CurrencyTotal(currency=currency, total_cents=int(value), order_count=int(count))
        for currency, value, count in session.execute(
            select(Order.currency, func.sum(Order.total_cents), func.count())
            .where(Order.customer_id == customer.id, Order.status != "cancelled")
            .group_by(Order.currency)
        )
    ]
    totals.sort(key=lambda t: (-t.order_count, -t.total_cents, t.currency))
    main = totals[0] if totals else None
    phone_rows = session.scalars(
        select(CustomerPhone)
        .where(CustomerPhone.customer_id == customer.id)
        .order_by(CustomerPhone.is_primary.desc(), CustomerPhone.id)
    ).all()
    email_rows = session.scalars(
        select(CustomerEmail)
        .where(CustomerEmail.customer_id == customer.id)
        .order_by(CustomerEmail.is_primary.desc(), CustomerEmail.id)
    ).all()
    phones_by_id = {p.id: p for p in phone_rows}
    emails_by_id = {e.id: e for e in email_rows}
    prefs = session.scalars(
        select(ContactPreference)
        .where(ContactPreference.customer_id == customer.id)
        .order_by(ContactPreference.avoid, ContactPreference.rank)
    ).all()
    return v.CustomerHeader(
        id=customer.id,
        version=customer.version,
        first_name=customer.first_name,
        last_name=customer.last_name,
        tier=customer.tier.value,
        segment=customer.segment,
        status=customer.status.value,
        customer_since=customer.customer_since,
        preferred_language=customer.preferred_language,
        do_not_call=customer.do_not_call,
        do_not_email=customer.do_not_email,
        do_not_sms=customer.do_not_sms,
        do_not_mail=customer.do_not_mail,
        order_count=sum(t.order_count for t in totals),
        lifetime_value_cents=main.total_cents if main else 0,
        open_cases=sum(c.is_open for c in cases),
        overdue_commitments=sum(c.overdue for c in commitments),
        broken_commitments=sum(c.status == "broken" for c in commitments),
        phones=tuple(
            v.PhoneView(
                id=p.id,
                raw=p.raw,
                e164=p.e164,
                kind=p.kind.value,
                is_primary=p.is_primary,
                display=phones.display(p.e164 or p.raw, default_region),
            )
            for p in phone_rows
        ),
        emails=tuple(
            v.EmailView(id=e.id, address=e.address, is_primary=e.is_primary) for e in email_rows
        ),
        preferences=tuple(
            _preference_view(p, phones_by_id, emails_by_id, default_region) for p in prefs
        ),
        currency=main.currency if main else "USD",
        values_by_currency=tuple(totals),
    )


def _preference_view(
    pref: ContactPreference,
    phones_by_id: dict[int, CustomerPhone],
    emails_by_id: dict[int, CustomerEmail],
    default_region: str,
) -> v.ContactPreferenceView:
    target = None
    if pref.phone_id and pref.phone_id in phones_by_id:
        phone = phones_by_id[pref.phone_id]
        target = f"{phone.kind.value} {phones.display(phone.e164 or phone.raw, default_region)}"
    elif pref.email_id and pref.email_id in emails_by_id:
        target = emails_by_id[pref.email_id].address
    return v.ContactPreferenceView(
        channel=pref.channel.value,
        target=target,
        days=describe_days(pref.allowed_days),
        hours=describe_hours(pref.allowed_from, pref.allowed_until),
        avoid=pref.avoid,
        note=pref.note,
        rank=pref.rank,
        phone_id=pref.phone_id,
    )


def describe_days(mask: int) -> str:
    """127 -> "every day", 31 -> "Mon-Fri", 96 -> "Sat-Sun", 5 -> "Mon, Wed"."""
    days = [i for i in range(7) if mask & (1 << i)]
    if len(days) == 7:
        return "every day"
    if not days:
        return "never"
    if days == list(range(days[0], days[-1] + 1)) and len(days) >= 3:
        return f"{_DAY_NAMES[days[0]]}-{_DAY_NAMES[days[-1]]}"
    return ", ".join(_DAY_NAMES[i] for i in days)


def describe_hours(start: dt.time | None, end: dt.time | None) -> str:
    if start and end:
        return f"{start:%H:%M}-{end:%H:%M}"
    if start:
        return f"after {start:%H:%M}"
    if end:
        return f"before {end:%H:%M}"
    return "any time"
