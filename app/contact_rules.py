"""Whether a planned contact respects the customer's contact preferences (pure: no database).

A preference (models.people.ContactPreference, passed here as `Preference`) either marks a
route to avoid ("not the mobile: no coverage at home") or says when a route may be used
(allowed days, Monday = bit 0, and allowed hours). Hours are wall-clock times in the
customer's local time zone. The customer's zone is not stored, so the caller passes the
zone the contact is planned in (the agent's calendar zone): a customer in another zone is
checked in the agent's hours, which the report of issue 11 names as a known limit.

`allowed_until` earlier than (or equal to) `allowed_from` means the window runs past
midnight (22:00-06:00); the day bit is that of the evening the window starts on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from models.enums import Channel

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WEEKDAYS = 0b0011111
_WEEKEND = 0b1100000
_EVERY_DAY = 0b1111111


@dataclass(frozen=True)
class Route:
    """How the customer is to be reached: a channel and, for the phone, which number."""

    channel: Channel
    phone_id: int | None = None
    label: str | None = None  # "mobile +1 415 555 0100", for the sentences


@dataclass(frozen=True)
class Preference:
    route: Route
    allowed_days: int = _EVERY_DAY
    allowed_from: dt.time | None = None
    allowed_until: dt.time | None = None
    rank: int = 1
    avoid: bool = False
    note: str | None = None

    def covers(self, route: Route) -> bool:
        """Whether this preference speaks about `route` (a channel-wide one covers all numbers)."""
        return self.route.channel == route.channel and (
            self.route.phone_id is None or self.route.phone_id == route.phone_id
        )


@dataclass(frozen=True)
class Window:
    """A span of local wall-clock time (naive datetimes in the planning zone)."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Suggestion:
    """The allowed choice offered instead: the preferred route and its next window."""

    route: Route
    window: Window | None

    def describe(self) -> str:
        where = self.route.label or self.route.channel.value
        if self.window is None:
            return f"Use the {where}"
        return f"Use the {where}, {self.window.start:%a %d %b %H:%M}-{self.window.end:%H:%M}"


@dataclass(frozen=True)
class RuleCheck:
    violations: tuple[str, ...]
    suggestion: Suggestion | None

    @property
    def ok(self) -> bool:
        return not self.violations


def describe_days(mask: int) -> str:
    if mask & _EVERY_DAY == _EVERY_DAY:
        return "every day"
    if mask == _WEEKDAYS:
        return "weekdays"
    if mask == _WEEKEND:
        return "weekends"
    if not mask:
        return "never"
    return ", ".join(_DAY_NAMES[i] for i in range(7) if mask & (1 << i))


def describe_hours(start: dt.time | None, end: dt.time | None) -> str:
    if start and end:
        return f"{start:%H:%M}-{end:%H:%M}"
    if start:
        return f"after {start:%H:%M}"
    if end:
        return f"before {end:%H:%M}"
    return "any time"


def describe_allowed(pref: Preference) -> str:
    hours = describe_hours(pref.allowed_from, pref.allowed_until)
    days = describe_days(pref.allowed_days)
    return days if hours == "any time" else f"{days} {hours}"


def _day_window(pref: Preference, day: dt.date) -> Window | None:
    """The allowed window starting on `day`, if the day is allowed."""
    if not pref.allowed_days & (1 << day.weekday()):
        return None
    start = dt.datetime.combine(day, pref.allowed_from or dt.time(0, 0))
    if pref.allowed_until is None:
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0))
    else:
        end = dt.datetime.combine(day, pref.allowed_until)
        if end <= start:  # runs past midnight
            end += dt.timedelta(days=1)
    return Window(start, end)


def allows(pref: Preference, moment: dt.datetime) -> bool:
    """Whether the preference's days and hours allow `moment` (naive local)."""
    for back in (1, 0):
        window = _day_window(pref, moment.date() - dt.timedelta(days=back))
        if window and window.start <= moment < window.end:
            return True
    return False


def next_window(pref: Preference, after: dt.datetime) -> Window | None:
    """The first allowed span at or after `after` (naive local), clipped to start there."""
    for offset in range(-1, 8):
        window = _day_window(pref, after.date() + dt.timedelta(days=offset))
        if window and window.end > after:
            return Window(max(window.start, after), window.end)
    return None


def _fits(prefs: Sequence[Preference], start: dt.datetime, end: dt.datetime) -> bool:
    """Whether some allowed moment of one of `prefs` falls within [start, end]."""
    for pref in prefs:
        window = next_window(pref, start)
        if window and (window.start < end or window.start == start):
            return True
    return False


def check_contact(
    preferences: Sequence[Preference],
    planned: Route,
    start: dt.datetime,
    end: dt.datetime,
    *,
    who: str = "the customer",
    blocked_channels: frozenset[Channel] = frozenset(),
    hours: bool = True,
) -> RuleCheck:
    """The violations of contacting over `planned` between `start` and `end` (naive local).

    `blocked_channels`: channels the customer's do-not-call/e-mail/SMS/mail flags close.
    `hours`: False checks only the route (a call back now: the agent sees the clock).
    """
    violations: list[str] = []
    if planned.channel in blocked_channels:
        violations.append(f"{who} asked not to be contacted by {planned.channel.value}")
    for pref in preferences:
        if pref.avoid and pref.covers(planned):
            target = pref.route.label or planned.label or planned.channel.value
            violations.append(f"Not the {target}" + (f": {pref.note}" if pref.note else ""))
    timed = [p for p in preferences if not p.avoid and p.covers(planned)]
    if hours and timed and not _fits(timed, start, end):
        allowed = "; ".join(describe_allowed(p) for p in timed)
        violations.append(f"Outside {who}'s allowed hours: {allowed}")
    if not violations:
        return RuleCheck((), None)
    return RuleCheck(tuple(violations), _suggest(preferences, start, blocked_channels))


def _suggest(
    preferences: Sequence[Preference], after: dt.datetime, blocked: frozenset[Channel]
) -> Suggestion | None:
    avoided = [p for p in preferences if p.avoid]
    usable = sorted(
        (
            p
            for p in preferences
            if not p.avoid
            and p.route.channel not in blocked
            and not any(a.covers(p.route) for a in avoided)
        ),
        key=lambda p: p.rank,
    )
    for pref in usable:
        window = next_window(pref, after)
        if window is not None:
            return Suggestion(pref.route, window)
    return None
