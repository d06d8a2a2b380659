"""The case as the agent reads it: header, timeline, time per department.

Frozen dataclasses only (no ORM objects leave here). One case is read in a handful of
queries whatever the length of its timeline: the case row with its names, then each
source of entries (events, contacts, tasks, promises, feedback), then the names of
everyone those mention in one query.

Time per department (a manager's "where did it go wrong"): a department is charged for
the time a task (a hand-off) of the case was with it, from the task's creation to its
completion (or to now while it is open; a cancelled task without a completion time
charges nothing), and for the time the case stood "waiting on department", charged to
the department named on the status change (else the case's department). Overlapping
intervals of one department count once, so a task open while the case waits on that
same department is not charged twice.

Repeat contact: the opening and every contact joined to the case (interactions with
its id) count; "3rd contact about this in 9 days" counts them all, from the first to
now, and the case is flagged when 2 or more of them fall within the last 7 days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import UserError
from app.services.case_timeline import (
    DepartmentTime,
    TimelineEntry,
    department_times,
    timeline_entries,
)
from app.services.sla import SlaClocks
from app.workflows.case_flow import allowed_steps, status_label
from models.catalog import Product
from models.commerce import Contract, Order, OrderLine
from models.enums import OPEN_CASE_STATUSES, TaskStatus
from models.people import Customer, Department, User
from models.service import Case, CaseEvent, Commitment, Feedback, Interaction, Task

# Categories offered for a new case: stored code -> the words shown. The codes are the
# ones the seeded cases use ("billing", "product", "delivery"), so old and new agree.
CATEGORIES: dict[str, str] = {
    "complaint": "Complaint",
    "billing": "Billing dispute",
    "technical": "Technical",
    "delivery": "Delivery",
    "product": "Product question",
    "return": "Return",
    "other": "Other",
}
# Codes older (seeded) cases carry that are not offered any more: shown, not chosen.
OLDER_CATEGORIES = {"account": "Account", "service": "Service", "network": "Network"}


def category_label(code: str) -> str:
    return CATEGORIES.get(code) or OLDER_CATEGORIES.get(code) or code.replace("_", " ").title()


REPEAT_WINDOW = dt.timedelta(days=7)
REPEAT_FLAG_AT = 2  # contacts within the window that raise attention


@dataclass(frozen=True)
class CaseDetail:
    id: int
    reference: str
    customer_id: int
    customer_name: str
    status: str  # models.enums.CaseStatus value
    status_label: str  # "Waiting on department", "Reopened", ...
    allowed_steps: tuple[tuple[str, str], ...]  # (status, words) the agent may choose
    priority: str
    priority_reason: str | None
    category: str
    subject: str
    description: str | None
    order_text: str | None  # "Order R1000042, line 2: Watch (engraving: "For K.")"
    order_id: int | None
    order_line_id: int | None
    contract_text: str | None
    assignee: str | None
    department: str | None
    version: int
    contacts: int
    repeat_text: str | None  # "3rd contact about this in 9 days"
    repeat_flag: bool
    open_tasks: int
    close_reason: str | None
    opened_at: dt.datetime
    updated_at: dt.datetime
    is_open: bool
    # What `edit` compares against: the editable fields as loaded (field, value).
    editable: tuple[tuple[str, Any], ...]
    timeline: tuple[TimelineEntry, ...]
    department_times: tuple[DepartmentTime, ...]
    # The resolution clock in words ("2 h 10 min of business time left, due Mon 10:40")
    # and its state: "running", "warning", "breached", "paused"; None: no SLA applies.
    sla_text: str | None = None
    sla_state: str | None = None

    def base(self) -> dict[str, Any]:
        return dict(self.editable)


@dataclass(frozen=True)
class OpenCaseRow:
    id: int
    reference: str
    subject: str
    status_label: str
    opened_at: dt.datetime
    contacts: int


@dataclass(frozen=True)
class OrderLineChoice:
    """A line of a recent order, offered when opening a case about it."""

    line_id: int
    order_id: int
    line_no: int
    text: str  # "R1000042 (3 Nov): Classic watch, "For K.""


def order_line_choices(
    session: Session, customer_id: int, limit: int = 60
) -> list[OrderLineChoice]:
    rows = session.execute(
        select(
            OrderLine.id,
            Order.id,
            OrderLine.line_no,
            Order.number,
            Order.placed_at,
            Product.name,
            OrderLine.personalisation,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(Order.customer_id == customer_id)
        .order_by(Order.placed_at.desc(), OrderLine.line_no)
        .limit(limit)
    ).all()
    return [
        OrderLineChoice(
            line_id,
            order_id,
            line_no,
            f"{number} ({placed:%d %b %Y}): {name}" + (f', "{extra}"' if extra else ""),
        )
        for line_id, order_id, line_no, number, placed, name, extra in rows
    ]


def editable_values(case: Case) -> dict[str, Any]:
    """The fields `CaseService.edit` may change, as stored (plain values)."""
    return {
        "category": case.category,
        "subject": case.subject,
        "description": case.description,
        "priority": case.priority.value,
        "order_id": case.order_id,
        "order_line_id": case.order_line_id,
        "contract_id": case.contract_id,
        "assignee_id": case.assignee_id,
        "department_id": case.department_id,
    }


def order_of_line(session: Session, line_id: int) -> int | None:
    return session.scalar(select(OrderLine.order_id).where(OrderLine.id == line_id))


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def repeat_contact(contacts: list[dt.datetime], now: dt.datetime) -> tuple[str | None, bool]:
    """("3rd contact about this in 9 days", flagged) for the contact times of one case."""
    if len(contacts) < 2:
        return None, False
    first = min(contacts)
    days = max((now.date() - first.date()).days, 0)
    span = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
    recent = sum(1 for at in contacts if now - at <= REPEAT_WINDOW)
    return f"{ordinal(len(contacts))} contact about this {span}", recent >= REPEAT_FLAG_AT


def contact_times(session: Session, case_id: int, opened_at: dt.datetime) -> list[dt.datetime]:
    joined = session.scalars(select(Interaction.started_at).where(Interaction.case_id == case_id))
    return [opened_at, *joined]


def open_cases_for(session: Session, customer_id: int, now: dt.datetime) -> list[OpenCaseRow]:
    contacts = (
        select(func.count(Interaction.id))
        .where(Interaction.case_id == Case.id)
        .correlate(Case)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Case, contacts)
        .where(Case.customer_id == customer_id, Case.status.in_(OPEN_CASE_STATUSES))
        .order_by(Case.opened_at.desc())
    ).all()
    return [
        OpenCaseRow(
            id=case.id,
            reference=case.reference,
            subject=case.subject,
            status_label=status_label(case.status, case.reopened_at is not None),
            opened_at=case.opened_at,
            contacts=1 + int(count or 0),
        )
        for case, count in rows
    ]


def load_case_detail(session: Session, case_id: int, now: dt.datetime) -> CaseDetail:
    case = session.get(Case, case_id)
    if case is None:
        raise UserError(f"case {case_id} does not exist")
    customer = session.get(Customer, case.customer_id)
    events = list(
        session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case_id)
            .order_by(CaseEvent.at, CaseEvent.id)
        )
    )
    contacts = list(
        session.scalars(
            select(Interaction)
            .where(Interaction.case_id == case_id)
            .order_by(Interaction.started_at)
        )
    )
    tasks = list(
        session.scalars(select(Task).where(Task.case_id == case_id).order_by(Task.created_at))
    )
    promises = list(session.scalars(select(Commitment).where(Commitment.case_id == case_id)))
    feedback = list(session.scalars(select(Feedback).where(Feedback.case_id == case_id)))

    people = _names(
        session,
        User,
        {e.author_id for e in events}
        | {c.agent_id for c in contacts}
        | {t.created_by_id for t in tasks}
        | {t.completed_by_id for t in tasks}
        | {p.owner_id for p in promises}
        | {p.resolved_by_id for p in promises}
        | {f.recorded_by_id for f in feedback}
        | {case.assignee_id},
    )
    agent_departments: dict[int, int | None] = {
        row[0]: row[1]
        for row in session.execute(
            select(User.id, User.department_id).where(User.id.in_([k for k in people if k]))
        )
    }
    departments = _names(
        session,
        Department,
        {e.department_id for e in events}
        | {t.department_id for t in tasks}
        | {p.department_id for p in promises}
        | set(agent_departments.values())
        | {case.department_id},
    )
    timeline = timeline_entries(
        events, contacts, tasks, promises, feedback, people, departments, agent_departments
    )
    times = [c.started_at for c in contacts] + [case.opened_at]
    repeat_text, repeat_flag = repeat_contact(times, now)
    open_tasks = sum(1 for t in tasks if t.status in (TaskStatus.OPEN, TaskStatus.IN_PROGRESS))
    last = max([case.updated_at, *(e.at for e in events)])
    return CaseDetail(
        id=case.id,
        reference=case.reference,
        customer_id=case.customer_id,
        customer_name=customer.display_name if customer else "",
        status=case.status.value,
        status_label=status_label(case.status, case.reopened_at is not None),
        allowed_steps=tuple((to.value, words) for to, words in allowed_steps(case.status)),
        priority=case.priority.value,
        priority_reason=case.priority_reason,
        category=category_label(case.category),
        subject=case.subject,
        description=case.description,
        order_text=_order_text(session, case),
        order_id=case.order_id,
        order_line_id=case.order_line_id,
        contract_text=_contract_text(session, case.contract_id),
        assignee=people.get(case.assignee_id) if case.assignee_id else None,
        department=departments.get(case.department_id) if case.department_id else None,
        version=case.version,
        contacts=len(times),
        repeat_text=repeat_text,
        repeat_flag=repeat_flag,
        open_tasks=open_tasks,
        close_reason=case.close_reason,
        opened_at=case.opened_at,
        updated_at=last,
        is_open=case.status in OPEN_CASE_STATUSES,
        editable=tuple(editable_values(case).items()),
        timeline=tuple(timeline),
        department_times=tuple(department_times(case, events, tasks, departments, now)),
        **_sla(session, case, now),
    )


_clocks = SlaClocks()  # calendars and policies, cached per process


def _sla(session: Session, case: Case, now: dt.datetime) -> dict[str, str | None]:
    if case.status not in OPEN_CASE_STATUSES:
        return {}
    state = _clocks.state(
        session,
        policy_id=case.sla_policy_id,
        due_at=case.sla_due_at,
        paused_since=case.sla_paused_since,
        breached_at=case.sla_breached_at,
        now=now,
        agent_zone=_local_zone(now),
    )
    if state is None:
        return {}
    level = (
        "breached"
        if state.breached
        else "paused"
        if state.paused
        else "warning"
        if state.warning
        else "running"
    )
    return {"sla_text": state.text, "sla_state": level}


def _local_zone(now: dt.datetime) -> dt.tzinfo:
    """The agent's time zone at `now`: the desktop's own (due times are shown in it)."""
    return now.astimezone().tzinfo or dt.UTC


def _names(session: Session, model: Any, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    column = model.display_name if model is User else model.name
    rows = session.execute(select(model.id, column).where(model.id.in_(wanted)))
    return {row[0]: row[1] for row in rows}


def _order_text(session: Session, case: Case) -> str | None:
    if case.order_id is None:
        return None
    number = session.scalar(select(Order.number).where(Order.id == case.order_id)) or "?"
    if case.order_line_id is None:
        return f"Order {number}"
    line = session.execute(
        select(OrderLine.line_no, Product.name, OrderLine.personalisation)
        .join(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.id == case.order_line_id)
    ).first()
    if line is None:
        return f"Order {number}"
    text = f"Order {number}, line {line.line_no}: {line.name}"
    return f'{text} (personalisation: "{line.personalisation}")' if line.personalisation else text


def _contract_text(session: Session, contract_id: int | None) -> str | None:
    if contract_id is None:
        return None
    row = session.execute(
        select(Contract.number, Contract.plan).where(Contract.id == contract_id)
    ).first()
    return f"Contract {row.number} ({row.plan})" if row else None
