"""The demo data made whole: seeded open cases have running SLA clocks, and what was
already due is recorded (a breach once, at its due time)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, func, select

from app.seeding import seed_demo
from models.enums import OPEN_CASE_STATUSES, CaseEventKind
from models.seed.story_customers import S2_COVERAGE_CASE_SUBJECT
from models.service import Case, CaseEvent

NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


def test_seeded_open_cases_have_clocks_and_old_breaches_are_recorded(engine: Engine) -> None:
    seed_demo(engine, 30, now=NOW)
    with engine.connect() as conn:
        without = conn.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.status.in_(OPEN_CASE_STATUSES), Case.sla_due_at.is_(None))
        )
        assert without == 0
        # S2's coverage case opened 150 days ago: long breached, recorded once, at due time.
        due, breached, case_id = conn.execute(
            select(Case.sla_due_at, Case.sla_breached_at, Case.id).where(
                Case.subject == S2_COVERAGE_CASE_SUBJECT
            )
        ).one()
        assert breached is not None and breached == due and breached < NOW
        events = conn.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.kind == CaseEventKind.SLA_BREACH)
        )
        assert events == 1
