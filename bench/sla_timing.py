"""SLA due-time computation per case, in microseconds (target: p95 <= 50 µs).

Random cases over two years on the demo's calendar (New York, US holidays, lunch
break, Saturday mornings): a start moment, a resolution target from the demo policies
and, for one case in five, a pause of up to two days. Each case is timed alone.

Baselines in the same run: "raw" is wall-time arithmetic (`start + timedelta`), the
cheap and wrong way (Chatwoot's deadlines on wall time); "minute_walk" is the obvious
correct way, counting business minutes one by one, on a subset of the cases.
Median of 3 runs (a fresh calendar each run, so building its day cache counts), with
the spread [min, max] of the runs.

    python -m bench.sla_timing [--cases 100000] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from typing import Any

from app.sla import Calendar, add_business_minutes
from bench.common import emit, percentile
from models.seed.sla import (
    CALENDAR_ZONE,
    HOLIDAY_COUNTRY,
    POLICIES,
    SATURDAY_HOURS,
    WEEKDAY_HOURS,
)

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
Case = tuple[dt.datetime, int, tuple[tuple[dt.datetime, dt.datetime], ...]]


def demo_calendar() -> Calendar:
    weekly = {d: list(WEEKDAY_HOURS) for d in range(5)} | {5: list(SATURDAY_HOURS)}
    return Calendar(CALENDAR_ZONE, weekly, holiday_country=HOLIDAY_COUNTRY)


def random_cases(count: int, seed: int = 7) -> list[Case]:
    rng = random.Random(seed)
    origin = dt.datetime(2026, 1, 1, tzinfo=UTC)
    targets = [resolution for *_rest, resolution, _rank in POLICIES]
    cases = []
    for _ in range(count):
        start = origin + dt.timedelta(seconds=rng.randrange(2 * 365 * 86400))
        pauses: tuple[tuple[dt.datetime, dt.datetime], ...] = ()
        if rng.random() < 0.2:
            begin = start + dt.timedelta(minutes=rng.randrange(0, 3000))
            pauses = ((begin, begin + dt.timedelta(minutes=rng.randrange(1, 2880))),)
        cases.append((start, rng.choice(targets), pauses))
    return cases


def minute_walk(calendar: Calendar, start: dt.datetime, minutes: int, pauses: Any) -> dt.datetime:
    """The naive correct baseline: count business minutes one by one."""
    moment, counted = start, 0
    while counted < minutes:
        local = moment.astimezone(calendar.zone)
        wall = local.hour * 3600 + local.minute * 60 + local.second
        runs = not calendar.is_closed(local.date()) and any(
            o <= wall < c for o, c in calendar.spans[local.weekday()]
        )
        if runs and not any(a <= moment < b for a, b in pauses):
            counted += 1
        moment += MINUTE
    return moment


def _time_each(fn: Any, cases: list[Case]) -> list[float]:
    samples = []
    clock = time.perf_counter_ns
    for start, minutes, pauses in cases:
        began = clock()
        fn(start, minutes, pauses)
        samples.append((clock() - began) / 1000.0)
    return samples


def one_run(cases: list[Case], walk_cases: int) -> dict[str, float]:
    calendar = demo_calendar()
    ours = _time_each(lambda s, m, p: add_business_minutes(calendar, s, m, p), cases)
    raw = _time_each(lambda s, m, p: s + dt.timedelta(minutes=m), cases)
    walk = _time_each(lambda s, m, p: minute_walk(calendar, s, m, p), cases[:walk_cases])
    return {
        "p50_us": percentile(ours, 50),
        "p95_us": percentile(ours, 95),
        "raw_p50_us": percentile(raw, 50),
        "raw_p95_us": percentile(raw, 95),
        "minute_walk_p50_us": percentile(walk, 50),
        "minute_walk_p95_us": percentile(walk, 95),
    }


def run(cases: int = 100_000, runs: int = 3, walk_cases: int = 300) -> dict[str, Any]:
    """Median and [min, max] of each figure over `runs` runs of `cases` cases."""
    sample = random_cases(cases)
    results = [one_run(sample, walk_cases) for _ in range(runs)]
    record: dict[str, Any] = {
        "bench": "sla_timing",
        "op": "due_time",
        "backend": "none",
        "size": cases,
        "n": cases,
        "runs": runs,
        "minute_walk_n": min(walk_cases, cases),
    }
    for key in results[0]:
        values = [r[key] for r in results]
        record[key] = round(statistics.median(values), 2)
        record[f"{key}_spread"] = [round(min(values), 2), round(max(values), 2)]
    record["p50_ms"] = round(record["p50_us"] / 1000, 4)
    record["p95_ms"] = round(record["p95_us"] / 1000, 4)
    record["ratio_p95_vs_raw"] = round(record["p95_us"] / record["raw_p95_us"], 1)
    record["speedup_p95_vs_minute_walk"] = round(record["minute_walk_p95_us"] / record["p95_us"])
    record["target_p95_us"] = 50
    return record


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--cases", type=int, default=100_000)
    args.add_argument("--runs", type=int, default=3)
    args.add_argument("--walk-cases", type=int, default=300)
    args.add_argument("--json", action="store_true")
    parsed = args.parse_args()
    emit(run(parsed.cases, parsed.runs, parsed.walk_cases), parsed.json)


if __name__ == "__main__":
    main()
