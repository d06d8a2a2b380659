"""The re-purchase rhythm (app/refills.py) on hand-made histories."""

from __future__ import annotations

import datetime as dt

from app import refills
from app.refills import rhythm

D = dt.date


def _every(start: D, gaps: list[int], quantity: int = 1) -> list[tuple[D, int]]:
    days = [start]
    for gap in gaps:
        days.append(days[-1] + dt.timedelta(days=gap))
    return [(day, quantity) for day in days]


def test_one_purchase_or_two_make_no_rhythm() -> None:
    assert rhythm([]) is None
    assert rhythm([(D(2026, 1, 5), 1)]) is None
    assert rhythm([(D(2026, 1, 5), 1), (D(2026, 3, 5), 1)]) is None


def test_two_repeats_make_a_rhythm_and_its_words() -> None:
    found = rhythm(_every(D(2026, 1, 1), [42, 56]))  # 6 then 8 weeks
    assert found is not None
    assert (found.purchases, found.median_days) == (3, 49)
    assert found.last == D(2026, 4, 9)
    assert refills.every(found.low_days, found.high_days) == "6-8 weeks"
    # Due two weeks before the spread's lower bound (6 weeks plus a bit) is reached.
    assert (found.low_days, found.high_days) == (42, 56)  # two intervals: shortest-longest
    assert found.due_on == found.last + dt.timedelta(days=42 - 14)
    assert not found.is_due(found.due_on - dt.timedelta(days=1))
    assert found.is_due(found.due_on)
    assert found.words(D(2026, 5, 10)) == "bought every 6-8 weeks, last on 9 Apr: due"
    assert found.words(D(2026, 4, 20)).endswith(f"due on {found.due_on.day} {found.due_on:%b}")
    assert found.words(D(2027, 1, 10)) == (
        "bought every 6-8 weeks, last on 9 Apr 2026: lapsed"
    )  # twice the upper bound gone by: she stopped
    assert not found.is_due(D(2027, 1, 10))


def test_irregular_intervals_take_the_median_and_the_quartiles() -> None:
    # One odd gap (a holiday) does not move the median nor widen the spread much.
    found = rhythm(_every(D(2025, 1, 1), [30, 31, 29, 120, 30, 32]))
    assert found is not None
    assert found.median_days == 30.5
    assert 30 <= found.low_days <= found.high_days < 40
    assert refills.every(found.low_days, found.high_days) == "4-5 weeks"


def test_same_day_orders_are_one_purchase() -> None:
    history = [(D(2026, 1, 1), 1), (D(2026, 1, 1), 1), (D(2026, 2, 1), 1), (D(2026, 3, 1), 2)]
    found = rhythm(history)
    assert found is not None
    assert found.purchases == 3
    # Two on 1 Jan: 31 days lasted two units (15.5 per unit); one on 1 Feb: 28 days.
    assert sorted([found.low_days, found.high_days]) == [found.low_days, found.high_days]
    assert found.median_days == (15.5 + 28) / 2


def test_a_quantity_of_three_lasts_three_intervals() -> None:
    # Monthly, then three at once on 1 Apr: the next one is expected three months on,
    # and the dates themselves stay the dates of the orders.
    history = [(D(2026, 1, 1), 1), (D(2026, 2, 1), 1), (D(2026, 3, 1), 1), (D(2026, 4, 1), 3)]
    found = rhythm(history)
    assert found is not None
    assert (found.last, found.last_quantity) == (D(2026, 4, 1), 3)
    assert 28 <= found.median_days <= 31
    assert found.expected_on == D(2026, 4, 1) + dt.timedelta(days=round(found.median_days * 3))
    assert not found.is_due(D(2026, 5, 15))  # one month on: two bottles left
    assert found.is_due(D(2026, 6, 20))
    assert "last on 1 Apr (3)" in found.words(D(2026, 6, 20))
    # A quantity bought and then a gap three times as long is one unit per interval.
    per_unit = rhythm([(D(2026, 1, 1), 3), (D(2026, 4, 1), 1), (D(2026, 5, 1), 1)])
    assert per_unit is not None
    assert per_unit.median_days == 30


def test_words_pick_the_unit() -> None:
    assert refills.every(5, 9) == "5-9 days"
    assert refills.every(1, 1) == "day"
    assert refills.every(14, 14) == "2 weeks"
    assert refills.every(84, 96) == "12-14 weeks"
    assert refills.every(150, 190) == "5-6 months"
