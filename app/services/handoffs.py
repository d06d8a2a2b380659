"""Hand-offs: a part of a case given to a department as a task, and the task's progress.

Every step (handed off, started, done, cancelled) is written on the case's timeline as a
case event with its author and department, so the agent who reads the case sees what
the warehouse did without asking. Tasks are versioned: a step taken on a task someone
else changed since it was loaded is refused with `TaskConflict`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.agent import AgentContext
from app.clock import Clock, system_clock
from app.errors import ConflictError, UserError
from app.validation import check_text
from models.database import Database
from models.enums import CaseEventKind, TaskStatus
from models.people import Customer, Department, User
from models.service import Case, CaseEvent, Task

TITLE_MAX_CHARS = 200
DESCRIPTION_MAX_CHARS = 4000
OUTCOME_MAX_CHARS = 4000
_OPEN = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


class TaskConflict(ConflictError):
    """The task changed since it was loaded (another agent started or closed it)."""


@dataclass(frozen=True)
class TaskRow:
    id: int
    version: int
    case_id: int | None
    case_reference: str | None
    customer_id: int | None
    customer_name: str | None
    department_id: int
    department: str
    assignee_id: int | None
    assignee: str | None
    title: str
    description: str | None
    status: str
    due_at: dt.datetime | None
    outcome: str | None


@dataclass(frozen=True)
class DepartmentRow:
    id: int
    code: str
    name: str
    # Its active staff as (user id, display name): whom a hand-off may be given to.
    staff: tuple[tuple[int, str], ...] = ()


class HandoffService:
    def __init__(self, db: Database, clock: Clock = system_clock, *, agent: AgentContext) -> None:
        self._db = db
        self.clock = clock
        self.agent = agent

    def departments(self) -> list[DepartmentRow]:
        """Every department with its active staff, for the hand-off's choices."""
        with self._db.read() as session:
            rows = session.execute(
                select(Department.id, Department.code, Department.name).order_by(Department.name)
            ).all()
            staff: dict[int, list[tuple[int, str]]] = {}
            for user_id, name, department_id in session.execute(
                select(User.id, User.display_name, User.department_id)
                .where(User.active.is_(True), User.department_id.is_not(None))
                .order_by(User.display_name)
            ):
                if department_id is not None:  # filtered above; the type does not know
                    staff.setdefault(department_id, []).append((user_id, name))
        return [DepartmentRow(r.id, r.code, r.name, tuple(staff.get(r.id, ()))) for r in rows]

    def hand_off(
        self,
        case_id: int,
        department_id: int,
        title: str,
        description: str | None,
        due_at: dt.datetime | None,
        assignee_id: int | None = None,
    ) -> TaskRow:
        checked_title = check_text(title, "title", TITLE_MAX_CHARS, required=True)
        text = check_text(description or "", "description", DESCRIPTION_MAX_CHARS, multiline=True)
        with self._db.write() as session:
            case_ = session.get(Case, case_id)
            if case_ is None:
                raise UserError(f"case {case_id} does not exist")
            department = session.get(Department, department_id)
            if department is None:
                raise UserError(f"department {department_id} does not exist")
            if assignee_id is not None and session.get(User, assignee_id) is None:
                raise UserError(f"staff member {assignee_id} does not exist")
            now = self.clock()
            task = Task(
                case_id=case_id,
                customer_id=case_.customer_id,
                department_id=department_id,
                assignee_id=assignee_id,
                title=checked_title,
                description=text or None,
                status=TaskStatus.OPEN,
                due_at=due_at,
                created_by_id=self.agent.user_id,
                created_at=now,
            )
            session.add(task)
            session.flush()
            self._event(
                session,
                case_id,
                CaseEventKind.HANDOFF,
                f"Handed to {department.name}: {checked_title}",
                department_id,
                {"task_id": task.id, "due_at": due_at.isoformat() if due_at else None},
            )
            return _row(session, task)

    def start_task(self, task_id: int, expected_version: int) -> TaskRow:
        return self._step(task_id, expected_version, TaskStatus.IN_PROGRESS, None)

    def complete_task(self, task_id: int, expected_version: int, outcome: str) -> TaskRow:
        text = check_text(outcome, "outcome", OUTCOME_MAX_CHARS, multiline=True, required=True)
        return self._step(task_id, expected_version, TaskStatus.DONE, text)

    def cancel_task(self, task_id: int, expected_version: int, reason: str) -> TaskRow:
        text = check_text(reason, "reason", OUTCOME_MAX_CHARS, multiline=True, required=True)
        return self._step(task_id, expected_version, TaskStatus.CANCELLED, text)

    def task(self, task_id: int) -> TaskRow:
        with self._db.read() as session:
            task = session.get(Task, task_id)
            if task is None:
                raise UserError(f"task {task_id} does not exist")
            return _row(session, task)

    def department_queue(self, department_id: int, limit: int = 200) -> list[TaskRow]:
        """Open and started tasks of a department, soonest due first (undated last)."""
        with self._db.read() as session:
            tasks = session.scalars(
                select(Task)
                .where(Task.department_id == department_id, Task.status.in_(_OPEN))
                .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
                .limit(limit)
            ).all()
            return [_row(session, t) for t in tasks]

    def _step(
        self, task_id: int, expected_version: int, status: TaskStatus, outcome: str | None
    ) -> TaskRow:
        with _conflicts(), self._db.write() as session:
            task = session.get(Task, task_id)
            if task is None:
                raise UserError(f"task {task_id} does not exist")
            if task.version != expected_version:
                raise TaskConflict(_conflict_text(task))
            if task.status not in _OPEN:
                raise UserError(f"the task is already {task.status.value.replace('_', ' ')}")
            now = self.clock()
            task.status = status
            if status == TaskStatus.IN_PROGRESS and task.assignee_id is None:
                task.assignee_id = self.agent.user_id
            if status in (TaskStatus.DONE, TaskStatus.CANCELLED):
                task.completed_at = now
                task.completed_by_id = self.agent.user_id
                task.outcome = outcome
            session.flush()
            if task.case_id is not None:
                verb = {
                    TaskStatus.IN_PROGRESS: "Started",
                    TaskStatus.DONE: "Done",
                    TaskStatus.CANCELLED: "Cancelled",
                }[status]
                body = f"{verb}: {task.title}" + (f" - {outcome}" if outcome else "")
                self._event(
                    session,
                    task.case_id,
                    CaseEventKind.TASK,
                    body,
                    task.department_id,
                    {"task_id": task.id, "status": status.value},
                )
            return _row(session, task)

    def _event(
        self,
        session: Session,
        case_id: int,
        kind: CaseEventKind,
        body: str,
        department_id: int | None,
        data: dict[str, Any],
    ) -> None:
        session.add(
            CaseEvent(
                case_id=case_id,
                at=self.clock(),
                kind=kind,
                author_id=self.agent.user_id,
                department_id=department_id,
                body=body,
                data=data,
            )
        )


@contextmanager
def _conflicts() -> Iterator[None]:
    try:
        yield
    except StaleDataError:
        raise TaskConflict(
            "Someone else changed this task while you were saving; reload it and try again"
        ) from None


def _conflict_text(task: Task) -> str:
    state = task.status.value.replace("_", " ")
    return f"Someone else changed this task since you opened it (it is now {state}); reload it"


def _row(session: Session, task: Task) -> TaskRow:
    department = session.get(Department, task.department_id)
    assignee = session.get(User, task.assignee_id) if task.assignee_id else None
    reference = session.scalar(select(Case.reference).where(Case.id == task.case_id))
    customer = session.get(Customer, task.customer_id) if task.customer_id else None
    return TaskRow(
        id=task.id,
        version=task.version,
        case_id=task.case_id,
        case_reference=reference,
        customer_id=task.customer_id,
        customer_name=f"{customer.first_name} {customer.last_name}" if customer else None,
        department_id=task.department_id,
        department=department.name if department else "",
        assignee_id=task.assignee_id,
        assignee=assignee.display_name if assignee else None,
        title=task.title,
        description=task.description,
        status=task.status.value,
        due_at=task.due_at,
        outcome=task.outcome,
    )
