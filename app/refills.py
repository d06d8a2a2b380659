"""A customer's own re-purchase rhythm for one product (S1: "you bought this on 22 April,
would you like another bottle?"). Pure: the service hands in the purchases.

Rules, decided here once:
- One purchase per day: orders of the same product on the same day are one purchase
  (their quantities added). The date rhythm comes from the purchase dates.
- Quantities: a purchase of q units lasts q intervals. The interval after a purchase is
  divided by its quantity (3 bottles bought, then 270 days to the next purchase: one
  bottle per 90 days), and the next purchase is expected q_last intervals after the last
  one. A quantity never changes the purchase dates themselves.
- At least MIN_PURCHASES purchases (two repeats) make a rhythm; fewer say nothing.
- The interval is the median of the per-unit intervals; the spread their lower and upper
  quartile ("every 6-8 weeks"), so one odd gap does not widen it; with fewer than
  QUARTILES_FROM intervals quartiles mean little, and the spread is shortest to longest.
- Due DUE_AHEAD_DAYS before the time since the last purchase reaches the spread's
  lower bound (times the last quantity): from then on she usually buys again, and
  she wants the new bottle before the old one runs out; an agent who asks a little
  early loses nothing, one who asks late has lost the sale.
- Lapsed, and no longer due, past LAPSED_AFTER times the upper bound: she has stopped
  buying it (or buys it elsewhere); a refill reminder would miss the point.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

MIN_PURCHASES = 3  # two repeats: one interval could be chance
DUE_AHEAD_DAYS = 14
LAPSED_AFTER = 2.0
QUARTILES_FROM = 4  # intervals


@dataclass(frozen=True)
class Rhythm:
    """How often a customer re-buys one product, and when she is due."""

    purchases: int  # distinct purchase days
    median_days: float  # per unit
    low_days: float  # lower quartile of the per-unit intervals
    high_days: float  # upper quartile
    last: dt.date
    last_quantity: int

    @property
    def due_on(self) -> dt.date:
        lasts = round(self.low_days * self.last_quantity)
        return self.last + dt.timedelta(days=max(0, lasts - DUE_AHEAD_DAYS))

    @property
    def expected_on(self) -> dt.date:
        return self.last + dt.timedelta(days=round(self.median_days * self.last_quantity))

    @property
    def lapsed_on(self) -> dt.date:
        return self.last + dt.timedelta(
            days=round(LAPSED_AFTER * self.high_days * self.last_quantity)
        )

    def is_due(self, today: dt.date) -> bool:
        return self.due_on <= today < self.lapsed_on

    def is_lapsed(self, today: dt.date) -> bool:
        return today >= self.lapsed_on

    def words(self, today: dt.date) -> str:
        """ "bought every 6-8 weeks, last on 22 Apr: due" (or "due on 3 Jun")."""
        last = _day(self.last, today)
        if self.last_quantity > 1:
            last = f"{last} ({self.last_quantity})"
        if self.is_lapsed(today):
            when = "lapsed"
        elif self.is_due(today):
            when = "due"
        else:
            when = f"due on {_day(self.due_on, today)}"
        return f"bought every {every(self.low_days, self.high_days)}, last on {last}: {when}"


def rhythm(purchases: Iterable[tuple[dt.date, int]]) -> Rhythm | None:
    """The rhythm of (day, quantity) purchases of one product, or None with fewer than
    MIN_PURCHASES purchase days."""
    per_day: dict[dt.date, int] = {}
    for day, quantity in purchases:
        per_day[day] = per_day.get(day, 0) + max(1, quantity)
    days = sorted(per_day)
    if len(days) < MIN_PURCHASES:
        return None
    intervals = [
        (later - earlier).days / per_day[earlier]
        for earlier, later in zip(days, days[1:], strict=False)
    ]
    if len(intervals) >= QUARTILES_FROM:
        low, _mid, high = statistics.quantiles(intervals, n=4, method="inclusive")
    else:
        low, high = min(intervals), max(intervals)
    return Rhythm(
        purchases=len(days),
        median_days=statistics.median(intervals),
        low_days=low,
        high_days=high,
        last=days[-1],
        last_quantity=per_day[days[-1]],
    )


def every(low_days: float, high_days: float) -> str:
    """ "6-8 weeks", "10 days", "3-4 months": the unit that reads best for the span."""
    if high_days < 14:
        unit, size = "days", 1.0
    elif high_days < 120:
        unit, size = "weeks", 7.0
    else:
        unit, size = "months", 30.44
    low = max(1, round(low_days / size))
    high = max(low, round(high_days / size))
    if low == high:
        return unit[:-1] if low == 1 else f"{low} {unit}"  # "every day", "every 6 weeks"
    return f"{low}-{high} {unit}"


def _day(day: dt.date, today: dt.date) -> str:
    text = f"{day.day} {day:%b}"
    return text if day.year == today.year else f"{text} {day.year}"
