"""Operations on work: hand-offs and their tasks, promises to customers."""

from __future__ import annotations

import datetime as dt

from app.bootstrap import Services
from app.changes import Change, Changes, Entity
from app.operations import Done
from app.services.commitments import CommitmentView
from app.services.handoffs import TaskRow
from models.enums import Channel, CommitmentKind


def hand_off(
    services: Services,
    case_id: int,
    department_id: int,
    title: str,
    description: str | None,
    due_at: dt.datetime | None,
    assignee_id: int | None = None,
) -> Done[TaskRow]:
    task = services.handoffs.hand_off(
        case_id, department_id, title, description, due_at, assignee_id
    )
    return Done(task, _task(task))


def start_task(services: Services, task_id: int, expected_version: int) -> Done[TaskRow]:
    task = services.handoffs.start_task(task_id, expected_version)
    return Done(task, _task(task))


def complete_task(
    services: Services, task_id: int, expected_version: int, outcome: str
) -> Done[TaskRow]:
    task = services.handoffs.complete_task(task_id, expected_version, outcome)
    return Done(task, _task(task))


def cancel_task(
    services: Services, task_id: int, expected_version: int, reason: str
) -> Done[TaskRow]:
    task = services.handoffs.cancel_task(task_id, expected_version, reason)
    return Done(task, _task(task))


def make_commitment(
    services: Services,
    customer_id: int,
    case_id: int | None,
    kind: CommitmentKind,
    description: str,
    due_from: dt.datetime | None,
    due_until: dt.datetime,
    owner_id: int | None = None,
    department_id: int | None = None,
    contact_channel: Channel | None = None,
    contact_phone_id: int | None = None,
    accept_warning: bool = False,
) -> Done[CommitmentView]:
    made = services.commitments.make_commitment(
        customer_id,
        case_id,
        kind,
        description,
        due_from,
        due_until,
        owner_id=owner_id,
        department_id=department_id,
        contact_channel=contact_channel,
        contact_phone_id=contact_phone_id,
        accept_warning=accept_warning,
    )
    return Done(made, _commitment(made))


def keep_commitment(
    services: Services, commitment_id: int, expected_version: int
) -> Done[CommitmentView]:
    kept = services.commitments.keep(commitment_id, expected_version)
    return Done(kept, _commitment(kept))


def cancel_commitment(
    services: Services, commitment_id: int, expected_version: int, reason: str
) -> Done[CommitmentView]:
    cancelled = services.commitments.cancel(commitment_id, expected_version, reason)
    return Done(cancelled, _commitment(cancelled))


def break_overdue(services: Services, now: dt.datetime) -> Done[list[int]]:
    """The sweep; the customers of what broke are not known here without a query, so the
    changes name the commitments and `customer_id` None (views of any customer refresh)."""
    broken = services.commitments.break_overdue(now)
    return Done(broken, Changes.of(*(Change(Entity.COMMITMENT, i) for i in broken)))


def _task(task: TaskRow) -> Changes:
    changes = Changes.of(Change(Entity.TASK, task.id, task.customer_id))
    if task.case_id is not None:  # the case timeline gained an event
        changes |= Changes.of(Change(Entity.CASE, task.case_id, task.customer_id))
    return changes


def _commitment(made: CommitmentView) -> Changes:
    changes = Changes.of(Change(Entity.COMMITMENT, made.id, made.customer_id))
    if made.case_id is not None:
        changes |= Changes.of(Change(Entity.CASE, made.case_id, made.customer_id))
    return changes
