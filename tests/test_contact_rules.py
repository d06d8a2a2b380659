"""Contact rules: avoided routes, closed channels, allowed days and hours, the offered choice."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from app.contact_rules import (
    Preference,
    Route,
    allows,
    check_contact,
    describe_allowed,
    next_window,
)
from models.enums import Channel

MOBILE = Route(Channel.PHONE, 1, "mobile +1 415 555 0100")
OFFICE = Route(Channel.PHONE, 2, "work +1 415 555 0199")
NOT_MOBILE = Preference(MOBILE, avoid=True, note="she has no coverage at home")
OFFICE_EVENINGS = Preference(OFFICE, allowed_days=0b0011111, allowed_from=dt.time(18, 0))
WED = dt.datetime(2026, 12, 2)  # a Wednesday


def test_an_avoided_number_is_named_with_the_reason_and_the_office_is_offered() -> None:
    check = check_contact(
        [NOT_MOBILE, OFFICE_EVENINGS], MOBILE, WED.replace(hour=10), WED.replace(hour=12), who="Ada"
    )
    assert check.violations == ("Not the mobile +1 415 555 0100: she has no coverage at home",)
    assert check.suggestion is not None and check.suggestion.route == OFFICE
    assert check.suggestion.window is not None
    assert check.suggestion.window.start == WED.replace(hour=18)


def test_outside_the_allowed_hours_says_which_hours_are_allowed() -> None:
    check = check_contact(
        [NOT_MOBILE, OFFICE_EVENINGS], OFFICE, WED.replace(hour=9), WED.replace(hour=12), who="Ada"
    )
    assert check.violations == ("Outside Ada's allowed hours: weekdays after 18:00",)
    assert check.suggestion is not None and check.suggestion.window is not None
    assert check.suggestion.window.start == WED.replace(hour=18)
    # Friday evening is fine; the Saturday after is not, Monday 18:00 is again.
    assert check_contact(
        [OFFICE_EVENINGS], OFFICE, WED.replace(day=4, hour=19), WED.replace(day=4, hour=20)
    ).ok
    saturday = check_contact(
        [OFFICE_EVENINGS], OFFICE, WED.replace(day=5, hour=19), WED.replace(day=5, hour=21)
    )
    assert not saturday.ok and saturday.suggestion is not None
    assert saturday.suggestion.window is not None
    assert saturday.suggestion.window.start == dt.datetime(2026, 12, 7, 18, 0)


def test_a_window_that_overlaps_the_allowed_hours_is_fine() -> None:
    assert check_contact([OFFICE_EVENINGS], OFFICE, WED.replace(hour=17), WED.replace(hour=19)).ok


def test_a_closed_channel_is_a_violation_even_without_preferences() -> None:
    check = check_contact(
        [], MOBILE, WED, WED, who="Ada", blocked_channels=frozenset({Channel.PHONE})
    )
    assert check.violations == ("Ada asked not to be contacted by phone",)
    assert check.suggestion is None


def test_no_preferences_no_objection() -> None:
    assert check_contact([], MOBILE, WED, WED).ok
    assert describe_allowed(OFFICE_EVENINGS) == "weekdays after 18:00"


times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
moments = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 1, 1)).map(
    lambda m: m.replace(second=0, microsecond=0)
)


@given(
    days=st.integers(1, 127),
    start=st.none() | times,
    end=st.none() | times,
    moment=moments,
)
def test_allows_matches_the_plain_reading_of_days_and_hours(
    days: int, start: dt.time | None, end: dt.time | None, moment: dt.datetime
) -> None:
    pref = Preference(OFFICE, allowed_days=days, allowed_from=start, allowed_until=end)
    lo, hi = start or dt.time(0), end
    t = moment.time()
    if hi is None or hi > lo:  # a window within one day
        expected = bool(days & (1 << moment.weekday())) and lo <= t and (hi is None or t < hi)
    else:  # past midnight: the evening of an allowed day, or the morning after one
        yesterday = (moment.weekday() - 1) % 7
        expected = (bool(days & (1 << moment.weekday())) and t >= lo) or (
            bool(days & (1 << yesterday)) and t < hi
        )
    assert allows(pref, moment) == expected


@given(days=st.integers(1, 127), start=st.none() | times, end=st.none() | times, after=moments)
def test_the_next_window_is_allowed_and_nothing_earlier_is(
    days: int, start: dt.time | None, end: dt.time | None, after: dt.datetime
) -> None:
    pref = Preference(OFFICE, allowed_days=days, allowed_from=start, allowed_until=end)
    window = next_window(pref, after)
    assert window is not None  # some day of the week is allowed
    assert after <= window.start < window.end
    assert allows(pref, window.start)
    assert allows(pref, window.end - dt.timedelta(minutes=1))
    # No allowed minute between `after` and the window's start (sampled every 30 min).
    probe = after
    while probe < window.start:
        assert not allows(pref, probe)
        probe += dt.timedelta(minutes=30)
