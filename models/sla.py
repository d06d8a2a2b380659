"""Service levels: business calendars (opening hours, holidays, closures) and the SLA
policies measured on them. The arithmetic lives in app/sla.py; these are its inputs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, SmallInteger, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class BusinessCalendar(Base):
    """When the company works, in one time zone, with a country's public holidays."""

    __tablename__ = "business_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64))  # IANA, "Europe/Berlin"
    # Public holidays from the `holidays` package: ISO country and subdivision codes.
    holiday_country: Mapped[str | None] = mapped_column(String(2))
    holiday_subdivision: Mapped[str | None] = mapped_column(String(10))


class BusinessHours(Base):
    """One opening interval on a weekday; several per day make a lunch break."""

    __tablename__ = "business_hours"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday"),
        CheckConstraint("opens < closes", name="interval"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)  # Monday = 0
    opens: Mapped[dt.time] = mapped_column(Time)
    closes: Mapped[dt.time] = mapped_column(Time)


class CalendarClosure(Base):
    """A day the company is closed beyond public holidays (inventory day, company event)."""

    __tablename__ = "calendar_closures"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(100))


class SlaPolicy(Base):
    """Targets for cases matching category / priority / tier (None matches any).

    The most specific matching policy wins; `rank` breaks ties (lower first).
    """

    __tablename__ = "sla_policies"
    __table_args__ = (
        CheckConstraint("first_response_minutes > 0", name="first_response"),
        CheckConstraint("resolution_minutes > 0", name="resolution"),
        CheckConstraint("warn_at_percent > 0 AND warn_at_percent < 100", name="warn_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    category: Mapped[str | None] = mapped_column(String(40))
    priority: Mapped[str | None] = mapped_column(String(10))
    tier: Mapped[str | None] = mapped_column(String(10))
    first_response_minutes: Mapped[int] = mapped_column(Integer)  # business minutes
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    warn_at_percent: Mapped[int] = mapped_column(SmallInteger, default=75)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("business_calendars.id"))
    rank: Mapped[int] = mapped_column(SmallInteger, default=100)
