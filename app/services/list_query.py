"""The SQL of a marketing list (app/services/marketing_lists.py): the criteria, and
one SELECT of every customer they match with the contact for the channel and the
reason she is left out (NULL: on the list), built so the database does the work at any
size: EXISTS sub-queries on indexed columns, correlated look-ups of the first contact.

The "avoids this channel" test is `app.contact_rules.check_contact` with `hours=False`
(a preference with `avoid` covering the route: the channel, and for the phone every
number or the one chosen) written as SQL; tests/test_marketing_lists.py holds the two
equal.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, exists, func, literal, or_, select

from app.clock import local_today
from app.errors import UserError
from models.base import UTCDateTime
from models.catalog import Product
from models.commerce import Order, OrderLine
from models.enums import Channel, CustomerStatus, KeyDateKind, OrderStatus, PhoneKind, Tier
from models.marketing import CustomerValue
from models.people import (
    ContactPreference,
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerPhone,
    KeyDate,
)

LIST_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PHONE, Channel.MAIL)
PREVIEW_ROWS = 200
MAX_MONTHS = 120
MAX_KEY_DATE_DAYS = 366
MAX_RETURN_DAYS = 365

# Why a matching customer is not on the list, in the order they are tested.
MERGED_OR_STAGED = "merged_or_staged"
DO_NOT_CONTACT = "do_not_contact"
NO_CONTACT = "no_contact"
AVOIDS_CHANNEL = "avoids_channel"
REASONS = (MERGED_OR_STAGED, DO_NOT_CONTACT, NO_CONTACT, AVOIDS_CHANNEL)

_DO_NOT = {
    Channel.EMAIL: Customer.do_not_email,
    Channel.SMS: Customer.do_not_sms,
    Channel.PHONE: Customer.do_not_call,
    Channel.MAIL: Customer.do_not_mail,
}
_CHANNEL_WORDS = {
    Channel.EMAIL: ("e-mail", "e-mail address", "do not e-mail"),
    Channel.SMS: ("text message", "mobile number", "do not text"),
    Channel.PHONE: ("phone", "phone number", "do not call"),
    Channel.MAIL: ("post", "postal address", "do not mail"),
}


def reason_text(reason: str, channel: Channel) -> str:
    """A left-out reason in the marketer's words."""
    word, contact, flag = _CHANNEL_WORDS[channel]
    return {
        MERGED_OR_STAGED: "merged into another record, or not yet identified",
        DO_NOT_CONTACT: f"asked not to be contacted by {word} ({flag})",
        NO_CONTACT: f"no {contact} on file",
        AVOIDS_CHANNEL: f"avoids {word} (contact preference)",
    }[reason]


@dataclass(frozen=True)
class ListCriteria:
    """Who is on the list. Empty tuples mean "any". `months` is the purchase window of
    `products`/`lines` (and of `stores`); `not_products`/`not_lines` were never bought.
    `key_date_days`: a key date of hers or a relation's (of `key_date_kinds`, or any)
    within the next that many days, today included."""

    channel: Channel = Channel.EMAIL
    products: tuple[int, ...] = ()
    lines: tuple[str, ...] = ()
    months: int = 12
    not_products: tuple[int, ...] = ()
    not_lines: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    tiers: tuple[Tier, ...] = ()
    stores: tuple[int, ...] = ()
    key_date_kinds: tuple[KeyDateKind, ...] = ()
    key_date_days: int | None = None

    def check(self) -> None:
        problems = []
        if self.channel not in LIST_CHANNELS:
            problems.append("channel: e-mail, text message, phone or post")
        if not 1 <= self.months <= MAX_MONTHS:
            problems.append(f"months: between 1 and {MAX_MONTHS}")
        if self.key_date_days is not None and not 0 <= self.key_date_days <= MAX_KEY_DATE_DAYS:
            problems.append(f"key date within: between 0 and {MAX_KEY_DATE_DAYS} days")
        if problems:
            raise UserError("; ".join(problems))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, default=str)


def at(value: dt.datetime) -> ColumnElement[Any]:
    """A bound timestamp, stored as the columns store it (UTC, naive on SQLite)."""
    return literal(value, UTCDateTime())


def months_before(now: dt.datetime, months: int) -> dt.datetime:
    """The same day `months` calendar months earlier (the last day of a shorter month)."""
    total = now.year * 12 + now.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for day in (now.day, 30, 29, 28):
        try:
            return now.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("28 exists in every month")  # pragma: no cover


def month_days_ahead(today: dt.date, days: int) -> list[str]:
    """The "MM-DD" of today and the next `days` days (29 February counts when the window
    passes 28 February of a year without it: a leap-day birthday is kept on the 28th)."""
    found = []
    for offset in range(days + 1):
        day = today + dt.timedelta(days=offset)
        found.append(f"{day:%m-%d}")
        if day.month == 2 and day.day == 28 and (day + dt.timedelta(days=1)).month == 3:
            found.append("02-29")
    return sorted(set(found))


def _bought(
    products: tuple[int, ...], lines: tuple[str, ...], since: dt.datetime | None, now: dt.datetime
) -> ColumnElement[bool]:
    """The customer has an order (not cancelled) with a line of these products or lines.

    `customers.id IN (SELECT customer_id ...)`, not a correlated EXISTS: the database
    reads the lines of those products once and builds the set of buyers (a hashed
    semi-join), instead of looking per customer through every line of the products."""
    which = []
    if products:
        which.append(OrderLine.product_id.in_(products))
    if lines:
        which.append(
            OrderLine.product_id.in_(select(Product.id).where(Product.product_line.in_(lines)))
        )
    window = [Order.placed_at >= at(since), Order.placed_at <= at(now)] if since else []
    buyers = (
        select(Order.customer_id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.status != OrderStatus.CANCELLED, or_(*which), *window)
    )
    return Customer.id.in_(buyers)


def _contact_columns(channel: Channel) -> tuple[ColumnElement[Any], ColumnElement[Any] | None]:
    """The address or number the channel would use (primary first), and for the phone
    channels the phone's id (a preference may avoid one number)."""
    if channel == Channel.EMAIL:
        email = (
            select(CustomerEmail.address)
            .where(CustomerEmail.customer_id == Customer.id)
            .order_by(CustomerEmail.is_primary.desc(), CustomerEmail.id)
            .limit(1)
            .scalar_subquery()
        )
        return email, None
    if channel == Channel.MAIL:
        postal = func.coalesce(CustomerAddress.postal_code + " ", "")
        address = (
            select(CustomerAddress.line1 + ", " + postal + CustomerAddress.city)
            .where(CustomerAddress.customer_id == Customer.id)
            .order_by(CustomerAddress.id)
            .limit(1)
            .scalar_subquery()
        )
        return address, None
    phones = select(CustomerPhone).where(CustomerPhone.customer_id == Customer.id)
    if channel == Channel.SMS:
        phones = phones.where(CustomerPhone.kind == PhoneKind.MOBILE)
    first = phones.order_by(CustomerPhone.is_primary.desc(), CustomerPhone.id).limit(1)
    number = first.with_only_columns(
        func.coalesce(CustomerPhone.e164, CustomerPhone.raw)
    ).scalar_subquery()
    # Correlated to the outer customers explicitly: it is nested one level deeper, in
    # the EXISTS of `_avoids`, where auto-correlation would not reach.
    phone_id = first.with_only_columns(CustomerPhone.id).correlate(Customer).scalar_subquery()
    return number, phone_id


def _avoids(channel: Channel, phone_id: ColumnElement[Any] | None) -> ColumnElement[bool]:
    """contact_rules: a preference with `avoid` covers the route (same channel; for a
    phone, no number named or the number chosen)."""
    covers: list[ColumnElement[bool]] = [ContactPreference.phone_id.is_(None)]
    if phone_id is not None:
        covers.append(ContactPreference.phone_id == phone_id)
    return exists(
        select(ContactPreference.id).where(
            ContactPreference.customer_id == Customer.id,
            ContactPreference.avoid.is_(True),
            ContactPreference.channel == channel,
            or_(*covers),
        )
    )


def listed(criteria: ListCriteria, now: dt.datetime) -> Select[Any]:
    """Every customer the criteria match, with her contact and the reason she is left
    out (NULL: she is on the list)."""
    conditions: list[ColumnElement[bool]] = []
    since = months_before(now, criteria.months)
    if criteria.products or criteria.lines:
        conditions.append(_bought(criteria.products, criteria.lines, since, now))
    if criteria.not_products or criteria.not_lines:
        conditions.append(~_bought(criteria.not_products, criteria.not_lines, None, now))
    if criteria.segments:
        conditions.append(CustomerValue.segment.in_(criteria.segments))
    if criteria.tiers:
        conditions.append(Customer.tier.in_(criteria.tiers))
    if criteria.stores:
        conditions.append(
            Customer.id.in_(
                select(Order.customer_id).where(
                    Order.store_id.in_(criteria.stores),
                    Order.status != OrderStatus.CANCELLED,
                    Order.placed_at >= at(since),
                )
            )
        )
    if criteria.key_date_days is not None:
        today = local_today(lambda: now)
        dates: list[ColumnElement[bool]] = [
            KeyDate.month_day.in_(month_days_ahead(today, criteria.key_date_days)),
        ]
        if criteria.key_date_kinds:
            dates.append(KeyDate.kind.in_(criteria.key_date_kinds))
        # ix_key_dates_month_day: the dates of the window first, then their customers.
        conditions.append(Customer.id.in_(select(KeyDate.customer_id).where(*dates)))
    contact, phone_id = _contact_columns(criteria.channel)
    reason = case(
        (Customer.status != CustomerStatus.ACTIVE, MERGED_OR_STAGED),
        (_DO_NOT[criteria.channel].is_(True), DO_NOT_CONTACT),
        (contact.is_(None), NO_CONTACT),
        (_avoids(criteria.channel, phone_id), AVOIDS_CHANNEL),
        else_=None,
    )
    return (
        select(
            Customer.id.label("id"),
            (Customer.first_name + " " + Customer.last_name).label("name"),
            (Customer.last_name + " " + Customer.first_name).label("sort_name"),
            contact.label("contact"),
            Customer.tier.label("tier"),
            CustomerValue.segment.label("segment"),
            reason.label("reason"),
        )
        .select_from(Customer)
        .outerjoin(CustomerValue, CustomerValue.customer_id == Customer.id)
        .where(*conditions)
    )
