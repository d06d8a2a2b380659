"""My work: what the agent must do next, in one list sorted by urgency.

The list gathers the agent's open cases (assignee), the tasks assigned to them, their
promises due by the end of today or overdue, the promises of theirs that broke in the
last `BROKEN_SHOWN_FOR` (there is no acknowledgement column: a broken promise stays on
the list for a week, which is when the customer most likely calls about it), and the
unassigned open tasks of their department's queue.

Sorted: broken promises first, then anything overdue (a promise or task past due, a case
past its SLA), then by SLA time left, priority, and due time. Each query is bounded
(`PER_SOURCE`) and uses the agent's id or department as the leading index column (see
the report of issue 11 for the indexes the tasks and commitments tables still lack).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.agent import AgentContext
from app.clock import Clock, system_clock
from models.database import Database
from models.enums import OPEN_CASE_STATUSES, CommitmentStatus, TaskStatus
from models.people import Customer, User
from models.service import Case, Commitment, Task

BROKEN_SHOWN_FOR = dt.timedelta(days=7)
PER_SOURCE = 200
_OPEN_TASKS = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)
_PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
_FAR = dt.datetime.max.replace(tzinfo=dt.UTC)


class WorkKind(enum.StrEnum):
    CASE = "case"
    TASK = "task"
    COMMITMENT = "commitment"
    QUEUE = "queue"  # an unassigned task of the agent's department


class Urgency(enum.IntEnum):
    """Lower is more urgent: the list's first sort key and the panel's colour."""

    BROKEN = 0
    OVERDUE = 1
    DUE_TODAY = 2
    LATER = 3


@dataclass(frozen=True)
class WorkItem:
    kind: WorkKind
    id: int
    version: int
    customer_id: int | None
    customer_name: str
    case_id: int | None
    case_reference: str | None
    what: str
    due_at: dt.datetime | None
    urgency: Urgency
    due_text: str
    priority: str | None = None
    sla_due_at: dt.datetime | None = None

    def sort_key(self) -> tuple[int, dt.datetime, int, dt.datetime, int]:
        return (
            self.urgency,
            self.sla_due_at or _FAR,
            _PRIORITY_RANK.get(self.priority or "normal", 2),
            self.due_at or _FAR,
            self.id,
        )


def _span(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


def due_text(
    urgency: Urgency,
    due_at: dt.datetime | None,
    now: dt.datetime,
    zone: dt.tzinfo,
    *,
    broken_at: dt.datetime | None = None,
    sla: bool = False,
) -> str:
    """ "Broken 2 days ago", "Overdue 3 h", "Due today 18:00", "SLA 2 h left", "Due Mon 7 Dec"."""
    if urgency == Urgency.BROKEN:
        since = now - (broken_at or due_at or now)
        return f"Broken {_span(since)} ago"
    if due_at is None:
        return "No due date"
    if urgency == Urgency.OVERDUE:
        return (
            f"SLA breached {_span(now - due_at)} ago" if sla else f"Overdue {_span(now - due_at)}"
        )
    if sla:
        return f"SLA {_span(due_at - now)} left"
    local = due_at.astimezone(zone)
    today = now.astimezone(zone).date()
    if local.date() == today:
        return f"Due today {local:%H:%M}"
    if local.date() == today + dt.timedelta(days=1):
        return f"Due tomorrow {local:%H:%M}"
    return f"Due {local:%a} {local.day} {local:%b}"


def _name(first: str | None, last: str | None) -> str:
    return f"{first or ''} {last or ''}".strip() or "(no customer)"


class MyWorkService:
    def __init__(
        self,
        db: Database,
        clock: Clock = system_clock,
        *,
        agent: AgentContext,
        zone: dt.tzinfo | None = None,
    ) -> None:
        self._db = db
        self.clock = clock
        self.agent = agent
        self._zone = zone

    def items(self, now: dt.datetime | None = None) -> list[WorkItem]:
        """The agent's work, most urgent first (empty for an agent with no staff row)."""
        user_id = self.agent.user_id
        if user_id is None:
            return []
        now = now or self.clock()
        zone = self._zone or now.astimezone().tzinfo or dt.UTC
        local_now = now.astimezone(zone)
        end_of_today = dt.datetime.combine(
            local_now.date() + dt.timedelta(days=1), dt.time(0), tzinfo=zone
        ).astimezone(dt.UTC)
        # Four statements, one read transaction: the department is a subquery of the
        # queue's, so no round trip is spent looking it up.
        with self._db.read() as session:
            found = [
                *self._cases(session, user_id, now, zone),
                *self._tasks(session, user_id, False, now, zone, end_of_today),
                *self._commitments(session, user_id, now, zone, end_of_today),
                *self._tasks(session, user_id, True, now, zone, end_of_today),
            ]
        return sorted(found, key=WorkItem.sort_key)

    def _cases(
        self, session: Session, user_id: int, now: dt.datetime, zone: dt.tzinfo
    ) -> list[WorkItem]:
        rows = session.execute(
            select(
                Case.id,
                Case.version,
                Case.reference,
                Case.subject,
                Case.priority,
                Case.sla_due_at,
                Case.customer_id,
                Customer.first_name,
                Customer.last_name,
            )
            .join(Customer, Customer.id == Case.customer_id)
            .where(Case.assignee_id == user_id, Case.status.in_(OPEN_CASE_STATUSES))
            .order_by(Case.sla_due_at.is_(None), Case.sla_due_at, Case.id)
            .limit(PER_SOURCE)
        ).all()
        items = []
        for r in rows:
            urgency = Urgency.LATER
            if r.sla_due_at is not None and r.sla_due_at < now:
                urgency = Urgency.OVERDUE
            elif r.sla_due_at is not None and r.sla_due_at.astimezone(zone).date() == (
                now.astimezone(zone).date()
            ):
                urgency = Urgency.DUE_TODAY
            items.append(
                WorkItem(
                    kind=WorkKind.CASE,
                    id=r.id,
                    version=r.version,
                    customer_id=r.customer_id,
                    customer_name=_name(r.first_name, r.last_name),
                    case_id=r.id,
                    case_reference=r.reference,
                    what=r.subject,
                    due_at=r.sla_due_at,
                    urgency=urgency,
                    due_text=(
                        due_text(urgency, r.sla_due_at, now, zone, sla=True)
                        if r.sla_due_at
                        else "Open, no SLA"
                    ),
                    priority=r.priority.value,
                    sla_due_at=r.sla_due_at,
                )
            )
        return items

    def _tasks(
        self,
        session: Session,
        user_id: int,
        queue: bool,
        now: dt.datetime,
        zone: dt.tzinfo,
        end_of_today: dt.datetime,
    ) -> list[WorkItem]:
        query = (
            select(
                Task.id,
                Task.version,
                Task.title,
                Task.due_at,
                Task.case_id,
                Task.customer_id,
                Case.reference,
                Case.priority,
                Customer.first_name,
                Customer.last_name,
            )
            .outerjoin(Case, Case.id == Task.case_id)
            .outerjoin(Customer, Customer.id == Task.customer_id)
            .where(Task.status.in_(_OPEN_TASKS))
            .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
            .limit(PER_SOURCE)
        )
        if not queue:
            query = query.where(Task.assignee_id == user_id)
            kind = WorkKind.TASK
        else:
            department = select(User.department_id).where(User.id == user_id).scalar_subquery()
            query = query.where(Task.department_id == department, Task.assignee_id.is_(None))
            kind = WorkKind.QUEUE
        items = []
        for r in session.execute(query).all():
            urgency = _by_due(r.due_at, now, end_of_today)
            items.append(
                WorkItem(
                    kind=kind,
                    id=r.id,
                    version=r.version,
                    customer_id=r.customer_id,
                    customer_name=_name(r.first_name, r.last_name),
                    case_id=r.case_id,
                    case_reference=r.reference,
                    what=r.title if kind == WorkKind.TASK else f"Queue: {r.title}",
                    due_at=r.due_at,
                    urgency=urgency,
                    due_text=due_text(urgency, r.due_at, now, zone),
                    priority=r.priority.value if r.priority else None,
                )
            )
        return items

    def _commitments(
        self,
        session: Session,
        user_id: int,
        now: dt.datetime,
        zone: dt.tzinfo,
        end_of_today: dt.datetime,
    ) -> list[WorkItem]:
        columns = (
            Commitment.id,
            Commitment.version,
            Commitment.description,
            Commitment.due_until,
            Commitment.broken_at,
            Commitment.status,
            Commitment.case_id,
            Commitment.customer_id,
            Case.reference,
            Case.priority,
            Customer.first_name,
            Customer.last_name,
        )

        rows = session.execute(
            select(*columns)
            .outerjoin(Case, Case.id == Commitment.case_id)
            .join(Customer, Customer.id == Commitment.customer_id)
            .where(
                Commitment.owner_id == user_id,
                Commitment.status.in_((CommitmentStatus.OPEN, CommitmentStatus.BROKEN)),
                or_(
                    and_(
                        Commitment.status == CommitmentStatus.OPEN,
                        Commitment.due_until < end_of_today,
                    ),
                    and_(
                        Commitment.status == CommitmentStatus.BROKEN,
                        Commitment.broken_at >= now - BROKEN_SHOWN_FOR,
                    ),
                ),
            )
            .order_by(Commitment.due_until, Commitment.id)
            .limit(PER_SOURCE)
        ).all()
        items = []
        for r in rows:
            if r.status == CommitmentStatus.BROKEN:
                urgency = Urgency.BROKEN
            else:
                urgency = _by_due(r.due_until, now, end_of_today)
            items.append(
                WorkItem(
                    kind=WorkKind.COMMITMENT,
                    id=r.id,
                    version=r.version,
                    customer_id=r.customer_id,
                    customer_name=_name(r.first_name, r.last_name),
                    case_id=r.case_id,
                    case_reference=r.reference,
                    what=f"Promise: {r.description}",
                    due_at=r.due_until,
                    urgency=urgency,
                    due_text=due_text(
                        urgency,
                        r.due_until,
                        now,
                        zone,
                        broken_at=r.broken_at,
                    ),
                    priority=r.priority.value if r.priority else None,
                )
            )
        return items


def _by_due(due_at: dt.datetime | None, now: dt.datetime, end_of_today: dt.datetime) -> Urgency:
    if due_at is None:
        return Urgency.LATER
    if due_at < now:
        return Urgency.OVERDUE
    return Urgency.DUE_TODAY if due_at < end_of_today else Urgency.LATER
