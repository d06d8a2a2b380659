"""Where the services read the time: one injectable clock instead of scattered `now()` calls.

Services take a `Clock` (a callable returning an aware UTC datetime); the app passes
`system_clock`, tests pass a fixed instant so nothing depends on the hour of the run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def fixed_clock(instant: dt.datetime) -> Clock:
    """A clock that always says `instant` (aware; converted to UTC)."""
    utc = instant.astimezone(dt.UTC)
    return lambda: utc


def local_today(clock: Clock) -> dt.date:
    """The agent's calendar day at the clock's instant (the machine's time zone)."""
    return clock().astimezone().date()
