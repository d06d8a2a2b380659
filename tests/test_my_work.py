"""My work: the agent's cases, tasks, promises and department queue, most urgent first."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from app.clock import fixed_clock
from app.services.my_work import MyWorkService, Urgency, WorkKind, due_text
from models.database import Database
from models.enums import CommitmentKind
from models.service import Case
from tests.factories import agent_context
from tests.test_handoffs import NOW, make_world

UTC = dt.UTC


def test_my_work_is_one_list_broken_first_then_overdue_then_sla(engine: Engine) -> None:
    w = make_world(engine)
    with Database(engine).write() as session:
        case_ = session.get(Case, w.case_id)
        assert case_ is not None
        case_.sla_due_at = NOW + dt.timedelta(hours=4)
    c = w.services.commitments
    broken = c.make_commitment(
        w.customer_id,
        w.case_id,
        CommitmentKind.DELIVERY,
        "Ring by Monday",
        None,
        NOW - dt.timedelta(days=2),
    )
    c.break_overdue(NOW)
    overdue = c.make_commitment(
        w.customer_id,
        w.case_id,
        CommitmentKind.REFUND,
        "Refund $20",
        None,
        NOW - dt.timedelta(hours=3),
    )  # not swept yet: overdue from the clock
    today = c.make_commitment(
        w.customer_id, None, CommitmentKind.OTHER, "Send catalogue", None, NOW.replace(hour=18)
    )
    c.make_commitment(  # next week: not today's work
        w.customer_id, None, CommitmentKind.OTHER, "Later", None, NOW + dt.timedelta(days=7)
    )
    h = w.services.handoffs
    mine = h.hand_off(
        w.case_id, w.warehouse, "Check stock", None, NOW + dt.timedelta(days=1), w.agent_id
    )
    queued = h.hand_off(
        w.case_id, w.call_centre, "Call the courier", None, NOW + dt.timedelta(hours=1)
    )
    h.hand_off(w.case_id, w.warehouse, "Not my department", None, NOW)
    service = MyWorkService(w.services.db, fixed_clock(NOW), agent=w.services.agent, zone=UTC)
    items = service.items()
    assert [(i.kind, i.id) for i in items] == [
        (WorkKind.COMMITMENT, broken.id),
        (WorkKind.COMMITMENT, overdue.id),
        (WorkKind.CASE, w.case_id),
        (WorkKind.QUEUE, queued.id),
        (WorkKind.COMMITMENT, today.id),
        (WorkKind.TASK, mine.id),
    ]
    texts = [i.due_text for i in items]
    assert texts == [
        "Broken 2 days ago",
        "Overdue 3 h",
        "SLA 4 h left",
        "Due today 11:00",
        "Due today 18:00",
        "Due tomorrow 10:00",
    ]
    assert items[0].urgency == Urgency.BROKEN and items[1].urgency == Urgency.OVERDUE
    assert all(i.customer_name == "Ada Lovelace" for i in items)
    assert items[0].case_reference == "CS-26-000001"


def test_an_agent_without_a_staff_row_has_no_work(engine: Engine) -> None:
    w = make_world(engine)
    nobody = MyWorkService(w.services.db, fixed_clock(NOW), agent=agent_context(engine))
    assert nobody.items() == []


def test_due_texts() -> None:
    now = dt.datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    assert due_text(Urgency.OVERDUE, now - dt.timedelta(minutes=20), now, UTC) == "Overdue 20 min"
    assert due_text(Urgency.LATER, now + dt.timedelta(days=5), now, UTC) == "Due Mon 7 Dec"
    assert due_text(Urgency.LATER, None, now, UTC) == "No due date"
    assert (
        due_text(Urgency.OVERDUE, now - dt.timedelta(hours=2), now, UTC, sla=True)
        == "SLA breached 2 h ago"
    )
