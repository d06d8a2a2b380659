"""The demo-data seeder on real databases: content, story customers, determinism, refusal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from sqlalchemy import Engine, text

from models.database import make_engine
from models.migrate import upgrade
from models.seed import SeedError, SeedReport, search_name, seed_database
from models.seed.story_customers import (
    S2_AVOID_NOTE,
    S2_BROKEN_COMMITMENTS,
    S2_COVERAGE_CASE_SUBJECT,
    S2_OFFICE_E164,
    STORY_CUSTOMERS,
)

pytestmark = pytest.mark.clock  # seeds relative to now, or shows dates

# Two days before 1 March: Kevin's birthday falls across a month end, and the
# year is not a leap year, which catches naive date arithmetic.
NOW = dt.datetime(2025, 2, 27, 0, 5, tzinfo=dt.UTC)
N = 200


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def customer_id(engine: Engine, key: str) -> int:
    story = STORY_CUSTOMERS[key]
    return int(
        scalar(
            engine,
            "SELECT id FROM customers WHERE first_name = :f AND last_name = :l",
            f=story.first_name,
            l=story.last_name,
        )
    )


def next_occurrence(day: dt.date, today: dt.date) -> dt.date:
    for year in (today.year, today.year + 1):
        try:
            candidate = day.replace(year=year)
        except ValueError:  # 29 February in a common year
            candidate = dt.date(year, 3, 1)
        if candidate >= today:
            return candidate
    raise AssertionError("unreachable")


@pytest.fixture
def seeded(engine: Engine) -> tuple[Engine, SeedReport]:
    report = seed_database(engine, N, seed=7, now=NOW)
    return engine, report


# Columns that say when something happened: none may be after the seed's instant.
# (Due dates, launch dates, SLA deadlines, contract ends and key dates may be later.)
HAPPENED = {
    "audit_log": ("at",),
    "customers": ("customer_since", "created_at", "updated_at"),
    "store_stock": ("updated_at",),
    "users": ("created_at",),
    "customer_notes": ("created_at",),
    "orders": ("placed_at",),
    "contracts": ("start_date",),
    "shipments": ("shipped_at", "delivered_at"),
    "cases": ("opened_at", "updated_at", "first_response_at", "resolved_at", "closed_at"),
    "case_events": ("at",),
    "commitments": ("created_at", "resolved_at"),
    "interactions": ("started_at", "answered_at", "ended_at"),
    "override_requests": ("requested_at",),
    "concessions": ("granted_at",),
    "feedback": ("received_at",),
    "offer_events": ("at",),
    "override_decisions": ("decided_at",),
    "tasks": ("created_at", "completed_at"),
}


def future_rows(engine: Engine, now: dt.datetime) -> list[str]:
    """`table.column = value` for every stored moment after `now`."""
    found = []
    with engine.connect() as conn:
        for table, columns in HAPPENED.items():
            for column in columns:
                values = conn.execute(text(f"SELECT {column} FROM {table}")).scalars()  # noqa: S608 -- names from the constant above
                for value in values:
                    if value is None:
                        continue
                    if isinstance(value, str):  # SQLite returns raw text to text()
                        value = (
                            dt.datetime.fromisoformat(value)
                            if " " in value or "T" in value
                            else dt.date.fromisoformat(value)
                        )
                    if isinstance(value, dt.datetime):
                        late = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)) > now
                    else:
                        late = value > now.date()
                    if late:
                        found.append(f"{table}.{column} = {value}")
    return found


@pytest.mark.parametrize(
    "now",
    [
        dt.datetime(2026, 12, 2, 0, 5, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 2, 11, 59, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 2, 12, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 31, 23, 59, tzinfo=dt.UTC),
        dt.datetime(2028, 2, 29, 8, 0, tzinfo=dt.UTC),
    ],
    ids=lambda now: now.strftime("%Y-%m-%dT%H:%M"),
)
def test_nothing_that_happened_is_in_the_future(engine: Engine, now: dt.datetime) -> None:
    seed_database(engine, 60, seed=11, now=now)
    assert future_rows(engine, now) == []


def test_every_phone_is_valid_and_consistent(seeded: tuple[Engine, SeedReport]) -> None:
    engine, _ = seeded
    for raw, e164, tail in rows(engine, "SELECT raw, e164, digits_tail FROM customer_phones"):
        parsed = phonenumbers.parse(e164)
        assert phonenumbers.is_valid_number(parsed), e164
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == e164
        assert tail == e164[-7:]
        # The raw form, as typed, dials the same number in its own country.
        region = phonenumbers.region_code_for_number(parsed)
        assert phonenumbers.parse(raw, region) == parsed, (raw, e164)


def test_names_and_emails_are_normalized(seeded: tuple[Engine, SeedReport]) -> None:
    engine, _ = seeded
    for first, last, sname in rows(
        engine, "SELECT first_name, last_name, search_name FROM customers"
    ):
        assert sname == search_name(first, last)
        assert sname.isascii() or not sname.isalpha()
    for address, normalized in rows(
        engine, "SELECT address, address_normalized FROM customer_emails"
    ):
        assert normalized == address.lower()
        assert "@" in address
    assert scalar(engine, "SELECT count(DISTINCT address_normalized) FROM customer_emails") == (
        scalar(engine, "SELECT count(*) FROM customer_emails")
    )


def test_seeded_search_name_is_what_search_folds(engine: Engine) -> None:
    """A name the seeder writes is found by search: both fold it the same way."""
    from app.services.search import fold
    from models.seed import people
    from models.seed.context import SeedContext

    # Turkish dotless and dotted i, a cedilla, a diaeresis, a decomposed accent,
    # an apostrophe (ASCII and typographic), hyphens and ß.
    first, last = "Işıl İlkay-Zoë Ame\u0301lie", "O'Connor-Weiß D\u2019Arcy"
    ctx = SeedContext(engine, 7, NOW)
    people.customer(ctx, "DE", first=first, last=last)
    ctx.writer.flush()
    ctx.writer.finish()
    stored = scalar(engine, "SELECT search_name FROM customers WHERE last_name = :l", l=last)
    assert stored == fold(f"{first} {last}") == search_name(first, last)
    assert stored == "isıl ilkay-zoe amelie o'connor-weiß d\u2019arcy"


def test_order_totals_add_up(seeded: tuple[Engine, SeedReport]) -> None:
    engine, _ = seeded
    mismatches = rows(
        engine,
        """
        SELECT o.number FROM orders o
        JOIN (SELECT order_id, sum(quantity * unit_price_cents) AS gross,
                     sum(discount_cents) AS disc
              FROM order_lines GROUP BY order_id) l ON l.order_id = o.id
        WHERE o.subtotal_cents <> l.gross OR o.discount_cents <> l.disc
           OR o.total_cents <> l.gross - l.disc
        """,
    )
    assert mismatches == []
    assert (
        scalar(
            engine, "SELECT count(*) FROM orders WHERE id NOT IN (SELECT order_id FROM order_lines)"
        )
        == 0
    )
    numbers = [n for (n,) in rows(engine, "SELECT number FROM orders")]
    assert all(n.startswith("R") and len(n) == 9 and n[1:].isdigit() for n in numbers)
    refs = [r for (r,) in rows(engine, "SELECT reference FROM cases")]
    assert all(r.startswith("CS-") and len(r.split("-")[2]) == 6 for r in refs)


def test_s2_commitments_preferences_and_case(seeded: tuple[Engine, SeedReport]) -> None:
    engine, _ = seeded
    sandra = customer_id(engine, "S2")
    assert scalar(engine, "SELECT tier FROM customers WHERE id = :c", c=sandra) == "platinum"
    case_id = scalar(
        engine,
        "SELECT id FROM cases WHERE customer_id = :c AND subject = :s",
        c=sandra,
        s=S2_COVERAGE_CASE_SUBJECT,
    )
    calls = scalar(
        engine,
        "SELECT count(*) FROM interactions WHERE case_id = :k AND direction = 'inbound'",
        k=case_id,
    )
    assert calls >= 6
    commitments = dict(
        rows(engine, "SELECT description, status FROM commitments WHERE customer_id = :c", c=sandra)
    )
    for text_ in S2_BROKEN_COMMITMENTS:
        assert commitments[text_] == "broken"
    overdue = rows(
        engine,
        "SELECT due_until FROM commitments WHERE customer_id = :c AND status = 'open'",
        c=sandra,
    )
    assert len(overdue) == 1
    prefs = rows(
        engine,
        "SELECT p.e164, c.avoid, c.note, c.allowed_days, c.allowed_from FROM "
        "contact_preferences c JOIN customer_phones p ON p.id = c.phone_id "
        "WHERE c.customer_id = :c ORDER BY c.rank",
        c=sandra,
    )
    office, mobile = prefs[0], prefs[-1]
    assert office[0] == S2_OFFICE_E164 and office[3] == 0b0011111
    assert str(office[4]).startswith("18:00")
    assert mobile[1] and mobile[2] == S2_AVOID_NOTE
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM cases WHERE customer_id = :c AND category = 'billing'",
            c=sandra,
        )
        == 1
    )
    assert scalar(engine, "SELECT min(rating) FROM feedback WHERE customer_id = :c", c=sandra) <= 2


def test_same_seed_same_data(seeded: tuple[Engine, SeedReport], tmp_path: Path) -> None:
    engine, _ = seeded
    other = make_engine(f"sqlite:///{tmp_path / 'second.db'}")
    try:
        upgrade(other)
        seed_database(other, N, seed=7, now=NOW)
        query = (
            "SELECT c.id, c.first_name, c.last_name, p.raw, p.e164 FROM customers c "
            "JOIN customer_phones p ON p.customer_id = c.id ORDER BY p.id"
        )
        assert rows(engine, query) == rows(other, query)
        orders = "SELECT number, customer_id, total_cents FROM orders ORDER BY id"
        assert rows(engine, orders) == rows(other, orders)
    finally:
        other.dispose()


def test_refuses_a_database_with_customers(seeded: tuple[Engine, SeedReport]) -> None:
    engine, report = seeded
    with pytest.raises(SeedError, match="already holds customers"):
        seed_database(engine, 10, now=NOW)
    assert scalar(engine, "SELECT count(*) FROM customers") == report.customers


def test_sequences_continue_after_seeding(seeded: tuple[Engine, SeedReport]) -> None:
    engine, report = seeded
    with engine.begin() as conn:
        new_id = conn.execute(
            text("INSERT INTO households (name) VALUES ('After seeding') RETURNING id")
        ).scalar_one()
    assert new_id == report.rows["households"] + 1


def test_story_customers_show_nothing_after_now(engine: Engine) -> None:
    """What the agent sees of the story customers (timeline, orders) is all in the past."""
    from app.clock import fixed_clock
    from app.services.customers import CustomerService
    from models.database import Database

    now = dt.datetime.now(dt.UTC)  # the real instant (frozen under --any-hour)
    seed_database(engine, 0)
    customers = CustomerService(Database(engine), "US", fixed_clock(now))
    for key in STORY_CUSTOMERS:
        view = customers.load_customer(customer_id(engine, key))
        assert all(row.started_at <= now for row in view.timeline), key
        assert all(order.placed_at <= now for order in view.orders), key
        assert all(b.last_at <= now for b in view.last_bought), key
