"""What the dashboards page says: the periods offered, and figures as people read them
("$1,234.50", "66.7 %", "▲ 12 from 1,222"). Pure functions, tested without a window."""

from __future__ import annotations

import datetime as dt

PERIODS = ("This month", "Last month", "This quarter", "Last quarter", "Custom")
ROLES = ("supervisor", "manager", "admin")  # who sees the dashboards (F7)


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def period(name: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """[first day, day after the last) of a named period around `today`: whole months
    and quarters, so the previous period beside it is the month or quarter before."""
    if name == "This month":
        start = _month_start(today)
        return start, _add_months(start, 1)
    if name == "Last month":
        start = _add_months(_month_start(today), -1)
        return start, _add_months(start, 1)
    if name == "This quarter":
        start = _quarter_start(today)
        return start, _add_months(start, 3)
    if name == "Last quarter":
        start = _add_months(_quarter_start(today), -3)
        return start, _add_months(start, 3)
    raise ValueError(f"no period named {name!r}")


def previous_start(name: str, today: dt.date) -> dt.date | None:
    """Where the period before a named one starts: the month or quarter before."""
    if name == "Custom":
        return None
    start, _end = period(name, today)
    months = 1 if "month" in name else 3
    return _add_months(start, -months)


def at_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def value(unit: str, number: float | None) -> str:
    if number is None:
        return "–"
    if unit == "cents":
        sign = "-" if number < 0 else ""
        return f"{sign}${abs(number) / 100:,.2f}"
    if unit == "percent":
        return f"{number:.1f} %"
    if unit == "rating":
        return f"{number:.2f} / 5"
    return f"{int(number):,}"


def change(
    unit: str, current: float | None, previous: float | None, *, with_previous: bool = True
) -> str:
    """ "▲ 12 from 1,222", "▼ 3.0 points from 70.0 %", "= as before", or why not;
    without `with_previous` only the change ("▲ 12"), for a tile too narrow for both."""
    if previous is None:
        return "nothing to compare with"
    if current is None:
        return f"before: {value(unit, previous)}"
    delta = current - previous
    if abs(delta) < 1e-9:
        return f"= as before ({value(unit, previous)})" if with_previous else "= as before"
    arrow = "▲" if delta > 0 else "▼"
    if unit == "percent":
        amount = f"{abs(delta):.1f} points"
    elif unit == "rating":
        amount = f"{abs(delta):.2f}"
    else:
        amount = value(unit, abs(delta))
    if not with_previous:
        return f"{arrow} {amount}"
    return f"{arrow} {amount} from {value(unit, previous)}"


MONEY_WORDS = ("amount", "revenue", "spend", "value")


def cell(item: object, title: str = "") -> str:
    """A table cell in words: money with its cents where the column says so, vocabulary
    ("goodwill_gift") as words; the export writes the values themselves."""
    if isinstance(item, int | float) and any(w in title.lower() for w in MONEY_WORDS):
        return f"{item:,.2f}"
    if isinstance(item, str) and "_" in item and item.islower() and " " not in item:
        return item.replace("_", " ")
    if isinstance(item, float):
        return f"{item:,.2f}" if item != int(item) else f"{int(item):,}"
    if isinstance(item, int):
        return f"{item:,}"
    return str(item)


def drill_heading(label: str, rows: int, truncated: bool) -> str:
    more = " (the first ones only: narrow the slice to see the rest)" if truncated else ""
    return f"{label}: {rows:,} row{'s' if rows != 1 else ''}{more}"
