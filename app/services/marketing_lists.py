"""Marketing lists (S1, S6): customers by what they bought, their value segment, tier,
store and key dates, for one channel, honouring consent; saved as campaigns whose
return is measured.

Every customer the criteria match is either a member or left out for one reason,
counted: a merged or staged record, the channel's do-not flag, no address or number
for the channel, or a contact preference that avoids the channel. Nobody is dropped
silently, so the counts add up to the matches.

All of it is SQL that scales (one statement for the counts, one for the first rows, one
INSERT ... SELECT for the members): no Python loop over customers. The "avoids this
channel" test is `app.contact_rules.check_contact` with `hours=False` (a preference
with `avoid` covering the route: the channel, and for the phone either every number or
the one chosen) written as SQL; tests/test_marketing_lists.py holds the two equal.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from app.clock import Clock, local_today, system_clock
from app.errors import UserError
from app.export import export_table
from models.base import UTCDateTime
from models.catalog import Product, Store
from models.commerce import Order, OrderLine
from models.database import Database
from models.enums import Channel, CustomerStatus, KeyDateKind, OrderStatus, PhoneKind, Tier
from models.marketing import Campaign, CampaignMember, CustomerValue
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


@dataclass(frozen=True)
class ListMember:
    customer_id: int
    name: str
    contact: str
    tier: str
    segment: str | None


@dataclass(frozen=True)
class ListPreview:
    criteria: ListCriteria
    matched: int  # customers the criteria select, members and left out
    member_count: int
    left_out: dict[str, int]  # reason -> customers, only reasons with some
    first: tuple[ListMember, ...] = field(default=())  # the first PREVIEW_ROWS by name

    def left_out_lines(self) -> list[str]:
        """ "312 asked not to be contacted by e-mail (do not e-mail)", largest first."""
        ordered = sorted(self.left_out.items(), key=lambda item: (-item[1], item[0]))
        return [f"{n:,} {reason_text(r, self.criteria.channel)}" for r, n in ordered]


@dataclass(frozen=True)
class CampaignReturn:
    """Orders members placed within `return_days` after the campaign was saved."""

    orders: int
    customers: int  # members who ordered
    revenue: tuple[tuple[str, int], ...]  # (currency, cents), never summed across currencies
    complete: bool  # the window has passed


@dataclass(frozen=True)
class CampaignView:
    id: int
    name: str
    channel: Channel
    member_count: int
    left_out: dict[str, int]
    return_days: int
    created_by: str
    created_at: dt.datetime
    criteria: dict[str, Any]


class MarketingListService:
    """Build, save, export and measure marketing lists."""

    def __init__(self, db: Database, login: str, clock: Clock = system_clock) -> None:
        self._db = db
        self._login = login
        self._clock = clock

    def product_lines(self) -> list[str]:
        with self._db.lookup() as session:
            rows = session.scalars(
                select(Product.product_line)
                .where(Product.product_line.is_not(None))
                .distinct()
                .order_by(Product.product_line)
            )
            return [line for line in rows if line]

    def products(self) -> list[tuple[int, str]]:
        """(id, "SKU - name") of every product, for the pickers' completion."""
        with self._db.lookup() as session:
            rows = session.execute(
                select(Product.id, Product.sku, Product.name).order_by(Product.name)
            )
            return [(pid, f"{name} ({sku})") for pid, sku, name in rows]

    def stores(self) -> list[tuple[int, str]]:
        with self._db.lookup() as session:
            rows = session.execute(select(Store.id, Store.name).order_by(Store.name))
            return [(sid, name) for sid, name in rows]

    def preview(self, criteria: ListCriteria, rows: int = PREVIEW_ROWS) -> ListPreview:
        criteria.check()
        now = self._clock()
        with self._db.read() as session:
            listed = _listed(criteria, now).subquery("listed")
            counts = session.execute(
                select(listed.c.reason, func.count()).group_by(listed.c.reason)
            ).all()
            first = session.execute(
                select(
                    listed.c.id, listed.c.name, listed.c.contact, listed.c.tier, listed.c.segment
                )
                .where(listed.c.reason.is_(None))
                .order_by(listed.c.sort_name, listed.c.id)
                .limit(rows)
            ).all()
        left_out = {reason: int(n) for reason, n in counts if reason is not None}
        members = sum(int(n) for reason, n in counts if reason is None)
        return ListPreview(
            criteria,
            matched=members + sum(left_out.values()),
            member_count=members,
            left_out=left_out,
            first=tuple(
                ListMember(cid, name, contact, str(tier), segment)
                for cid, name, contact, tier, segment in first
            ),
        )

    def save_campaign(self, name: str, criteria: ListCriteria, return_days: int = 30) -> int:
        """Save the list as it is now (members with the contact they were reached at,
        the left-out counts) as a campaign; its id."""
        name = name.strip()
        if not name or len(name) > 120:
            raise UserError("campaign name: 1 to 120 characters")
        if not 1 <= return_days <= MAX_RETURN_DAYS:
            raise UserError(f"return window: between 1 and {MAX_RETURN_DAYS} days")
        criteria.check()
        now = self._clock()
        with self._db.write() as session:
            listed = _listed(criteria, now).subquery("listed")
            counts = session.execute(
                select(listed.c.reason, func.count()).group_by(listed.c.reason)
            ).all()
            left_out = {reason: int(n) for reason, n in counts if reason is not None}
            members = sum(int(n) for reason, n in counts if reason is None)
            campaign = Campaign(
                name=name,
                channel=criteria.channel,
                criteria_json=criteria.to_json(),
                left_out_json=json.dumps(left_out, sort_keys=True),
                member_count=members,
                return_days=return_days,
                created_by=self._login,
                created_at=now,
            )
            session.add(campaign)
            session.flush()
            session.execute(
                insert(CampaignMember).from_select(
                    ["campaign_id", "customer_id", "contact"],
                    select(literal(campaign.id), listed.c.id, listed.c.contact).where(
                        listed.c.reason.is_(None)
                    ),
                )
            )
            return campaign.id

    def campaigns(self) -> list[CampaignView]:
        with self._db.read() as session:
            rows = session.scalars(select(Campaign).order_by(Campaign.created_at.desc()))
            return [_view(c) for c in rows]

    def campaign_return(self, campaign_id: int) -> CampaignReturn:
        now = self._clock()
        with self._db.read() as session:
            campaign = _campaign(session, campaign_id)
            end = campaign.created_at + dt.timedelta(days=campaign.return_days)
            within = and_(
                CampaignMember.campaign_id == campaign_id,
                Order.placed_at > _at(campaign.created_at),
                Order.placed_at <= _at(end),
                Order.status != OrderStatus.CANCELLED,
            )
            joined = select(Order).join(
                CampaignMember, CampaignMember.customer_id == Order.customer_id
            )
            orders, customers = session.execute(
                joined.with_only_columns(
                    func.count(Order.id), func.count(Order.customer_id.distinct())
                ).where(within)
            ).one()
            revenue = session.execute(
                joined.with_only_columns(Order.currency, func.sum(Order.total_cents))
                .where(within)
                .group_by(Order.currency)
                .order_by(Order.currency)
            ).all()
        return CampaignReturn(
            int(orders),
            int(customers),
            tuple((currency, int(cents)) for currency, cents in revenue),
            complete=now >= end,
        )

    def export(self, campaign_id: int, path: Path) -> int:
        """Write the campaign's members (name, contact, tier, segment) to `path` (.csv or
        .xlsx, formulas neutralised by app/export.py); how many rows."""
        with self._db.read() as session:
            _campaign(session, campaign_id)
            rows = session.execute(
                select(
                    Customer.id,
                    Customer.first_name,
                    Customer.last_name,
                    CampaignMember.contact,
                    Customer.tier,
                    CustomerValue.segment,
                )
                .join(Customer, Customer.id == CampaignMember.customer_id)
                .outerjoin(CustomerValue, CustomerValue.customer_id == Customer.id)
                .where(CampaignMember.campaign_id == campaign_id)
                .order_by(Customer.last_name, Customer.first_name, Customer.id)
            ).all()
        headers = ["Customer", "First name", "Last name", "Contact", "Tier", "Segment"]
        export_table(
            path,
            headers,
            [
                [cid, first, last, contact, str(tier), seg]
                for cid, first, last, contact, tier, seg in rows
            ],
        )
        return len(rows)


def _at(value: dt.datetime) -> ColumnElement[Any]:
    return literal(value, UTCDateTime())


def _campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise UserError(f"no campaign {campaign_id}")
    return campaign


def _view(c: Campaign) -> CampaignView:
    return CampaignView(
        c.id,
        c.name,
        c.channel,
        c.member_count,
        json.loads(c.left_out_json),
        c.return_days,
        c.created_by,
        c.created_at,
        json.loads(c.criteria_json),
    )


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
    """An order of the customer (not cancelled) with a line of these products or lines."""
    which = []
    if products:
        which.append(OrderLine.product_id.in_(products))
    if lines:
        which.append(
            OrderLine.product_id.in_(select(Product.id).where(Product.product_line.in_(lines)))
        )
    window = [Order.placed_at >= _at(since), Order.placed_at <= _at(now)] if since else []
    return exists(
        select(OrderLine.id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            Order.customer_id == Customer.id,
            Order.status != OrderStatus.CANCELLED,
            or_(*which),
            *window,
        )
    )


def _contact_columns(channel: Channel) -> tuple[ColumnElement[Any], ColumnElement[Any] | None]:
    """The address or number the channel would use (primary first), and for the phone
    channels the phone's id (a preference may avoid one number)."""
    if channel is Channel.EMAIL:
        email = (
            select(CustomerEmail.address)
            .where(CustomerEmail.customer_id == Customer.id)
            .order_by(CustomerEmail.is_primary.desc(), CustomerEmail.id)
            .limit(1)
            .scalar_subquery()
        )
        return email, None
    if channel is Channel.MAIL:
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
    if channel is Channel.SMS:
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
    covers = [ContactPreference.phone_id.is_(None)]
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


def _listed(criteria: ListCriteria, now: dt.datetime) -> Select[Any]:
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
            exists(
                select(Order.id).where(
                    Order.customer_id == Customer.id,
                    Order.store_id.in_(criteria.stores),
                    Order.status != OrderStatus.CANCELLED,
                    Order.placed_at >= _at(since),
                )
            )
        )
    if criteria.key_date_days is not None:
        today = local_today(lambda: now)
        dates = [
            KeyDate.customer_id == Customer.id,
            KeyDate.month_day.in_(month_days_ahead(today, criteria.key_date_days)),
        ]
        if criteria.key_date_kinds:
            dates.append(KeyDate.kind.in_(criteria.key_date_kinds))
        conditions.append(exists(select(KeyDate.id).where(*dates)))
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
