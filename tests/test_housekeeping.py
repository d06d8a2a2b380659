"""Housekeeping: time's rules run by every client, recording what came due once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from app.bootstrap import build_services
from app.changes import Entity
from app.config import load_settings
from app.operations import housekeeping
from app.seeding import seed_demo
from models.enums import OPEN_CASE_STATUSES, CommitmentStatus
from models.service import Case, Commitment

SEEDED = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


def test_a_sweep_records_what_came_due_once_and_names_the_cases(engine: Engine) -> None:
    seed_demo(engine, 20, now=SEEDED)
    services = build_services(load_settings(), engine)
    with services.db.read() as session:
        running = session.scalars(
            select(Case.id).where(
                Case.status.in_(OPEN_CASE_STATUSES),
                Case.sla_breached_at.is_(None),
                Case.sla_paused_since.is_(None),
                Case.sla_due_at.is_not(None),
            )
        ).all()
    assert running, "the seed leaves some clocks running"
    later = SEEDED + dt.timedelta(days=60)  # every running clock has run out by then
    done = housekeeping.sweep(services, later)
    assert done.value >= len(running)
    assert set(running) <= done.changes.ids(Entity.CASE)
    assert all(c.customer_id is not None for c in done.changes.items)
    broken = done.changes.ids(Entity.COMMITMENT)
    assert broken, "the seeded open promises are all due within 60 days"
    with services.db.read() as session:
        statuses = set(session.scalars(select(Commitment.status).where(Commitment.id.in_(broken))))
    assert statuses == {CommitmentStatus.BROKEN}
    again = housekeeping.sweep(services, later)
    assert again.value == 0 and not again.changes
