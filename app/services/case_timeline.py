"""The case timeline and the time per department, built from rows already read.

Split from case_view.py (which reads the rows); the rules are in its docstring.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from models.enums import CaseEventKind, TaskStatus
from models.service import Case, CaseEvent, Commitment, Feedback, Interaction, Task

EVENT_WORDS = {
    CaseEventKind.OPENED: "Opened",
    CaseEventKind.NOTE: "Told the customer",
    CaseEventKind.INTERNAL_NOTE: "Internal note",
    CaseEventKind.STATUS_CHANGED: "Status",
    CaseEventKind.HANDOFF: "Hand-off",
    CaseEventKind.ASSIGNED: "Assigned",
    CaseEventKind.CONTACT: "Contact",
    CaseEventKind.COMMITMENT: "Promise",
    CaseEventKind.TASK: "Task",
    CaseEventKind.CONCESSION: "Concession",
    CaseEventKind.RESOLVED: "Resolved",
    CaseEventKind.REOPENED: "Reopened",
    CaseEventKind.CLOSED: "Closed",
    CaseEventKind.CLAIMED: "Claimed",
    CaseEventKind.PRIORITY: "Priority",
    CaseEventKind.FEEDBACK: "Feedback",
    CaseEventKind.SLA_WARNING: "SLA warning",
    CaseEventKind.SLA_BREACH: "SLA breached",
    CaseEventKind.EDITED: "Edited",
}


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    who: str  # "" when nobody is recorded (a system step)
    department: str
    kind: str  # "Internal note", "Contact", "Task", ...
    text: str
    internal: bool  # for colleagues only (never told to the customer)
    source: str  # event, contact, task, promise, feedback


@dataclass(frozen=True)
class DepartmentTime:
    department: str
    waited: dt.timedelta
    intervals: int


def timeline_entries(
    events: list[CaseEvent],
    contacts: list[Interaction],
    tasks: list[Task],
    promises: list[Commitment],
    feedback: list[Feedback],
    people: dict[int, str],
    departments: dict[int, str],
    agent_departments: dict[int, int | None],
) -> list[TimelineEntry]:
    def who(user_id: int | None) -> str:
        return people.get(user_id, "") if user_id else ""

    def dept(department_id: int | None) -> str:
        return departments.get(department_id, "") if department_id else ""

    def dept_of(user_id: int | None) -> str:
        return dept(agent_departments.get(user_id)) if user_id else ""

    entries: list[TimelineEntry] = []
    shown_contacts = {c.id for c in contacts}
    named_tasks = {(e.data or {}).get("task_id") for e in events}
    named_promises = {(e.data or {}).get("commitment_id") for e in events}
    for e in events:
        if (
            e.kind is CaseEventKind.CONTACT
            and (e.data or {}).get("interaction_id") in shown_contacts
        ):
            continue  # the contact itself is on the timeline, at the time it happened
        entries.append(
            TimelineEntry(
                at=e.at,
                who=who(e.author_id),
                department=dept(e.department_id),
                kind=EVENT_WORDS.get(e.kind, e.kind.value),
                text=e.body or "",
                internal=e.kind is CaseEventKind.INTERNAL_NOTE,
                source="event",
            )
        )
    for c in contacts:
        summary = c.summary or c.wrap_up_code or ""
        entries.append(
            TimelineEntry(
                at=c.started_at,
                who=who(c.agent_id),
                department=dept_of(c.agent_id),
                kind="Contact",
                text=f"{c.direction.value.title()} {c.channel.value} ({c.outcome.value})"
                + (f": {summary}" if summary else ""),
                internal=False,
                source="contact",
            )
        )
    for t in tasks:
        if t.id not in named_tasks:
            entries.append(
                TimelineEntry(
                    t.created_at,
                    who(t.created_by_id),
                    dept(t.department_id),
                    "Task",
                    f"Handed to {dept(t.department_id) or 'a department'}: {t.title}",
                    True,
                    "task",
                )
            )
        if t.completed_at is not None:
            outcome = f": {t.outcome}" if t.outcome else ""
            entries.append(
                TimelineEntry(
                    t.completed_at,
                    who(t.completed_by_id),
                    dept(t.department_id),
                    "Task",
                    f"{t.status.value.replace('_', ' ').capitalize()}: {t.title}{outcome}",
                    True,
                    "task",
                )
            )
    for p in promises:
        if p.id not in named_promises:
            entries.append(
                TimelineEntry(
                    p.created_at,
                    who(p.created_by_id or p.owner_id),
                    dept(p.department_id),
                    "Promise",
                    f"Promised: {p.description} (by {p.due_until:%a %d %b %H:%M} UTC)",
                    False,
                    "promise",
                )
            )
        ended = p.broken_at or p.resolved_at
        if ended is not None:
            entries.append(
                TimelineEntry(
                    ended,
                    who(p.resolved_by_id),
                    dept(p.department_id),
                    "Promise",
                    f"Promise {p.status.value}: {p.description}",
                    False,
                    "promise",
                )
            )
    for f in feedback:
        rating = f"{f.rating}/5, " if f.rating else ""
        entries.append(
            TimelineEntry(
                f.received_at,
                who(f.recorded_by_id),
                dept_of(f.recorded_by_id),
                "Feedback",
                f"{rating}{f.sentiment.value}" + (f": {f.text}" if f.text else ""),
                False,
                "feedback",
            )
        )
    entries.sort(key=lambda entry: entry.at)  # stable: same instant keeps source order
    return entries


def department_times(
    case: Case,
    events: list[CaseEvent],
    tasks: list[Task],
    departments: dict[int, str],
    now: dt.datetime,
) -> list[DepartmentTime]:
    """How long the case waited on each department (the rule: the module docstring)."""
    spans: dict[int | None, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for t in tasks:
        if t.completed_at is not None:
            end = t.completed_at
        elif t.status in (TaskStatus.OPEN, TaskStatus.IN_PROGRESS):
            end = now
        else:
            continue
        spans[t.department_id].append((t.created_at, max(end, t.created_at)))
    waiting_since: tuple[dt.datetime, int | None] | None = None
    for e in events:
        data = e.data or {}
        if "to" not in data or e.kind not in _STATUS_KINDS:
            continue
        if waiting_since is not None:
            spans[waiting_since[1]].append((waiting_since[0], e.at))
            waiting_since = None
        if data["to"] == "waiting_internal":
            waiting_since = (e.at, data.get("department_id") or case.department_id)
    if waiting_since is not None:
        spans[waiting_since[1]].append((waiting_since[0], now))
    result = []
    for department_id, intervals in spans.items():
        merged = _merged(intervals)
        waited = sum((end - start for start, end in merged), dt.timedelta())
        name = departments.get(department_id, "") if department_id else ""
        result.append(DepartmentTime(name or "No department", waited, len(intervals)))
    result.sort(key=lambda d: d.waited, reverse=True)
    return result


_STATUS_KINDS = (
    CaseEventKind.STATUS_CHANGED,
    CaseEventKind.RESOLVED,
    CaseEventKind.CLOSED,
    CaseEventKind.REOPENED,
)


def _merged(
    intervals: list[tuple[dt.datetime, dt.datetime]],
) -> list[tuple[dt.datetime, dt.datetime]]:
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
