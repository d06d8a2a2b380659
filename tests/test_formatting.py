"""How values read on screen: tenure, relative days."""

from __future__ import annotations

import datetime as dt

import pytest

from ui import formatting as fmt


@pytest.mark.parametrize(
    ("since", "today", "expected"),
    [
        (dt.date(2026, 12, 2), dt.date(2026, 12, 2), "new today"),
        (dt.date(2026, 11, 20), dt.date(2026, 12, 2), "12 days"),
        (dt.date(2026, 11, 2), dt.date(2026, 12, 2), "1 month"),
        (dt.date(2026, 1, 31), dt.date(2026, 12, 30), "10 months"),
        (dt.date(2025, 12, 3), dt.date(2026, 12, 2), "11 months"),
        (dt.date(2025, 12, 2), dt.date(2026, 12, 2), "1 year"),
        (dt.date(2024, 2, 29), dt.date(2025, 2, 28), "11 months"),
        (dt.date(1997, 5, 1), dt.date(2026, 12, 2), "29 years"),
    ],
)
def test_tenure_reads_like_a_person_would_say_it(
    since: dt.date, today: dt.date, expected: str
) -> None:
    assert fmt.tenure(since, today) == expected
