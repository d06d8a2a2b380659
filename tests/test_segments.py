"""RFM scores and segments: the pure rules, and the refresh on both databases with known
orders and a passed clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, select

from app.clock import fixed_clock
from app.segments import NEW, NO_PURCHASE, RULES, SEGMENTS, quintile_scores, segment_for
from app.services.segments import SegmentService
from models.database import Database
from models.enums import CustomerStatus, OrderStatus
from models.marketing import CustomerValue
from tests.marketing_factory import NOW, add_customer, add_order, add_product, days_ago


def test_quintiles_of_ten_distinct_values() -> None:
    assert quintile_scores([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]).tolist() == [
        1, 1, 2, 2, 3, 3, 4, 4, 5, 5,
    ]  # fmt: skip


def test_ties_share_a_score_and_order_does_not_matter() -> None:
    assert quintile_scores([0, 0, 0, 0, 5]).tolist() == [1, 1, 1, 1, 5]
    assert quintile_scores([5, 0, 3, 0]).tolist() == [4, 1, 3, 1]  # n < 5: no 5
    assert quintile_scores([]).tolist() == []


def test_scores_stay_within_one_to_five() -> None:
    scores = quintile_scores(np.random.default_rng(3).integers(0, 50, 1000))
    assert scores.min() == 1 and scores.max() == 5


@pytest.mark.parametrize(
    ("scores", "segment"),
    [
        ((5, 5, 5), "Champions"),
        ((4, 4, 4), "Champions"),
        ((3, 4, 2), "Loyal"),
        ((5, 4, 2), "Loyal"),
        ((5, 1, 1), "Promising"),
        ((4, 2, 5), "Promising"),
        ((2, 3, 1), "At risk"),
        ((1, 5, 5), "At risk"),
        ((1, 1, 5), "Cannot lose"),
        ((2, 2, 3), "Hibernating"),
        ((1, 1, 1), "Hibernating"),
        ((3, 2, 5), "Needs attention"),
        ((3, 1, 1), "Needs attention"),
    ],
)
def test_named_segments(scores: tuple[int, int, int], segment: str) -> None:
    assert segment_for(*scores) == segment


def test_a_first_order_lately_is_new_whatever_the_scores() -> None:
    assert segment_for(5, 1, 1, is_new=True) == NEW


def test_every_score_has_a_segment_and_the_list_names_them_all() -> None:
    named = {segment_for(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)}
    assert named == {rule.name for rule in RULES}
    assert set(SEGMENTS) == named | {NEW, NO_PURCHASE}


def test_refresh_scores_and_names_each_customer(engine: Engine) -> None:
    cream = add_product(engine, "C1", "Day Cream")
    serum = add_product(engine, "S1", "Serum")
    ids = {}
    # Five buyers with known recency, frequency (12 months) and spend (24 months).
    ids["champ"] = add_customer(engine, "Cora Champ")
    for days in (200, 150, 100, 40, 10):
        add_order(engine, ids["champ"], days_ago(days), 20_000, (cream, serum))
    ids["loyal"] = add_customer(engine, "Lou Loyal")
    for days in (300, 200, 120, 60):
        add_order(engine, ids["loyal"], days_ago(days), 3_000, (cream,))
    ids["lapsed"] = add_customer(engine, "Lara Lapsed")
    for days in (700, 650, 600, 500):
        add_order(engine, ids["lapsed"], days_ago(days), 9_000, (serum,))
    # Her last order is cancelled: it counts for nothing.
    add_order(engine, ids["lapsed"], days_ago(5), 50_000, (serum,), status=OrderStatus.CANCELLED)
    ids["once"] = add_customer(engine, "Olga Once")
    add_order(engine, ids["once"], days_ago(30), 2_000, (cream,))
    ids["old"] = add_customer(engine, "Otto Old")
    add_order(engine, ids["old"], days_ago(1000), 1_000)
    add_order(engine, ids["old"], days_ago(400), 1_000)
    ids["none"] = add_customer(engine, "Nina None")
    merged = add_customer(engine, "Max Merged", status=CustomerStatus.MERGED)

    summary = SegmentService(Database(engine), fixed_clock(NOW)).refresh()

    assert (summary.customers, summary.buyers) == (6, 5)
    with Database(engine).read() as session:
        rows = {v.customer_id: v for v in session.scalars(select(CustomerValue))}
    assert merged not in rows
    got = {
        key: (
            rows[cid].recency_score,
            rows[cid].frequency_score,
            rows[cid].monetary_score,
            rows[cid].segment,
        )
        for key, cid in ids.items()
    }
    # Five buyers, so each score is the rank. Last order: lapsed 500 days ago (her
    # cancelled order does not count) < old 400 < loyal 60 < once 30 < champ 10.
    # Orders in 12 months: lapsed 0, old 0, once 1, loyal 4 (300 days ago counts), champ 5.
    # Spend over 24 months: old 1000 (the 1000-day order is out), once 2000, loyal 12000,
    # lapsed 36000, champ 100000.
    assert got == {
        "champ": (5, 5, 5, "Champions"),
        "loyal": (3, 4, 3, "Loyal"),
        "lapsed": (1, 1, 4, "Cannot lose"),
        "once": (4, 3, 2, NEW),  # first order 30 days ago
        "old": (2, 1, 1, "Hibernating"),
        "none": (1, 1, 1, NO_PURCHASE),
    }
    assert rows[ids["champ"]].product_lines == "Day Cream,Serum"
    assert rows[ids["lapsed"]].product_lines == "Serum"
    assert rows[ids["old"]].product_lines is None
    assert rows[ids["champ"]].orders_12m == 5
    assert rows[ids["champ"]].monetary_cents == 100_000
    assert rows[ids["lapsed"]].last_order_at == days_ago(500)
    assert rows[ids["none"]].last_order_at is None


def test_refresh_replaces_and_only_if_stale_waits_a_day(engine: Engine) -> None:
    ada = add_customer(engine, "Ada Byron")
    add_order(engine, ada, days_ago(10), 5_000)
    db = Database(engine)
    SegmentService(db, fixed_clock(NOW)).refresh()
    add_order(engine, ada, days_ago(5), 5_000)
    later = SegmentService(db, fixed_clock(NOW + dt.timedelta(hours=23)))
    assert later.refresh(only_if_stale=True).skipped
    next_day = SegmentService(db, fixed_clock(NOW + dt.timedelta(days=1)))
    summary = next_day.refresh(only_if_stale=True)
    assert not summary.skipped and summary.customers == 1
    with db.read() as session:
        value = session.get(CustomerValue, ada)
        assert value is not None and value.monetary_cents == 10_000
    assert next_day.counts()[0].customers == 1
    assert next_day.segment_of(ada) == NEW


def test_seeding_scores_and_the_sweep_refreshes_once_a_day(sqlite_engine: Engine) -> None:
    from app.bootstrap import build_services
    from app.config import load_settings
    from app.operations import housekeeping
    from app.seeding import seed_demo

    seeded = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)
    seed_demo(sqlite_engine, 20, now=seeded)
    services = build_services(load_settings(), sqlite_engine)
    segments = SegmentService(services.db)
    assert segments.last_computed() == seeded
    assert sum(c.customers for c in segments.counts()) >= 20
    housekeeping.sweep(services, seeded + dt.timedelta(hours=2))
    assert segments.last_computed() == seeded
    housekeeping.sweep(services, seeded + dt.timedelta(hours=25))
    assert segments.last_computed() == seeded + dt.timedelta(hours=25)
    services.close()


def test_rapportctl_segments_refresh_and_show(
    sqlite_engine: Engine, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from app.cli import main

    ada = add_customer(sqlite_engine, "Ada Byron")
    add_order(sqlite_engine, ada, days_ago(3), 5_000)
    add_customer(sqlite_engine, "Bo None")
    url = sqlite_engine.url.render_as_string(hide_password=False)
    assert main(["segments", "refresh", "--db", url]) == 0
    assert "2 customers scored (1 with orders)" in capsys.readouterr().out
    assert main(["segments", "show", "--db", url]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in shown] == ["New", "No"]
    empty = tmp_path / "empty.db"
    assert main(["segments", "refresh", "--db", f"sqlite:///{empty}"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("rapportctl:") and "rapportctl db upgrade" in error
    assert len(error.splitlines()) == 1
