"""How values read on screen: money, dates, durations. Pure functions, no Qt."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

CURRENCY_SIGNS = {"USD": "$", "GBP": "£", "EUR": "€", "AUD": "A$"}


def money(cents: int, currency: str = "USD") -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{CURRENCY_SIGNS.get(currency, currency + ' ')}{abs(cents) / 100:,.2f}"


def money_totals(totals: Sequence[Any], amount: str, joiner: str = " + ") -> str:
    """Amounts per currency side by side ("$12,340.00 + £1,200.00"), never summed across
    currencies (no rate source to convert with); `amount` names the field to show."""
    if not totals:
        return money(0)
    return joiner.join(money(getattr(t, amount), t.currency) for t in totals)


def day(value: dt.date | dt.datetime | None) -> str:
    """'22 Apr 2025': day first and the month spelt, so nobody misreads 04/05."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone().date()
    return f"{value.day} {value:%b %Y}"


def day_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone()
    return f"{local.day} {local:%b %Y %H:%M}"


def relative_day(value: dt.date, today: dt.date) -> str:
    delta = (value - today).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if 1 < delta < 7:
        return f"{value:%A}"
    if delta < 0:
        return f"{-delta} days ago"
    return f"in {delta} days ({value.day} {value:%b})"


def tenure(since: dt.date, today: dt.date) -> str:
    """How long someone has been a customer: 'new today', '5 months', '12 years'."""
    days = (today - since).days
    if days <= 0:
        return "new today"
    months = (today.year - since.year) * 12 + today.month - since.month
    if today.day < since.day:
        months -= 1
    if months < 1:
        return plural(days, "day")
    if months < 12:
        return plural(months, "month")
    return plural(months // 12, "year")


def duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(max(seconds, 0), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def label(code: str) -> str:
    """'waiting_customer' -> 'Waiting customer'."""
    return code.replace("_", " ").capitalize()


def plural(count: int, noun: str, many: str | None = None) -> str:
    """plural(1, "order") -> "1 order"; plural(3, "match", "matches") -> "3 matches"."""
    return f"{count} {noun if count == 1 else (many or noun + 's')}"


# The kinds of suggestion (models.enums.OfferKind) as agents say them: the Suggested
# section and the pop toast both name them.
OFFER_KINDS = {
    "refill": "Refill",
    "add_on": "Add-on",
    "counterpart": "Counterpart",
    "new_line": "New line",
    "down_sell": "Down-sell",
    "retention": "Retention",
    "welcome": "Welcome",
    "cross_sell": "Cross-sell",
    "up_sell": "Up-sell",
}


def offer_kind(kind: str) -> str:
    """'add_on' -> 'Add-on'."""
    return OFFER_KINDS.get(kind, label(kind))
