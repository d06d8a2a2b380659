"""Segments and marketing lists (S1, S5, S6): each customer's recency, frequency and
monetary value with the segment they put her in, and campaigns (a saved list: who was on
it, when, and who was left out and why)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow
from models.enums import Channel, enum_type


class CustomerValue(Base):
    """RFM of one customer over her orders that were not cancelled, recomputed by
    `rapportctl segments refresh` and the housekeeping sweep. Scores are quintiles,
    1 (lowest) to 5 (best); `segment` is the named segment they map to."""

    __tablename__ = "customer_values"
    __table_args__ = (
        Index("ix_customer_values_segment", "segment"),
        Index("ix_customer_values_monetary", "monetary_cents"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    last_order_at: Mapped[dt.datetime | None]
    orders_12m: Mapped[int] = mapped_column(Integer, default=0)
    monetary_cents: Mapped[int] = mapped_column(Integer, default=0)  # last 24 months
    recency_score: Mapped[int] = mapped_column(SmallInteger)
    frequency_score: Mapped[int] = mapped_column(SmallInteger)
    monetary_score: Mapped[int] = mapped_column(SmallInteger)
    segment: Mapped[str] = mapped_column(String(40))
    product_lines: Mapped[str | None] = mapped_column(String(500))  # comma-joined, sorted
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Campaign(Base):
    """A marketing list as saved: its criteria (JSON), the channel it goes out on, how
    many were left out and why (JSON: reason -> count) and the window its return is
    measured in (orders within `return_days` of `created_at`)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel, "campaign_channel"))
    criteria_json: Mapped[str] = mapped_column(Text)
    left_out_json: Mapped[str] = mapped_column(Text)
    member_count: Mapped[int] = mapped_column(Integer)
    return_days: Mapped[int] = mapped_column(SmallInteger, default=30)
    created_by: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CampaignMember(Base):
    __tablename__ = "campaign_members"
    __table_args__ = (Index("ix_campaign_members_customer", "customer_id"),)

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    # The address or number it went to, as it was that day.
    contact: Mapped[str | None] = mapped_column(String(254))
