"""Housekeeping every client runs about once a minute: the rules that turn the passing of
time into records (an SLA warning or breach, recorded once; a promise whose window
passed, broken). Each is idempotent and safe when several clients run it at once (the
services say how), so no server-side scheduler is needed; the change bus tells every
other client what was recorded."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.bootstrap import Services
from app.changes import Change, Changes, Entity
from app.operations import Done
from app.services import sla
from models.service import Case

SWEEP_EVERY_S = 60

_clocks = sla.SlaClocks()  # calendars and policies change rarely: cached per process


def sweep(services: Services, now: dt.datetime) -> Done[int]:
    """Record what time has made due; the value is how many records were made."""
    with services.db.write() as session:
        report = sla.sweep(session, now, _clocks)
        ids = report.case_ids()
        owners = (
            session.execute(select(Case.id, Case.customer_id).where(Case.id.in_(ids))).all()
            if ids
            else []
        )
    changes = Changes.of(*(Change(Entity.CASE, case_id, customer) for case_id, customer in owners))
    return Done(len(report.records), changes)
