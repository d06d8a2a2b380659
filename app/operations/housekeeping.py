"""Housekeeping every client runs about once a minute: the rules that turn the passing of
time into records (an SLA warning or breach, recorded once; a promise whose window
passed, broken; an override request nobody answered in time, expired; a later order of
a suggested product, tied to its suggestion; the value segments, once they are a day
old). Each is
idempotent and safe when several clients run it at once (the services say how), so no
server-side scheduler is needed; the change bus tells every other client what was
recorded."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.bootstrap import Services
from app.changes import Change, Changes, Entity
from app.operations import Done
from app.services import sla
from app.services.segments import SegmentService
from models.database import DatabaseError
from models.service import Case, Commitment

log = logging.getLogger(__name__)

_clocks = sla.SlaClocks()  # calendars and policies change rarely: cached per process


def sweep(services: Services, now: dt.datetime) -> Done[int]:
    """Record what time has made due; the value is how many records were made."""
    with services.db.write() as session:
        report = sla.sweep(session, now, _clocks)
        case_ids = report.case_ids()
        cases = _owners(session, Case, case_ids)
    broken = services.commitments.break_overdue(now)
    with services.db.read() as session:
        promises = _owners(session, Commitment, broken)
    expired = _expire_overrides(services, now)
    linked = services.suggestions.link_orders(now)
    _refresh_segments(services, now)
    changes = Changes.of(
        *(Change(Entity.CASE, case_id, customer) for case_id, customer in cases),
        *(Change(Entity.COMMITMENT, promise, customer) for promise, customer in promises),
        *(Change(Entity.OVERRIDE, rid, customer) for rid, customer in expired if rid),
    )
    return Done(len(report.records) + len(broken) + len(expired) + linked, changes)


def _refresh_segments(services: Services, now: dt.datetime) -> None:
    """The value segments, recomputed when a day old (one client does it: on PostgreSQL
    an advisory lock makes the others skip). No view is told: a segment is read when a
    list is built or a customer opened. A failure is logged, the rest of the sweep stands."""
    try:
        SegmentService(services.db, clock=lambda: now).refresh(only_if_stale=True)
    except DatabaseError as exc:
        log.warning("housekeeping: value segments not refreshed (%s)", exc)


def _expire_overrides(services: Services, now: dt.datetime) -> list[tuple[int, int]]:
    """Override requests past their time -> expired. On PostgreSQL the server's clock
    decides and the change bus names what expired. Where the login may not run the
    function (a shared database not provisioned yet), this part of the sweep is skipped
    with a warning in the log, not the rest."""
    try:
        return services.authority.expire_due_requests(at=now)
    except DatabaseError as exc:
        log.warning("housekeeping: override requests not expired (%s)", exc)
        return []


def _owners(
    session: Session, model: type[Case] | type[Commitment], ids: Collection[int]
) -> list[tuple[int, int]]:
    """(id, customer id) of the rows `ids`, so the changes reach the customers' views."""
    if not ids:
        return []
    rows = session.execute(select(model.id, model.customer_id).where(model.id.in_(ids)))
    return [(row[0], row[1]) for row in rows]
