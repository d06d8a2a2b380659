"""Who: staff (users, departments) and customers with everything about reaching them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    Time,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Versioned, utcnow
from models.enums import Channel, CustomerStatus, KeyDateKind, PhoneKind, Role, Tier, enum_type
from models.limits import CLIENT_KEY_LENGTH


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class User(Base):
    """A member of staff. In shared mode `login` is also their PostgreSQL role."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(63), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    team: Mapped[str | None] = mapped_column(String(60))
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    department: Mapped[Department | None] = relationship()


class Household(Base):
    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class Customer(Versioned, Base):
    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_search_name", "search_name"),
        Index("ix_customers_external_ref", "external_ref"),
        # The dashboards' tier slice: an index-only list of one tier's customers (0016).
        Index("ix_customers_tier_id", "tier", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    # Lower-case "first last" without accents: the column the trigram indexes
    # (pg_trgm on PostgreSQL, FTS5 trigram on SQLite) are built on.
    search_name: Mapped[str] = mapped_column(String(170))
    preferred_language: Mapped[str] = mapped_column(String(8), default="en")
    segment: Mapped[str | None] = mapped_column(String(40))
    tier: Mapped[Tier] = mapped_column(enum_type(Tier, "tier"), default=Tier.STANDARD)
    customer_since: Mapped[dt.date] = mapped_column(Date)
    do_not_call: Mapped[bool] = mapped_column(Boolean, default=False)
    do_not_email: Mapped[bool] = mapped_column(Boolean, default=False)
    do_not_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    do_not_mail: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[CustomerStatus] = mapped_column(
        enum_type(CustomerStatus, "customer_status"), default=CustomerStatus.ACTIVE
    )
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    # Identifier in the legacy system the record was imported from (S4, S8).
    external_ref: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    phones: Mapped[list[CustomerPhone]] = relationship(back_populates="customer")
    emails: Mapped[list[CustomerEmail]] = relationship(back_populates="customer")
    addresses: Mapped[list[CustomerAddress]] = relationship(back_populates="customer")

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class CustomerPhone(Base):
    __tablename__ = "customer_phones"
    __table_args__ = (Index("ix_customer_phones_tail", "digits_tail"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    raw: Mapped[str] = mapped_column(String(40))  # as the customer gave it
    e164: Mapped[str | None] = mapped_column(String(16), index=True)
    # Last 7 digits: the fallback match when a caller's number cannot be parsed.
    digits_tail: Mapped[str] = mapped_column(String(7))
    kind: Mapped[PhoneKind] = mapped_column(enum_type(PhoneKind, "phone_kind"))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(back_populates="phones")


class CustomerEmail(Base):
    __tablename__ = "customer_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    address: Mapped[str] = mapped_column(String(254))
    address_normalized: Mapped[str] = mapped_column(String(254), index=True)  # lower-case
    kind: Mapped[str] = mapped_column(String(16), default="personal")
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(back_populates="emails")


class CustomerAddress(Base):
    __tablename__ = "customer_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="home")
    line1: Mapped[str] = mapped_column(String(120))
    line2: Mapped[str | None] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(80))
    region: Mapped[str | None] = mapped_column(String(80))
    postal_code: Mapped[str | None] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    customer: Mapped[Customer] = relationship(back_populates="addresses")


class ContactPreference(Versioned, Base):
    """How and when a customer wants to be reached ("office phone, weekdays after 6 pm").

    `avoid` marks a route the customer asked us not to use ("not the mobile").
    """

    __tablename__ = "contact_preferences"
    __table_args__ = (
        CheckConstraint("allowed_days >= 0 AND allowed_days < 128", name="allowed_days_mask"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel, "pref_channel"))
    phone_id: Mapped[int | None] = mapped_column(ForeignKey("customer_phones.id"))
    email_id: Mapped[int | None] = mapped_column(ForeignKey("customer_emails.id"))
    # Monday = bit 0 ... Sunday = bit 6.
    allowed_days: Mapped[int] = mapped_column(SmallInteger, default=127)
    allowed_from: Mapped[dt.time | None] = mapped_column(Time)
    allowed_until: Mapped[dt.time | None] = mapped_column(Time)
    rank: Mapped[int] = mapped_column(SmallInteger, default=1)
    avoid: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(200))


class CustomerRelation(Versioned, Base):
    """A relation to another customer, or a named person who is not a customer."""

    __tablename__ = "customer_relations"
    __table_args__ = (
        CheckConstraint("related_customer_id IS NOT NULL OR related_name IS NOT NULL", name="who"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    related_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    related_name: Mapped[str | None] = mapped_column(String(120))
    relation: Mapped[str] = mapped_column(String(30))  # husband, daughter, colleague...


class KeyDate(Versioned, Base):
    __tablename__ = "key_dates"
    __table_args__ = (Index("ix_key_dates_month_day", "month_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    relation_id: Mapped[int | None] = mapped_column(ForeignKey("customer_relations.id"))
    kind: Mapped[KeyDateKind] = mapped_column(enum_type(KeyDateKind, "key_date_kind"))
    label: Mapped[str | None] = mapped_column(String(120))
    date: Mapped[dt.date] = mapped_column(Date)
    # "MM-DD", so "whose birthday is in the next 7 days" is an index range scan.
    month_day: Mapped[str] = mapped_column(String(5))
    recurring_yearly: Mapped[bool] = mapped_column(Boolean, default=True)


class CustomerNote(Versioned, Base):
    __tablename__ = "customer_notes"
    # A retry of a save whose reply was lost finds the first row (CustomerService.add_note).
    __table_args__ = (Index("uq_customer_notes_client_key", "client_key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Made by the client when the agent starts the note (a UUID), reused on retry.
    client_key: Mapped[str | None] = mapped_column(String(CLIENT_KEY_LENGTH))
