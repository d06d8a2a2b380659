"""SLA clocks of cases over a session: choose the policy, start, pause, resume, sweep.

The case service calls these inside its own unit of work (they take the session and
`now` from its clock; they never read the wall clock nor commit). The arithmetic is
app/sla.py's; this module loads calendars and policies (cached per id in `SlaClocks`)
and records the moments on the case row.

Warnings and breaches are recorded by `sweep`, which a periodic job runs: each once,
through a conditional UPDATE (`... WHERE sla_breached_at IS NULL`), so two sweeps at the
same time (two processes, two threads) record it once. A warning goes out only while
the case's calendar is open; due outside hours it waits for the next opening (Zammad
#4432). A breach is recorded with its own time (the due time), whenever swept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import ColumnElement, Table, bindparam, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.sla import (
    Calendar,
    SlaState,
    add_business_minutes,
    business_minutes_between,
    business_seconds_between,
    is_business_moment,
    state_of,
)
from models.enums import OPEN_CASE_STATUSES, CaseEventKind, CaseStatus
from models.people import Customer
from models.service import Case, CaseEvent
from models.sla import BusinessCalendar, BusinessHours, CalendarClosure, SlaPolicy


@dataclass(frozen=True)
class PolicyTargets:
    """An SLA policy's targets in business minutes, measured on calendar `calendar_id`."""

    id: int
    name: str
    first_response_minutes: int
    resolution_minutes: int
    warn_at_percent: int
    calendar_id: int


@dataclass(frozen=True)
class SlaRecord:
    """One thing a sweep recorded: kind "warning", "breach" or "first_response_breach"."""

    case_id: int
    kind: str
    at: dt.datetime  # the warning's delivery, or the breach's own time (the due time)


@dataclass(frozen=True)
class SweepReport:
    records: tuple[SlaRecord, ...] = ()

    def case_ids(self) -> frozenset[int]:
        return frozenset(r.case_id for r in self.records)


@dataclass
class SlaClocks:
    """Calendars and policies loaded once per id, for read models showing many cases.

    Calendars rarely change; build a new `SlaClocks` (or `clear()`) after editing one.
    Holidays are computed per year on first use and kept with the calendar.
    """

    calendars: dict[int, Calendar] = field(default_factory=dict)
    policies: dict[int, PolicyTargets] = field(default_factory=dict)

    def clear(self) -> None:
        self.calendars.clear()
        self.policies.clear()

    def calendar(self, session: Session, calendar_id: int) -> Calendar:
        found = self.calendars.get(calendar_id)
        if found is None:
            found = self.calendars[calendar_id] = load_calendar(session, calendar_id)
        return found

    def policy(self, session: Session, policy_id: int) -> PolicyTargets:
        found = self.policies.get(policy_id)
        if found is None:
            row = session.get(SlaPolicy, policy_id)
            if row is None:
                raise LookupError(f"SLA policy {policy_id} does not exist")
            found = self.policies[policy_id] = _targets(row)
        return found

    def state(
        self,
        session: Session,
        *,
        policy_id: int | None,
        due_at: dt.datetime | None,
        paused_since: dt.datetime | None,
        breached_at: dt.datetime | None,
        now: dt.datetime,
        agent_zone: dt.tzinfo,
    ) -> SlaState | None:
        """A case's resolution clock from its row's fields (None without a clock)."""
        if policy_id is None or due_at is None:
            return None
        policy = self.policy(session, policy_id)
        return state_of(
            self.calendar(session, policy.calendar_id),
            due_at=due_at,
            target_minutes=policy.resolution_minutes,
            warn_at_percent=policy.warn_at_percent,
            now=now,
            agent_zone=agent_zone,
            paused_since=paused_since,
            breached_at=breached_at,
        )

    def states(
        self, session: Session, case_ids: Iterable[int], now: dt.datetime, agent_zone: dt.tzinfo
    ) -> dict[int, SlaState]:
        """The clocks of many cases in one query (cases without a clock are left out)."""
        ids = list(case_ids)
        if not ids:
            return {}
        rows = session.execute(
            select(
                Case.id,
                Case.sla_policy_id,
                Case.sla_due_at,
                Case.sla_paused_since,
                Case.sla_breached_at,
            ).where(Case.id.in_(ids))
        )
        states = {}
        for case_id, policy_id, due_at, paused_since, breached_at in rows:
            state = self.state(
                session,
                policy_id=policy_id,
                due_at=due_at,
                paused_since=paused_since,
                breached_at=breached_at,
                now=now,
                agent_zone=agent_zone,
            )
            if state is not None:
                states[case_id] = state
        return states


def load_calendar(session: Session, calendar_id: int) -> Calendar:
    row = session.get(BusinessCalendar, calendar_id)
    if row is None:
        raise LookupError(f"business calendar {calendar_id} does not exist")
    weekly: dict[int, list[tuple[dt.time, dt.time | None]]] = {}
    for hours in session.scalars(
        select(BusinessHours).where(BusinessHours.calendar_id == calendar_id)
    ):
        weekly.setdefault(hours.weekday, []).append((hours.opens, hours.closes))
    closed = session.scalars(
        select(CalendarClosure.day).where(CalendarClosure.calendar_id == calendar_id)
    )
    return Calendar(
        row.time_zone,
        weekly,
        closed=list(closed),
        holiday_country=row.holiday_country,
        holiday_subdivision=row.holiday_subdivision,
    )


def _targets(row: SlaPolicy) -> PolicyTargets:
    return PolicyTargets(
        id=row.id,
        name=row.name,
        first_response_minutes=row.first_response_minutes,
        resolution_minutes=row.resolution_minutes,
        warn_at_percent=row.warn_at_percent,
        calendar_id=row.calendar_id,
    )


def choose_policy(
    session: Session, category: str | None, priority: str | None, tier: str | None
) -> PolicyTargets | None:
    """The matching policy that names the most of category / priority / tier, then by rank.

    A policy's None matches anything; one naming a different value does not match.
    """
    return best_policy(session.scalars(select(SlaPolicy)).all(), category, priority, tier)


def best_policy(
    rows: Iterable[SlaPolicy], category: str | None, priority: str | None, tier: str | None
) -> PolicyTargets | None:
    """`choose_policy` over policies already loaded (for many cases at once)."""
    best: tuple[tuple[int, int, int], SlaPolicy] | None = None
    for row in rows:
        fields = ((row.category, category), (row.priority, priority), (row.tier, tier))
        if any(wanted is not None and wanted != given for wanted, given in fields):
            continue
        specificity = sum(wanted is not None for wanted, _ in fields)
        key = (-specificity, row.rank, row.id)
        if best is None or key < best[0]:
            best = (key, row)
    return None if best is None else _targets(best[1])


def backfill_clocks(session: Session, now: dt.datetime, clocks: SlaClocks | None = None) -> int:
    """Start the clocks of open cases that have none, from when they opened; how many.

    For data made without the arithmetic (the demo seed: models may not import app).
    A case waiting on the customer is paused since its first response (or opening);
    a first response after its due time records that breach. Warnings and breaches of
    resolution are left to `sweep`, so they get their timeline events.
    """
    clocks = clocks or SlaClocks()
    policies = session.scalars(select(SlaPolicy)).all()
    rows = session.execute(
        select(
            Case.id,
            Case.category,
            Case.priority,
            Customer.tier,
            Case.status,
            Case.opened_at,
            Case.first_response_at,
        )
        .join(Customer, Customer.id == Case.customer_id)
        .where(Case.status.in_(OPEN_CASE_STATUSES), Case.sla_policy_id.is_(None))
    ).all()
    values = []
    for case_id, category, priority, tier, status, opened, answered in rows:
        policy = best_policy(policies, category, priority, tier)
        if policy is None:
            continue
        calendar = clocks.calendar(session, policy.calendar_id)
        first_due = add_business_minutes(calendar, opened, policy.first_response_minutes)
        answered = answered if answered is not None and answered <= now else None
        paused = (answered or opened) if status == CaseStatus.WAITING_CUSTOMER else None
        values.append(
            {
                "b_id": case_id,
                "sla_policy_id": policy.id,
                "first_response_due_at": first_due,
                "sla_due_at": add_business_minutes(calendar, opened, policy.resolution_minutes),
                "sla_paused_since": paused,
                "first_response_breached_at": first_due
                if answered is not None and answered > first_due
                else None,
            }
        )
    if values:
        table = cast(Table, Case.__table__)
        session.execute(
            update(table).where(table.c.id == bindparam("b_id")),
            values,
        )
    return len(values)


def start_clock(
    session: Session,
    case: Case,
    tier: str | None,
    now: dt.datetime,
    clocks: SlaClocks | None = None,
) -> PolicyTargets | None:
    """Choose the case's policy and set its due times from `now` (None: no policy applies)."""
    clocks = clocks or SlaClocks()
    policy = choose_policy(session, case.category, case.priority, tier)
    case.sla_policy_id = None if policy is None else policy.id
    if policy is None:
        case.first_response_due_at = case.sla_due_at = None
        return None
    calendar = clocks.calendar(session, policy.calendar_id)
    case.first_response_due_at = add_business_minutes(calendar, now, policy.first_response_minutes)
    case.sla_due_at = add_business_minutes(calendar, now, policy.resolution_minutes)
    case.sla_paused_since = None
    case.sla_warned_at = case.sla_breached_at = case.first_response_breached_at = None
    return policy


def on_status(
    session: Session,
    case: Case,
    old_status: CaseStatus,
    new_status: CaseStatus,
    now: dt.datetime,
    clocks: SlaClocks | None = None,
) -> None:
    """Stop the clock when the case starts waiting on the customer; resume it after.

    Resuming pushes the due times by exactly the business time the pause took: what was
    left when the pause began is left from `now`. A due time already passed before the
    pause stays (the breach happened). Resolved or closed: the clock stops for good.
    """
    waiting = CaseStatus.WAITING_CUSTOMER
    if new_status == waiting and old_status != waiting:
        if case.sla_paused_since is None and case.sla_policy_id is not None:
            case.sla_paused_since = now
        return
    paused_since = case.sla_paused_since
    if paused_since is None or new_status == waiting:
        return
    case.sla_paused_since = None
    if new_status in (CaseStatus.RESOLVED, CaseStatus.CLOSED) or case.sla_policy_id is None:
        return
    clocks = clocks or SlaClocks()
    calendar = clocks.calendar(session, clocks.policy(session, case.sla_policy_id).calendar_id)
    case.sla_due_at = _resumed(calendar, case.sla_due_at, paused_since, now)
    if case.first_response_at is None:
        case.first_response_due_at = _resumed(
            calendar, case.first_response_due_at, paused_since, now
        )


def _resumed(
    calendar: Calendar, due: dt.datetime | None, paused_since: dt.datetime, now: dt.datetime
) -> dt.datetime | None:
    if due is None:
        return None
    left = business_seconds_between(calendar, paused_since, due)
    if left <= 0:
        return due
    return add_business_minutes(calendar, now, left / 60.0)


def record_first_response(session: Session, case: Case, now: dt.datetime) -> bool:
    """Record the first answer to the customer (once); True when it came after its due time.

    A late answer records the first-response breach at the due time, if no sweep did.
    """
    if case.first_response_at is not None:
        return False
    case.first_response_at = now
    due = case.first_response_due_at
    late = due is not None and now > due
    if late and case.first_response_breached_at is None:
        case.first_response_breached_at = due
    return late


def sweep(session: Session, now: dt.datetime, clocks: SlaClocks | None = None) -> SweepReport:
    """Record due warnings and breaches of open cases, each once; what was recorded.

    Run it periodically in its own write transaction (see the module's note). Paused
    cases are skipped: their clock is stopped.
    """
    clocks = clocks or SlaClocks()
    running = (
        Case.status.in_(OPEN_CASE_STATUSES),
        Case.sla_policy_id.is_not(None),
        Case.sla_paused_since.is_(None),
    )
    records: list[SlaRecord] = []
    first_due = session.execute(
        select(Case.id, Case.first_response_due_at).where(
            *running,
            Case.first_response_at.is_(None),
            Case.first_response_breached_at.is_(None),
            Case.first_response_due_at <= now,
        )
    ).all()
    for case_id, due in first_due:
        if due is not None and _claim(session, case_id, Case.first_response_breached_at, due):
            records.append(SlaRecord(case_id, "first_response_breach", due))
            _event(session, case_id, CaseEventKind.SLA_BREACH, due, now, "first_response")
    resolution_due = session.execute(
        select(Case.id, Case.sla_due_at).where(
            *running, Case.sla_breached_at.is_(None), Case.sla_due_at <= now
        )
    ).all()
    for case_id, due in resolution_due:
        if due is not None and _claim(session, case_id, Case.sla_breached_at, due):
            records.append(SlaRecord(case_id, "breach", due))
            _event(session, case_id, CaseEventKind.SLA_BREACH, due, now, "resolution")
    records.extend(_warnings(session, now, clocks, running))
    return SweepReport(tuple(records))


def _warnings(
    session: Session, now: dt.datetime, clocks: SlaClocks, running: tuple[ColumnElement[bool], ...]
) -> list[SlaRecord]:
    candidates = session.execute(
        select(Case.id, Case.sla_policy_id, Case.sla_due_at).where(
            *running,
            Case.sla_warned_at.is_(None),
            Case.sla_breached_at.is_(None),
            Case.sla_due_at > now,
        )
    ).all()
    records = []
    for case_id, policy_id, due in candidates:
        if policy_id is None or due is None:
            continue  # excluded by the query; kept for the type checker
        policy = clocks.policy(session, policy_id)
        calendar = clocks.calendar(session, policy.calendar_id)
        if not is_business_moment(calendar, now):
            continue  # outside service hours: the next sweep after opening delivers it
        left = business_minutes_between(calendar, now, due)
        if left > policy.resolution_minutes * (100 - policy.warn_at_percent) / 100.0:
            continue
        if _claim(session, case_id, Case.sla_warned_at, now):
            records.append(SlaRecord(case_id, "warning", now))
            _event(session, case_id, CaseEventKind.SLA_WARNING, now, now, "resolution", due)
    return records


def _claim(
    session: Session,
    case_id: int,
    column: InstrumentedAttribute[dt.datetime | None],
    at: dt.datetime,
) -> bool:
    """Set `column` to `at` unless already set; True when this call set it.

    A conditional UPDATE, not read-then-write: of two concurrent sweeps the second
    waits on the row lock and then matches no row. The version is left alone: the
    agent's own edit of the case does not touch these columns and must not conflict.
    """
    result = session.execute(
        update(Case)
        .where(Case.id == case_id, column.is_(None))
        .values({column: at})
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _event(
    session: Session,
    case_id: int,
    kind: CaseEventKind,
    at: dt.datetime,
    now: dt.datetime,
    target: str,
    due: dt.datetime | None = None,
) -> None:
    what = "First response" if target == "first_response" else "Resolution"
    if kind == CaseEventKind.SLA_BREACH:
        body = f"{what} target breached"
    else:
        body = (
            f"{what} target nearly used up: due {due:%a %d %b %H:%M} UTC"
            if due
            else f"{what} target nearly used up"
        )
    session.add(
        CaseEvent(
            case_id=case_id,
            at=at,
            kind=kind,
            body=body,
            data={"target": target, "recorded_at": now.isoformat()},
        )
    )
