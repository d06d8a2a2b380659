"""The demo data's duplicates (models/seed/duplicates.py): seeding stores exactly the
planted pairs for review, and neither the Whitfield couple nor the namesakes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select
from sqlalchemy.orm import aliased

from app.seeding import seed_demo
from models.data_quality import DuplicateCandidate
from models.database import Database
from models.enums import DuplicateFoundBy, DuplicateStatus
from models.people import Customer

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def test_seeding_stores_the_planted_duplicates_and_nothing_else(sqlite_engine: Engine) -> None:
    seed_demo(sqlite_engine, 300, seed=3, now=NOW)
    a, b = aliased(Customer), aliased(Customer)
    with Database(sqlite_engine).read() as session:
        rows = session.execute(
            select(
                a.first_name,
                a.last_name,
                b.first_name,
                b.last_name,
                b.external_ref,
                DuplicateCandidate.status,
                DuplicateCandidate.found_by,
                DuplicateCandidate.found_at,
            )
            .join(a, a.id == DuplicateCandidate.customer_a_id)
            .join(b, b.id == DuplicateCandidate.customer_b_id)
        ).all()
    pairs = {(f"{r[0]} {r[1]}", f"{r[2]} {r[3]}", r[4]) for r in rows}
    assert pairs == {
        ("Eleanor Whitfield", "Elenor Whitfield", "CRM7-004211"),
        ("Robert Ashdown", "Bob Ashdown", "CRM7-001876"),
        ("Grace Okonkwo", "Okonkwo Grace", "CRM7-002390"),
        ("Margaret Pryce", "Peggy Pryce", "CRM7-000517"),
    }
    assert {(r[5], r[6]) for r in rows} == {(DuplicateStatus.OPEN, DuplicateFoundBy.SCAN)}
    assert all(r[7].replace(tzinfo=dt.UTC) <= NOW for r in rows)
