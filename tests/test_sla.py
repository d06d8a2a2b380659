"""Business-time arithmetic (app/sla.py) against a brute-force minute-by-minute reference.

The reference below is written separately and simply: a UTC minute counts when the wall
clock of the calendar's zone reads inside an opening interval of that weekday, the
local date is neither a public holiday (asked of `holidays` for that local date) nor a
closure, and no pause covers it. The properties cover weekends, US and German holidays,
closures, DST in both directions (New York, Berlin), lunch breaks, pauses starting and
ending outside hours, and calendars in a zone other than the agent's.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from app.sla import (
    Calendar,
    add_business_minutes,
    business_minutes_between,
    describe,
    is_business_moment,
    next_business_moment,
    state_of,
)

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
T = dt.time
HEAVY = settings(max_examples=200, derandomize=True, deadline=None)


# -- the reference ------------------------------------------------------------------


class Reference:
    def __init__(self, zone, weekly, country=None, subdiv=None, closed=()):
        self.zone = ZoneInfo(zone)
        self.weekly = weekly  # weekday -> [(opens_minute, closes_minute)], closes <= 1440
        self.closed = set(closed)
        self.holidays = (
            holidays.country_holidays(country, subdiv=subdiv, years=range(2025, 2029))
            if country
            else {}
        )

    def counts(self, minute: dt.datetime, pauses=()) -> bool:
        if any(a <= minute < b for a, b in pauses):
            return False
        local = minute.astimezone(self.zone)
        if local.date() in self.closed or local.date() in self.holidays:
            return False
        wall = local.hour * 60 + local.minute
        return any(o <= wall < c for o, c in self.weekly.get(local.weekday(), ()))

    def add(self, start, minutes, pauses=()):
        moment, counted = start, 0
        while counted < minutes:
            if self.counts(moment, pauses):
                counted += 1
            moment += MINUTE
        return moment if minutes else start

    def between(self, a, b, pauses=()):
        total, moment = 0, a
        while moment < b:
            total += self.counts(moment, pauses)
            moment += MINUTE
        return total

    def next_open(self, moment):
        while not self.counts(moment):
            moment += MINUTE
        return moment


def build(zone, weekly, country=None, subdiv=None, closed=()):
    def time_of(minute):
        return None if minute == 1440 else T(minute // 60, minute % 60)

    calendar = Calendar(
        zone,
        {d: [(time_of(o), time_of(c)) for o, c in spans] for d, spans in weekly.items()},
        closed=closed,
        holiday_country=country,
        holiday_subdivision=subdiv,
    )
    return calendar, Reference(zone, weekly, country, subdiv, closed)


# -- strategies ---------------------------------------------------------------------

# Near DST changes both ways (New York 8 Mar / 1 Nov, Berlin 29 Mar / 25 Oct 2026), the
# US Thanksgiving and German and US Christmas holidays.
ANCHORS = [
    dt.datetime(2026, 3, 7, 12, tzinfo=UTC),
    dt.datetime(2026, 3, 28, 12, tzinfo=UTC),
    dt.datetime(2026, 10, 24, 12, tzinfo=UTC),
    dt.datetime(2026, 10, 31, 12, tzinfo=UTC),
    dt.datetime(2026, 11, 25, 12, tzinfo=UTC),
    dt.datetime(2026, 12, 23, 12, tzinfo=UTC),
]
ZONES = ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "UTC"]
HOLIDAYS = [(None, None), ("US", None), ("DE", "BY"), ("JP", None)]


@st.composite
def day_spans(draw):
    # Quarter-hour boundaries; up to three intervals a day (a lunch break and more),
    # some of them in the small hours where the clocks change.
    marks = draw(st.lists(st.integers(0, 96), min_size=0, max_size=6, unique=True))
    marks = sorted(marks)
    if len(marks) % 2:
        marks = marks[:-1]
    return [(marks[i] * 15, marks[i + 1] * 15) for i in range(0, len(marks), 2)]


@st.composite
def calendars(draw):
    weekly = {d: draw(day_spans()) for d in range(7)}
    if not any(weekly.values()):
        weekly[0] = [(9 * 60, 17 * 60)]
    zone = draw(st.sampled_from(ZONES))
    country, subdiv = draw(st.sampled_from(HOLIDAYS))
    anchor = draw(st.sampled_from(ANCHORS))
    closed = draw(
        st.lists(st.integers(-2, 8).map(lambda n: anchor.date() + dt.timedelta(days=n)), max_size=2)
    )
    return build(zone, weekly, country, subdiv, closed), anchor


@st.composite
def moments(draw, anchor):
    return anchor + dt.timedelta(minutes=draw(st.integers(-2 * 1440, 4 * 1440)))


@st.composite
def pause_lists(draw, start):
    pauses = []
    for _ in range(draw(st.integers(0, 2))):
        begin = start + dt.timedelta(minutes=draw(st.integers(-600, 4000)))
        pauses.append((begin, begin + dt.timedelta(minutes=draw(st.integers(1, 3000)))))
    return pauses


@st.composite
def cases(draw):
    (calendar, reference), anchor = draw(calendars())
    start = draw(moments(anchor))
    return calendar, reference, start, draw(pause_lists(start))


# -- properties ---------------------------------------------------------------------


@HEAVY
@given(cases(), st.integers(0, 1500))
def test_due_time_matches_minute_by_minute_reference(case, minutes):
    calendar, reference, start, pauses = case
    assert add_business_minutes(calendar, start, minutes, pauses) == reference.add(
        start, minutes, pauses
    )


@HEAVY
@given(cases(), st.integers(-1440, 6 * 1440))
def test_business_minutes_between_matches_reference(case, span):
    calendar, reference, start, pauses = case
    end = start + dt.timedelta(minutes=span)
    expected = (
        reference.between(start, end, pauses)
        if span >= 0
        else -reference.between(end, start, pauses)
    )
    assert business_minutes_between(calendar, start, end, pauses) == expected


@HEAVY
@given(cases(), st.integers(1, 3000))
def test_between_inverts_add(case, minutes):
    calendar, _reference, start, pauses = case
    due = add_business_minutes(calendar, start, minutes, pauses)
    assert business_minutes_between(calendar, start, due, pauses) == minutes


@HEAVY
@given(calendars(), st.integers(-2 * 1440, 4 * 1440))
def test_next_business_moment_matches_reference(made, offset):
    (calendar, reference), anchor = made
    moment = anchor + dt.timedelta(minutes=offset)
    expected = reference.next_open(moment)
    assert next_business_moment(calendar, moment) == expected
    assert is_business_moment(calendar, moment) == (expected == moment)


# -- the anchors' bugs, by name -----------------------------------------------------

ALL_DAY = {d: [(0, 1440)] for d in range(7)}
OFFICE = {d: [(9 * 60, 12 * 60), (13 * 60, 17 * 60)] for d in range(5)}


def test_holiday_counted_on_the_calendars_own_date_zammad_3706():
    # Tokyo's Culture Day (Tue 3 Nov 2026) is closed from Tokyo's midnight to midnight,
    # whatever the agent's zone; a UTC-midnight holiday would close 09:00-09:00 JST.
    calendar, _ = build("Asia/Tokyo", ALL_DAY, "JP")
    assert not is_business_moment(calendar, dt.datetime(2026, 11, 2, 15, 30, tzinfo=UTC))
    assert not is_business_moment(calendar, dt.datetime(2026, 11, 3, 14, 30, tzinfo=UTC))
    assert is_business_moment(calendar, dt.datetime(2026, 11, 2, 14, 30, tzinfo=UTC))
    assert is_business_moment(calendar, dt.datetime(2026, 11, 3, 15, 30, tzinfo=UTC))
    # New York's Christmas: 25 Dec 23:30 EST is 26 Dec in UTC, and still closed.
    new_york, _ = build("America/New_York", ALL_DAY, "US")
    assert not is_business_moment(new_york, dt.datetime(2026, 12, 26, 4, 30, tzinfo=UTC))
    assert is_business_moment(new_york, dt.datetime(2026, 12, 25, 4, 30, tzinfo=UTC))


def test_reminder_waits_for_the_next_opening_zammad_4432():
    calendar, _ = build("Europe/Berlin", OFFICE, "DE", "BY")
    midnight_saturday = dt.datetime(2026, 11, 27, 23, 0, tzinfo=UTC)  # Sat 00:00 CET
    assert next_business_moment(calendar, midnight_saturday) == dt.datetime(
        2026, 11, 30, 8, 0, tzinfo=UTC
    )  # Mon 09:00 CET
    lunch = dt.datetime(2026, 11, 30, 11, 15, tzinfo=UTC)  # Mon 12:15 CET
    assert next_business_moment(calendar, lunch) == dt.datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_paused_is_shown_only_while_the_clock_stopped_frappe_1554():
    calendar, _ = build("Europe/Berlin", OFFICE)
    due = dt.datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tue 16:00 CET
    berlin = ZoneInfo("Europe/Berlin")
    morning = dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    running = state_of(
        calendar, due_at=due, target_minutes=480, warn_at_percent=75, now=morning, agent_zone=berlin
    )
    assert not running.paused
    assert running.minutes_left == 300  # 10:00-12:00 and 13:00-16:00 CET
    paused = state_of(
        calendar,
        due_at=due,
        target_minutes=480,
        warn_at_percent=75,
        now=morning + dt.timedelta(hours=3),
        agent_zone=berlin,
        paused_since=morning,
    )
    assert paused.paused
    assert paused.minutes_left == 300  # the clock did not run while paused
    assert paused.text.startswith("Paused, waiting on the customer: 5 h of")


def test_deadlines_are_business_time_not_wall_time():
    # Fri 30 Oct 2026 16:00 EDT + 2 business hours (09:00-17:00): 1 h on Friday, 1 h on
    # Monday after the clocks went back: Mon 10:00 EST = 15:00 UTC (wall time: 14:00).
    calendar, _ = build("America/New_York", {d: [(540, 1020)] for d in range(5)})
    start = dt.datetime(2026, 10, 30, 20, 0, tzinfo=UTC)
    assert add_business_minutes(calendar, start, 120) == dt.datetime(2026, 11, 2, 15, tzinfo=UTC)
    # Around the clock, 24 business hours from Sat 12:00 EDT end Sun 11:00 EST (real time).
    always, _ = build("America/New_York", ALL_DAY)
    saturday_noon = dt.datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    due = add_business_minutes(always, saturday_noon, 24 * 60)
    assert due.astimezone(always.zone).replace(tzinfo=None) == dt.datetime(2026, 11, 1, 11, 0)


def test_interval_on_a_dst_day_is_its_real_length():
    calendar, _ = build("Europe/Berlin", ALL_DAY)
    spring = dt.datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # Sun 29 Mar 00:00 CET
    autumn = dt.datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # Sun 25 Oct 00:00 CEST
    assert business_minutes_between(calendar, spring, spring + dt.timedelta(days=1)) == 1440
    assert calendar.intervals_on(dt.date(2026, 3, 29))[0][1] - spring.timestamp() == 23 * 3600
    assert calendar.intervals_on(dt.date(2026, 10, 25))[0][1] - autumn.timestamp() == 25 * 3600


def test_countdown_text_in_the_agents_zone():
    # Calendar in Tokyo, agent in Berlin: the due time reads in Berlin's wall time.
    calendar, _ = build("Asia/Tokyo", {d: [(0, 1440)] for d in range(7)})
    now = dt.datetime(2026, 11, 30, 7, 30, tzinfo=UTC)  # Mon 08:30 CET
    due = add_business_minutes(calendar, now, 130)
    text = describe(130, due, now=now, agent_zone=ZoneInfo("Europe/Berlin"))
    assert text == "2 h 10 min of business time left, due Mon 10:40"
    late = describe(-35, due, now=now, agent_zone=ZoneInfo("Europe/Berlin"))
    assert late == "Breached 35 min of business time ago"


def test_warning_and_breach_flags():
    calendar, _ = build("UTC", ALL_DAY)
    start = dt.datetime(2026, 12, 1, 8, tzinfo=UTC)
    due = add_business_minutes(calendar, start, 100)
    zone = ZoneInfo("UTC")

    def at(minutes):
        return state_of(
            calendar,
            due_at=due,
            target_minutes=100,
            warn_at_percent=75,
            now=start + dt.timedelta(minutes=minutes),
            agent_zone=zone,
        )

    assert (at(74).warning, at(75).warning, at(99).breached, at(100).breached) == (
        False,
        True,
        False,
        True,
    )
    assert at(100).warning is False and at(135).text == "Breached 35 min of business time ago"
