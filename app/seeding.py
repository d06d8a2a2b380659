"""The demo data made whole: the seeder writes rows (models/seed, which may not import
app/), then the clocks that need app/'s arithmetic start here: the SLA clocks of the
open cases, and the sweep that records the warnings and breaches already due; then the
association rules are mined from the seeded order lines, so add-on suggestions show
from the first start; every customer's value segment (RFM) is computed, so the
marketing lists select on segments from the first start; and the duplicate customers
are found and stored, so the review queue has its candidates (models/seed/duplicates.py).

Used by `rapport db seed` and the demo install (app/bootstrap.py), so both hold the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Engine

from app.mining import DEFAULT_MAX_LENGTH, DEFAULT_MIN_CONFIDENCE
from app.services import sla
from app.services.duplicates import DuplicateService
from app.services.rules import RuleService
from app.services.segments import SegmentService
from models.database import Database
from models.enums import DuplicateFoundBy
from models.seed import SeedReport, seed_database


def seed_demo(
    engine: Engine,
    customers: int,
    seed: int = 1,
    *,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Seed an empty, migrated database, start its open cases' SLA clocks at `now` and
    mine its association rules with the default thresholds, and store the likely
    duplicate customers for review."""
    now = now or dt.datetime.now(dt.UTC)
    report = seed_database(engine, customers, seed, now=now, progress=progress)
    clocks = sla.SlaClocks()
    with Database(engine).write() as session:
        sla.backfill_clocks(session, now, clocks)
        sla.sweep(session, now, clocks)
    if progress:
        progress("mining association rules")
    RuleService(Database(engine), clock=lambda: now).mine_and_store(
        None, DEFAULT_MIN_CONFIDENCE, DEFAULT_MAX_LENGTH, mined_by="seeder"
    )
    if progress:
        progress("scoring customers (segments)")
    SegmentService(Database(engine), clock=lambda: now).refresh()
    if progress:
        progress("finding duplicate customers")
    duplicates = DuplicateService(Database(engine), clock=lambda: now)
    duplicates.store(duplicates.find(), DuplicateFoundBy.SCAN)
    return report
