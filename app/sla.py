"""Business-time arithmetic for SLAs: pure, no database, no Qt.

A `Calendar` says when the company works: opening intervals per weekday in its own
time zone (several a day make a lunch break), plus closed local dates (public holidays
from the `holidays` package and company closures). The clock stops outside those
intervals and during pauses (waiting on the customer), given as UTC intervals.

Why it is shaped this way (what the anchors' users report):
- Holidays are the calendar's own local dates, never a UTC midnight converted to
  another zone, so a holiday cannot shift by a day (Zammad #3706).
- An opening interval is local wall time converted to UTC per day through zoneinfo,
  so "09:00-17:00" on a DST day is its real length and deadlines are never computed on
  wall time (Chatwoot).
- `next_business_moment` lets reminders wait for the next opening instead of firing
  at midnight (Zammad #4432).
- `SlaState.paused` is only true when the clock really stopped (Frappe Helpdesk #1554).

The arithmetic walks days and intervals (cached per local day as UTC timestamps),
never minutes, so a due time costs microseconds.
"""

from __future__ import annotations

import calendar as calendar_module
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import holidays as holiday_data

UTC = dt.UTC
# A calendar with opening hours but every day closed would walk forever: give up after
# this many days without business time (ten years).
_MAX_DAYS_WITHOUT_BUSINESS = 3660
_DAY = dt.timedelta(days=1)

Pause = tuple[dt.datetime, dt.datetime]
# One opening interval as seconds after local midnight: (opens, closes); closes may be
# 86400 (midnight at the end of the day).
Span = tuple[int, int]


def _seconds(moment: dt.time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


class Calendar:
    """When the company works, in one time zone. Immutable once built; caches per day.

    `weekly[weekday]` (Monday = 0) holds that day's opening intervals as local times;
    `closed` holds extra closed local dates (company closures); public holidays of
    `holiday_country` / `holiday_subdivision` are added per year as needed.
    """

    def __init__(
        self,
        time_zone: str,
        weekly: Mapping[int, Sequence[tuple[dt.time, dt.time | None]]],
        *,
        closed: Iterable[dt.date] = (),
        holiday_country: str | None = None,
        holiday_subdivision: str | None = None,
    ) -> None:
        self.time_zone = time_zone
        self.zone = ZoneInfo(time_zone)
        spans: list[tuple[Span, ...]] = []
        for weekday in range(7):
            day_spans = sorted(
                (_seconds(opens), 86400 if closes is None else _seconds(closes))
                for opens, closes in weekly.get(weekday, ())
            )
            for (_o1, c1), (o2, _c2) in zip(day_spans, day_spans[1:], strict=False):
                if o2 < c1:
                    raise ValueError(f"opening intervals overlap on weekday {weekday}")
            if any(opens >= closes for opens, closes in day_spans):
                raise ValueError("an opening interval must open before it closes")
            spans.append(tuple(day_spans))
        if not any(spans):
            raise ValueError("a business calendar needs at least one opening interval")
        self.spans: tuple[tuple[Span, ...], ...] = tuple(spans)
        self.closures = frozenset(closed)
        self.holiday_country = holiday_country
        self.holiday_subdivision = holiday_subdivision
        self._holiday_years: set[int] = set()
        self._holidays: set[dt.date] = set()
        self._days: dict[dt.date, tuple[tuple[float, float], ...]] = {}

    # -- which days are closed ------------------------------------------------------

    def is_closed(self, day: dt.date) -> bool:
        """Whether the local date `day` is a public holiday or a company closure."""
        if day in self.closures:
            return True
        if self.holiday_country is None:
            return False
        if day.year not in self._holiday_years:
            self._load_holidays(day.year)
        return day in self._holidays

    def _load_holidays(self, year: int) -> None:
        assert self.holiday_country is not None
        # Dates as the country's own calendar gives them: local dates, no conversion.
        found = holiday_data.country_holidays(
            self.holiday_country, subdiv=self.holiday_subdivision, years=year
        )
        self._holidays.update(found.keys())
        self._holiday_years.add(year)

    # -- business intervals in UTC ---------------------------------------------------

    def intervals_on(self, day: dt.date) -> tuple[tuple[float, float], ...]:
        """The local date's opening intervals as UTC POSIX timestamps (empty when closed).

        The clock runs while the wall clock in the calendar's zone reads inside an
        interval: on a DST day "09:00-17:00" keeps its real length, an interval in the
        skipped hour starts when the clock jumps, one in the repeated hour runs twice.
        """
        cached = self._days.get(day)
        if cached is not None:
            return cached
        spans = self.spans[day.weekday()]
        if not spans or self.is_closed(day):
            result: tuple[tuple[float, float], ...] = ()
        else:
            result = self._utc_intervals(day, spans)
        self._days[day] = result
        return result

    def _utc_intervals(
        self, day: dt.date, spans: tuple[Span, ...]
    ) -> tuple[tuple[float, float], ...]:
        # Wall seconds of local midnight, as if the wall clock were UTC.
        midnight = float(calendar_module.timegm(day.timetuple()))
        before = self._offset(midnight - 86400)
        after = self._offset(midnight + 2 * 86400)
        pieces: list[tuple[float, float]] = []
        change = (
            0.0
            if before == after
            else self._change_between(midnight - 86400, midnight + 2 * 86400, after)
        )
        for opens, closes in spans:
            wall_open, wall_close = midnight + opens, midnight + closes
            if before == after:
                pieces.append((wall_open - before, wall_close - before))
                continue
            # One offset change near this day: wall time is t + before until the change
            # and t + after from it; take the instants whose wall time is in the span.
            first = (wall_open - before, min(change, wall_close - before))
            second = (max(change, wall_open - after), wall_close - after)
            for start, end in (first, second):
                if start < end:
                    if pieces and start <= pieces[-1][1]:
                        pieces[-1] = (pieces[-1][0], max(pieces[-1][1], end))
                    else:
                        pieces.append((start, end))
        return tuple(pieces)

    def _offset(self, timestamp: float) -> float:
        offset = dt.datetime.fromtimestamp(timestamp, self.zone).utcoffset()
        assert offset is not None
        return offset.total_seconds()

    def _change_between(self, lo: float, hi: float, later_offset: float) -> float:
        """The first instant in (lo, hi] whose offset is `later_offset` (whole seconds)."""
        low, high = int(lo), int(hi)
        while high - low > 1:
            middle = (low + high) // 2
            if self._offset(middle) == later_offset:
                high = middle
            else:
                low = middle
        return float(high)

    def local_date(self, timestamp: float) -> dt.date:
        return dt.datetime.fromtimestamp(timestamp, self.zone).date()


def _stamp(moment: dt.datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; SLA times are aware UTC")
    return moment.timestamp()


def _moment(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, UTC)


def _pause_stamps(pauses: Iterable[Pause]) -> list[tuple[float, float]]:
    """Pauses as sorted, merged timestamp intervals (empty ones dropped)."""
    spans = sorted((_stamp(a), _stamp(b)) for a, b in pauses if b > a)
    merged: list[tuple[float, float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _running(
    start: float, end: float, pauses: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """[start, end) with the pauses cut out."""
    if not pauses:
        return [(start, end)]
    pieces = []
    cursor = start
    for p_start, p_end in pauses:
        if p_end <= cursor:
            continue
        if p_start >= end:
            break
        if p_start > cursor:
            pieces.append((cursor, p_start))
        cursor = max(cursor, p_end)
        if cursor >= end:
            break
    if cursor < end:
        pieces.append((cursor, end))
    return pieces


def add_business_minutes(
    calendar: Calendar, start: dt.datetime, minutes: float, pauses: Iterable[Pause] = ()
) -> dt.datetime:
    """The UTC moment when `minutes` of business time have run from `start`.

    The clock runs only inside opening intervals and outside `pauses`. The result is
    the earliest such moment: a target used up exactly at closing time is due at
    closing time, not at the next opening.
    """
    if minutes < 0:
        raise ValueError("business minutes to add must be 0 or more")
    cursor = _stamp(start)
    remaining = minutes * 60.0
    if remaining == 0:
        return _moment(cursor)
    stops = _pause_stamps(pauses)
    # A day early: where the clock falls back across midnight, yesterday's wall time recurs.
    day = calendar.local_date(cursor) - _DAY
    idle_days = 0
    while True:
        intervals = calendar.intervals_on(day)
        for opens, closes in intervals:
            if closes <= cursor:
                continue
            for run_start, run_end in _running(max(opens, cursor), closes, stops):
                length = run_end - run_start
                if length >= remaining:
                    return _moment(run_start + remaining)
                remaining -= length
        idle_days = 0 if intervals else idle_days + 1
        if idle_days > _MAX_DAYS_WITHOUT_BUSINESS:
            raise ValueError("the calendar has no business time within ten years")
        day += _DAY


def business_seconds_between(
    calendar: Calendar, a: dt.datetime, b: dt.datetime, pauses: Iterable[Pause] = ()
) -> float:
    """Business seconds from `a` to `b` (negative when `b` is before `a`)."""
    start, end = _stamp(a), _stamp(b)
    if end < start:
        return -business_seconds_between(calendar, b, a, pauses)
    stops = _pause_stamps(pauses)
    total = 0.0
    day = calendar.local_date(start) - _DAY
    last = calendar.local_date(end)
    while day <= last:
        for opens, closes in calendar.intervals_on(day):
            lo, hi = max(opens, start), min(closes, end)
            if lo < hi:
                total += sum(r_end - r_start for r_start, r_end in _running(lo, hi, stops))
        day += _DAY
    return total


def business_minutes_between(
    calendar: Calendar, a: dt.datetime, b: dt.datetime, pauses: Iterable[Pause] = ()
) -> float:
    """Business minutes from `a` to `b` (negative when `b` is before `a`)."""
    return business_seconds_between(calendar, a, b, pauses) / 60.0


def is_business_moment(calendar: Calendar, moment: dt.datetime) -> bool:
    """Whether the clock runs at `moment` (opening intervals are [opens, closes))."""
    stamp = _stamp(moment)
    day = calendar.local_date(stamp)
    return any(o <= stamp < c for d in (day - _DAY, day) for o, c in calendar.intervals_on(d))


def next_business_moment(calendar: Calendar, moment: dt.datetime) -> dt.datetime:
    """`moment` when the clock runs then, else the next opening (UTC).

    Reminders go out only here, never at midnight outside service hours (Zammad #4432).
    """
    stamp = _stamp(moment)
    day = calendar.local_date(stamp) - _DAY
    for _ in range(_MAX_DAYS_WITHOUT_BUSINESS):
        for opens, closes in calendar.intervals_on(day):
            if stamp < closes:
                return _moment(max(opens, stamp))
        day += _DAY
    raise ValueError("the calendar has no business time within ten years")


# -- the state shown to agents ------------------------------------------------------


@dataclass(frozen=True)
class SlaState:
    """A case's resolution clock at one instant, as the agent sees it."""

    due_at: dt.datetime  # when the target runs out if the clock keeps running (UTC)
    minutes_left: float  # business minutes; negative once breached
    percent_used: float
    paused: bool  # the clock is really stopped now (waiting on the customer)
    warning: bool  # at or past the policy's warn_at_percent, not breached
    breached: bool
    text: str  # "2 h 10 min of business time left, due Mon 10:40"


def state_of(
    calendar: Calendar,
    *,
    due_at: dt.datetime,
    target_minutes: int,
    warn_at_percent: int,
    now: dt.datetime,
    agent_zone: dt.tzinfo,
    paused_since: dt.datetime | None = None,
    breached_at: dt.datetime | None = None,
) -> SlaState:
    """The clock of a case due at `due_at` (its policy's target `target_minutes`) at `now`.

    While paused the stored due time is stale: the time left is what was left when
    the pause began, and the shown due time is where it lands if resumed now.
    """
    paused = paused_since is not None and paused_since <= now
    frozen_at = paused_since if paused and paused_since is not None else now
    left = business_minutes_between(calendar, frozen_at, due_at)
    shown_due = due_at
    if paused:
        shown_due = add_business_minutes(calendar, now, max(left, 0.0))
    breached = breached_at is not None or left <= 0
    used = 100.0 * (target_minutes - left) / target_minutes if target_minutes > 0 else 100.0
    warning = not breached and used >= warn_at_percent
    text = describe(left, shown_due, now=now, agent_zone=agent_zone, paused=paused)
    return SlaState(shown_due, left, used, paused, warning, breached, text)


def format_duration(minutes: float) -> str:
    """Whole business minutes as "2 h 10 min", "35 min", "3 h"."""
    total = max(0, math.floor(abs(minutes) + 1e-9))
    hours, mins = divmod(total, 60)
    if hours and mins:
        return f"{hours} h {mins} min"
    if hours:
        return f"{hours} h"
    return f"{mins} min"


def describe(
    minutes_left: float,
    due_at: dt.datetime,
    *,
    now: dt.datetime,
    agent_zone: dt.tzinfo,
    paused: bool = False,
) -> str:
    """The countdown in words, the due time in the agent's own zone."""
    if minutes_left <= 0 and not paused:
        return f"Breached {format_duration(minutes_left)} of business time ago"
    local_due = due_at.astimezone(agent_zone)
    local_now = now.astimezone(agent_zone)
    if abs((local_due.date() - local_now.date()).days) < 6:
        when = local_due.strftime("%a %H:%M")
    else:
        when = f"{local_due:%a} {local_due.day} {local_due:%b %H:%M}"
    if paused:
        if minutes_left <= 0:
            return "Paused, waiting on the customer (already breached)"
        return (
            f"Paused, waiting on the customer: {format_duration(minutes_left)} "
            "of business time left"
        )
    return f"{format_duration(minutes_left)} of business time left, due {when}"


def warn_moment(
    calendar: Calendar,
    started: dt.datetime,
    target_minutes: int,
    warn_at_percent: int,
    pauses: Iterable[Pause] = (),
) -> dt.datetime:
    """When `warn_at_percent` of the target has run (the warning is due from then on)."""
    return add_business_minutes(calendar, started, target_minutes * warn_at_percent / 100.0, pauses)
