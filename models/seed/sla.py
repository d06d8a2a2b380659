"""The demo's business calendar and SLA policies.

One calendar, "Call centre" in New York with US public holidays: Monday to Friday
08:00-12:00 and 13:00-18:00 (a lunch break), Saturday 09:00-13:00. Policies per
priority, tighter for platinum customers and for complaints; all warn at 75%.

Targets are business minutes on that calendar. The open cases' due times are set by
`app.services.sla.backfill_clocks` after seeding (models may not import app's arithmetic).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from models.seed.context import SeedContext

CALENDAR_NAME = "Call centre"
CALENDAR_ZONE = "America/New_York"
HOLIDAY_COUNTRY = "US"

T = dt.time
WEEKDAY_HOURS = ((T(8), T(12)), (T(13), T(18)))
SATURDAY_HOURS = ((T(9), T(13)),)

HOUR = 60
BUSINESS_DAY = 9 * HOUR  # a weekday's opening hours

# (name, category, priority, tier, first response, resolution, rank) in business minutes;
# None matches any. The most specific match wins, then the lower rank.
POLICIES: tuple[tuple[str, str | None, str | None, str | None, int, int, int], ...] = (
    ("Urgent", None, "urgent", None, 1 * HOUR, 4 * HOUR, 100),
    ("High", None, "high", None, 2 * HOUR, 8 * HOUR, 100),
    ("Normal", None, "normal", None, 4 * HOUR, 3 * BUSINESS_DAY, 100),
    ("Low", None, "low", None, 8 * HOUR, 5 * BUSINESS_DAY, 100),
    ("Platinum urgent", None, "urgent", "platinum", 30, 2 * HOUR, 50),
    ("Platinum high", None, "high", "platinum", 1 * HOUR, 4 * HOUR, 50),
    ("Platinum", None, None, "platinum", 2 * HOUR, 1 * BUSINESS_DAY, 60),
    ("Complaint", "complaint", None, None, 1 * HOUR, 2 * BUSINESS_DAY, 40),
    ("Default", None, None, None, 4 * HOUR, 3 * BUSINESS_DAY, 1000),
)
WARN_AT_PERCENT = 75


def write_sla_reference(ctx: SeedContext) -> int:
    """The calendar, its opening hours and the policies; the calendar's id.

    The daily concession budgets turn over at midnight in the calendar's zone too
    (authority_settings, whose one row migration 0011 made)."""
    with ctx.writer.engine.begin() as conn:
        conn.execute(
            text("UPDATE authority_settings SET budget_zone = :zone WHERE id = 1"),
            {"zone": CALENDAR_ZONE},
        )
    calendar_id = ctx.writer.add(
        "business_calendars",
        name=CALENDAR_NAME,
        time_zone=CALENDAR_ZONE,
        holiday_country=HOLIDAY_COUNTRY,
        holiday_subdivision=None,
    )
    for weekday in range(7):
        spans = WEEKDAY_HOURS if weekday < 5 else SATURDAY_HOURS if weekday == 5 else ()
        for opens, closes in spans:
            ctx.writer.add(
                "business_hours",
                calendar_id=calendar_id,
                weekday=weekday,
                opens=opens,
                closes=closes,
            )
    # A company closure: the annual inventory day, the second Friday of January.
    january = dt.date(ctx.today.year + 1, 1, 1)
    first_friday = january + dt.timedelta(days=(4 - january.weekday()) % 7)
    ctx.writer.add(
        "calendar_closures",
        calendar_id=calendar_id,
        day=first_friday + dt.timedelta(days=7),
        name="Inventory day",
    )
    for name, category, priority, tier, first, resolution, rank in POLICIES:
        ctx.writer.add(
            "sla_policies",
            name=name,
            category=category,
            priority=priority,
            tier=tier,
            first_response_minutes=first,
            resolution_minutes=resolution,
            warn_at_percent=WARN_AT_PERCENT,
            calendar_id=calendar_id,
            rank=rank,
        )
    return calendar_id
