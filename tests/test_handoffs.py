"""Hand-offs: a task for a department, its progress on the case timeline, the queue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, select

from app.bootstrap import Services, build_services
from app.changes import Entity
from app.clock import fixed_clock
from app.config import load_settings
from app.errors import UserError
from app.operations import work as work_ops
from app.services.handoffs import TaskConflict
from models.database import Database
from models.enums import CaseEventKind, CaseStatus, Priority, Role
from models.people import Department, User
from models.service import Case, CaseEvent
from tests.factories import add_ada, agent_context

NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class World:
    services: Services
    customer_id: int
    case_id: int
    agent_id: int
    call_centre: int
    warehouse: int


def make_world(engine: Engine, now: dt.datetime = NOW) -> World:
    """Ada with one open case, an agent of the call centre (acting), and a warehouse."""
    customer_id = add_ada(engine)
    with Database(engine).write() as session:
        call_centre = Department(code="call_centre", name="Call centre")
        warehouse = Department(code="warehouse", name="Warehouse")
        session.add_all([call_centre, warehouse])
        session.flush()
        agent = User(
            login="agent01",
            display_name="Rita Agent",
            role=Role.AGENT,
            department_id=call_centre.id,
        )
        session.add(agent)
        session.flush()
        case_ = Case(
            reference="CS-26-000001",
            customer_id=customer_id,
            category="product",
            subject="Engraving wrong",
            priority=Priority.HIGH,
            status=CaseStatus.OPEN,
            assignee_id=agent.id,
            opened_at=now - dt.timedelta(days=1),
        )
        session.add(case_)
        session.flush()
        ids = (case_.id, agent.id, call_centre.id, warehouse.id)
    services = build_services(load_settings(), engine).acting_as(agent_context(engine, "agent01"))
    for service in (services.handoffs, services.commitments, services.my_work):
        service.clock = fixed_clock(now)
    return World(services, customer_id, *ids)


def timeline(engine: Engine, case_id: int) -> list[tuple[CaseEventKind, str | None, int | None]]:
    with Database(engine).read() as session:
        return [
            (e.kind, e.body, e.author_id)
            for e in session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            )
        ]


def test_a_hand_off_makes_a_task_and_its_progress_lands_on_the_case(engine: Engine) -> None:
    w = make_world(engine)
    due = NOW + dt.timedelta(days=2)
    done = work_ops.hand_off(
        w.services, w.case_id, w.warehouse, "Re-engrave the ring", "Name is Anne", due
    )
    task = done.value
    assert (task.customer_id, task.status, task.department, task.due_at) == (
        w.customer_id,
        "open",
        "Warehouse",
        due,
    )
    assert done.changes.ids(Entity.TASK) == {task.id}
    assert done.changes.ids(Entity.CASE) == {w.case_id}
    assert done.changes.customers() == {w.customer_id}
    started = work_ops.start_task(w.services, task.id, task.version).value
    assert started.status == "in_progress" and started.assignee_id == w.agent_id
    finished = work_ops.complete_task(w.services, task.id, started.version, "Re-engraved").value
    assert finished.status == "done" and finished.outcome == "Re-engraved"
    assert timeline(engine, w.case_id) == [
        (CaseEventKind.HANDOFF, "Handed to Warehouse: Re-engrave the ring", w.agent_id),
        (CaseEventKind.TASK, "Started: Re-engrave the ring", w.agent_id),
        (CaseEventKind.TASK, "Done: Re-engrave the ring - Re-engraved", w.agent_id),
    ]
    with Database(engine).read() as session:
        departments = session.scalars(
            select(CaseEvent.department_id).where(CaseEvent.case_id == w.case_id)
        ).all()
    assert set(departments) == {w.warehouse}


def test_a_stale_version_is_a_clear_conflict(engine: Engine) -> None:
    w = make_world(engine)
    task = w.services.handoffs.hand_off(w.case_id, w.warehouse, "Check stock", None, None)
    w.services.handoffs.start_task(task.id, task.version)
    with pytest.raises(TaskConflict, match="Someone else changed this task.*in progress"):
        w.services.handoffs.complete_task(task.id, task.version, "Checked")
    cancelled = w.services.handoffs.cancel_task(task.id, task.version + 1, "Not needed")
    assert cancelled.status == "cancelled"
    with pytest.raises(UserError, match="already cancelled"):
        w.services.handoffs.start_task(task.id, cancelled.version)


def test_the_department_queue_is_open_tasks_soonest_due_first(engine: Engine) -> None:
    w = make_world(engine)
    h = w.services.handoffs
    late = h.hand_off(w.case_id, w.warehouse, "Late", None, NOW + dt.timedelta(days=3))
    undated = h.hand_off(w.case_id, w.warehouse, "Undated", None, None)
    soon = h.hand_off(w.case_id, w.warehouse, "Soon", None, NOW + dt.timedelta(hours=3))
    done = h.hand_off(w.case_id, w.warehouse, "Done", None, NOW)
    h.complete_task(done.id, done.version, "ok")
    h.hand_off(w.case_id, w.call_centre, "Elsewhere", None, NOW)
    assert [t.id for t in h.department_queue(w.warehouse)] == [soon.id, late.id, undated.id]


def test_a_hand_off_to_nowhere_is_refused(engine: Engine) -> None:
    w = make_world(engine)
    with pytest.raises(UserError, match="department 999 does not exist"):
        w.services.handoffs.hand_off(w.case_id, 999, "X", None, None)
    with pytest.raises(UserError, match="title"):
        w.services.handoffs.hand_off(w.case_id, w.warehouse, "  ", None, None)
