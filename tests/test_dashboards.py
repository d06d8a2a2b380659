"""The dashboards on both databases over a world small enough to count by hand
(tests/factories.py `dashboard_dataset`): Q4 2026 against Q3, every figure exact,
the slices, and the drill-down's rows matching the figure they explain."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from app.services.dashboard_sql import Slice
from app.services.dashboards import Dashboard, DashboardService
from models.database import Database
from tests.factories import dashboard_dataset

Q4 = Slice(dt.datetime(2026, 10, 1, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=dt.UTC))


@pytest.fixture
def world(engine: Engine) -> tuple[DashboardService, dict[str, int]]:
    ids = dashboard_dataset(engine)
    return DashboardService(Database(engine)), ids


def figures(board: Dashboard) -> dict[str, tuple[float | None, float | None]]:
    return {f.key: (f.current, f.previous) for f in board.figures}


def test_the_previous_period_is_as_long_and_just_before() -> None:
    assert Q4.previous.start == dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    assert Q4.previous.end == Q4.start
    with pytest.raises(ValueError, match="end after"):
        Slice(Q4.end, Q4.start)


def test_cases_and_sla(world: tuple[DashboardService, dict[str, int]]) -> None:
    service, ids = world
    board = service.cases(Q4)
    assert figures(board) == {
        "cases.opened": (3, 2),
        "cases.resolved": (3, 1),
        "cases.backlog": (1, 1),
        "cases.attained": (33.3, 100.0),
        "cases.breached": (1, 1),
        "cases.first_response": (1, 0),
    }
    assert sum(b.current for b in board.bars) == 3
    assert len(board.bars) == 14  # 92 days: 13 weeks and a day
    first_week = board.bars[0]
    assert (first_week.current, first_week.previous) == (1, 0)  # k1 on 5 Oct; k2 a week on
    by_department = {r[0]: r[1:4] for r in board.table.rows}
    assert by_department == {"Billing": (2, 2, 0), "Delivery": (1, 1, 1)}


def test_contact_quality(world: tuple[DashboardService, dict[str, int]]) -> None:
    service, _ = world
    assert figures(service.contact_quality(Q4)) == {
        "contact.contacts": (6, 2),
        "contact.fcr": (66.7, 100.0),
        "contact.repeat": (66.7, 0.0),
        "contact.csat": (66.7, 0.0),
        "contact.rating": (3.67, 3.0),
        "contact.negative": (50.0, 0.0),
    }


def test_concessions_against_revenue_kept(world: tuple[DashboardService, dict[str, int]]) -> None:
    service, _ = world
    board = service.concessions(Q4)
    assert figures(board) == {
        "concessions.granted": (2, 1),
        "concessions.amount": (3500, 1000),
        "concessions.customers": (2, 1),
        # c1 spent 6000 after her credit (the cancelled order does not count), c3 3000.
        "concessions.spend": (4500, 0),
        # c2 (gold, a case, no concession) spent 8000; no standard customer had a case
        # without a concession, so c3 is compared with everyone similar: 8000 too.
        "concessions.similar": (8000, 3000),
        "concessions.kept": (-3500, -3000),
    }
    assert {b.label: (b.current, b.previous) for b in board.bars} == {
        "credit": (2000, 0),
        "discount": (1500, 0),
        "sample": (0, 1000),
    }


def test_suggestion_conversion(world: tuple[DashboardService, dict[str, int]]) -> None:
    service, _ = world
    board = service.suggestions(Q4)
    assert figures(board) == {
        "suggestions.shown": (4, 1),
        "suggestions.accepted": (1, 1),
        "suggestions.declined": (1, 0),
        "suggestions.converted": (2, 1),
        "suggestions.rate": (50.0, 100.0),
    }
    assert {r[0]: (r[1], r[4], r[5]) for r in board.table.rows} == {
        "refill": (3, 1, 33.3),
        "add_on": (1, 1, 100.0),
    }
    by_agent = service.suggestions(Q4, by="agent")
    assert {r[0]: r[1] for r in by_agent.table.rows} == {"Alice": 3, "Bob": 1}


@pytest.mark.parametrize(
    ("kwargs", "opened", "contacts", "granted", "shown"),
    [
        ({"team": "North"}, 2, 3, 1, 3),
        ({"team": "South"}, 1, 3, 1, 1),
        ({"department_id": "d2"}, 1, 3, 1, 1),
        ({"store_id": "S1"}, 1, 1, 1, 2),
        ({"tier": "gold"}, 2, 3, 1, 3),
        ({"segment": "mass"}, 1, 3, 1, 1),
    ],
)
def test_slices(
    world: tuple[DashboardService, dict[str, int]],
    kwargs: dict[str, str],
    opened: int,
    contacts: int,
    granted: int,
    shown: int,
) -> None:
    service, ids = world
    values = {k: (ids[v] if k in ("department_id", "store_id") else v) for k, v in kwargs.items()}
    s = Slice(Q4.start, Q4.end, **values)  # type: ignore[arg-type]
    assert figures(service.cases(s))["cases.opened"][0] == opened
    assert figures(service.contact_quality(s))["contact.contacts"][0] == contacts
    assert figures(service.concessions(s))["concessions.granted"][0] == granted
    assert figures(service.suggestions(s))["suggestions.shown"][0] == shown


COUNTED = (
    "cases.opened", "cases.resolved", "cases.backlog", "cases.breached", "cases.first_response",
    "contact.contacts", "concessions.granted", "concessions.customers",
    "suggestions.shown", "suggestions.accepted", "suggestions.declined", "suggestions.converted",
)  # fmt: skip


@pytest.mark.parametrize("previous", [False, True])
def test_every_count_drills_down_to_as_many_rows(
    world: tuple[DashboardService, dict[str, int]], previous: bool
) -> None:
    service, _ = world
    s = Q4.previous if previous else Q4
    values: dict[str, float | None] = {}
    for key in ("cases", "contact", "concessions", "suggestions"):
        board = service.open(key, Q4)
        values.update({f.key: (f.previous if previous else f.current) for f in board.figures})
    for key in COUNTED:
        table = service.drill(key, s)
        assert len(table.rows) == values[key], key
        assert all(len(row) == len(table.headers) for row in table.rows)


def test_drilling_into_rates_bars_and_rows(world: tuple[DashboardService, dict[str, int]]) -> None:
    service, _ = world
    assert [r[0] for r in service.drill("contact.fcr", Q4).rows] == ["K5", "K1"]  # by opening
    assert [r[0] for r in service.drill("contact.repeat", Q4).rows] == ["K2", "K3"]
    assert [r[0] for r in service.drill("cases.attained", Q4).rows] == ["K1"]
    assert len(service.drill("contact.csat", Q4).rows) == 3
    assert len(service.drill("contact.negative", Q4).rows) == 2
    spend = {r[1]: r[5] for r in service.drill("concessions.spend", Q4).rows}
    assert spend == {"C1 Test": 60.0, "C3 Test": 30.0}
    assert {r[1]: r[5] for r in service.drill("concessions.similar", Q4).rows} == {"C2 Test": 80.0}
    kinds = service.suggestions(Q4)
    refill = kinds.table.parts[[r[0] for r in kinds.table.rows].index("refill")]
    assert len(service.drill("suggestions.shown", Q4, refill).rows) == 3
    cases = service.cases(Q4)
    week = next(b for b in cases.bars if b.current)
    assert len(service.drill("cases.opened", Q4, week.part).rows) == week.current
    credit = service.drill("concessions.granted", Q4, "type=credit")
    assert [(r[2], r[3]) for r in credit.rows] == [("credit", 20.0)]
    delivery = cases.table.parts[[r[0] for r in cases.table.rows].index("Delivery")]
    assert [r[0] for r in service.drill("cases.backlog", Q4, delivery).rows] == ["K3"]
    with pytest.raises(ValueError, match="no drill-down"):
        service.drill("cases.nonsense", Q4)


def test_a_previous_period_may_be_shorter() -> None:
    """Q3 beside Q2: 92 days beside 91, as the page's "Last quarter" asks."""
    q3 = Slice(
        dt.datetime(2026, 7, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
        tier="gold",
        previous_start=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
    )
    assert (q3.previous.start, q3.previous.end) == (
        dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
        q3.start,
    )
    assert q3.previous.tier == "gold"
