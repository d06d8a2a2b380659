"""Marketing lists (S1, S6): customers by what they bought, their value segment, tier,
store and key dates, for one channel, honouring consent; saved as campaigns whose
return is measured.

Every customer the criteria match is either a member or left out for one reason,
counted: a merged or staged record, the channel's do-not flag, no address or number
for the channel, or a contact preference that avoids the channel. Nobody is dropped
silently, so the counts add up to the matches.

All of it is SQL that scales (one statement for the counts, one for the first rows, one
INSERT ... SELECT for the members, all over `list_query.listed`): no Python loop over
customers.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, insert, literal, select
from sqlalchemy.orm import Session

from app.clock import Clock, system_clock
from app.errors import UserError
from app.export import export_table
from app.services import list_query
from app.services.list_query import (
    AVOIDS_CHANNEL,
    DO_NOT_CONTACT,
    LIST_CHANNELS,
    MAX_KEY_DATE_DAYS,
    MAX_MONTHS,
    MAX_RETURN_DAYS,
    MERGED_OR_STAGED,
    NO_CONTACT,
    PREVIEW_ROWS,
    REASONS,
    ListCriteria,
    at,
    month_days_ahead,
    months_before,
    reason_text,
)
from models.catalog import Product, Store
from models.commerce import Order
from models.database import Database
from models.enums import Channel, OrderStatus
from models.marketing import Campaign, CampaignMember, CustomerValue
from models.people import Customer

__all__ = [  # what the UI and the tests take from here, defined in list_query
    "AVOIDS_CHANNEL",
    "DO_NOT_CONTACT",
    "LIST_CHANNELS",
    "MAX_KEY_DATE_DAYS",
    "MAX_MONTHS",
    "MAX_RETURN_DAYS",
    "MERGED_OR_STAGED",
    "NO_CONTACT",
    "REASONS",
    "CampaignReturn",
    "CampaignView",
    "ListCriteria",
    "ListMember",
    "ListPreview",
    "MarketingListService",
    "month_days_ahead",
    "months_before",
    "reason_text",
]


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
            listed = list_query.listed(criteria, now).subquery("listed")
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
            listed = list_query.listed(criteria, now).subquery("listed")
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
        """The members' orders in the window, including those of the customers a member
        was merged into since (a merge moves the orders; the membership stays put), each
        order counted once even when both halves of a merge were members."""
        now = self._clock()
        with self._db.read() as session:
            campaign = _campaign(session, campaign_id)
            end = campaign.created_at + dt.timedelta(days=campaign.return_days)
            within = and_(
                Order.customer_id.in_(select(_members_now(campaign_id).c.id)),
                Order.placed_at > at(campaign.created_at),
                Order.placed_at <= at(end),
                Order.status != OrderStatus.CANCELLED,
            )
            orders, customers = session.execute(
                select(func.count(Order.id), func.count(Order.customer_id.distinct())).where(within)
            ).one()
            revenue = session.execute(
                select(Order.currency, func.sum(Order.total_cents))
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


def _members_now(campaign_id: int) -> Any:
    """The campaign's members and every customer each was merged into since (a chain:
    A into B, later B into C), as a recursive CTE of customer ids."""
    members = select(CampaignMember.customer_id.label("id")).where(
        CampaignMember.campaign_id == campaign_id
    )
    chain = members.cte("members_now", recursive=True)
    return chain.union(
        select(Customer.merged_into_id).where(
            Customer.id == chain.c.id, Customer.merged_into_id.is_not(None)
        )
    )


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
