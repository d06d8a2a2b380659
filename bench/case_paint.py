"""bench.case_paint: "open a case with 200 timeline entries" to the case tab painted.

One run: `CaseService.load` on the bridge's worker (the read model: case, events,
contacts, tasks, promises, feedback, names), then building the `CasePanel` on the GUI
thread, showing it and painting it (`QWidget.grab` lays out and paints every visible
widget, synchronously; the tasks the tab starts, its presence heartbeat and macro
list, run on the loop between runs, as they would in the app). The raw baseline runs
the same main queries through the driver in one transaction. `bench.cases` runs this
with `bench.my_work` and `bench.sla_timing`.

    QT_QPA_PLATFORM=offscreen python -m bench.case_paint --db URL --size 1000 --json
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

from sqlalchemy import Engine, insert, select

from bench.common import backend_name, emit, run_gui_bench, summary, with_baseline
from bench.lookup import ensure_seeded
from models.database import Database
from models.enums import (
    CaseEventKind,
    CaseStatus,
    Channel,
    Direction,
    InteractionOutcome,
    Priority,
    TaskStatus,
)
from models.people import Customer, Department, User
from models.service import Case, CaseEvent, Interaction, Task

RUNS = 40
ENTRIES = 200
MARKER = "bench: case with a long timeline"


def case_with_timeline(engine: Engine, entries: int = ENTRIES) -> int:
    """A case whose timeline holds `entries` entries (made once, then reused)."""
    db = Database(engine)
    subject = f"{MARKER} ({entries})"
    with db.read() as session:
        existing = session.scalar(select(Case.id).where(Case.subject == subject))
        if existing:
            return existing
        customer_id = session.scalar(select(Customer.id).order_by(Customer.id).limit(1))
        users = list(session.scalars(select(User.id).limit(5))) or [None]
        departments = list(session.scalars(select(Department.id).limit(4))) or [None]
    assert customer_id is not None, "seed the database first"
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    with db.write() as session:
        case = Case(
            reference=f"CS-99-{entries:06d}",
            customer_id=customer_id,
            category="complaint",
            subject=subject,
            priority=Priority.HIGH,
            status=CaseStatus.WAITING_INTERNAL,
            opened_at=start,
            updated_at=start,
        )
        session.add(case)
        session.flush()
        events, contacts, tasks = [], [], []
        for i in range(entries):
            at = start + dt.timedelta(hours=3 * i)
            who, dept = users[i % len(users)], departments[i % len(departments)]
            if i % 10 == 3:
                contacts.append(
                    {
                        "customer_id": customer_id,
                        "case_id": case.id,
                        "channel": Channel.PHONE,
                        "direction": Direction.INBOUND,
                        "outcome": InteractionOutcome.COMPLETED,
                        "started_at": at,
                        "agent_id": who,
                        "summary": f"Called again about it ({i})",
                        "version": 1,
                    }
                )
            elif i % 10 == 7 and dept is not None:
                tasks.append(
                    {
                        "case_id": case.id,
                        "customer_id": customer_id,
                        "department_id": dept,
                        "title": f"Check step {i}",
                        "status": TaskStatus.DONE,
                        "created_at": at,
                        "created_by_id": who,
                        "completed_at": at + dt.timedelta(hours=2),
                        "completed_by_id": who,
                        "version": 1,
                    }
                )
            else:
                kind = (CaseEventKind.INTERNAL_NOTE, CaseEventKind.NOTE)[i % 2]
                events.append(
                    {
                        "case_id": case.id,
                        "at": at,
                        "kind": kind,
                        "author_id": who,
                        "department_id": dept,
                        "body": f"Note {i}: what was said and what was done about it",
                    }
                )
        session.execute(insert(CaseEvent), events)
        if contacts:
            session.execute(insert(Interaction), contacts)
        if tasks:
            session.execute(insert(Task), tasks)
        return case.id


def raw_case_queries(engine: Engine) -> Any:
    """The read model's main queries through the raw driver, one transaction per run."""
    connection: Any = engine.raw_connection()
    statements = [
        "SELECT * FROM cases WHERE id = %s",
        "SELECT * FROM case_events WHERE case_id = %s ORDER BY at, id",
        "SELECT * FROM interactions WHERE case_id = %s ORDER BY started_at",
        "SELECT * FROM tasks WHERE case_id = %s ORDER BY created_at",
        "SELECT * FROM commitments WHERE case_id = %s",
        "SELECT * FROM feedback WHERE case_id = %s",
        "SELECT u.id, u.display_name, u.department_id FROM users u WHERE u.id IN "
        "(SELECT author_id FROM case_events WHERE case_id = %s)",
    ]
    if engine.dialect.name == "sqlite":
        statements = [sql.replace("%s", "?") for sql in statements]

    def run(case_id: int) -> None:
        cursor = connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN")
        for sql in statements:
            cursor.execute(sql, (case_id,))
            cursor.fetchall()
        connection.rollback()

    return run


async def measure_case_paint(
    bridge: Any, services: Any, case_id: int, runs: int = RUNS, warmup: int = 3
) -> tuple[list[float], list[float]]:
    """(open-to-painted ms, read-model ms) per run, warm-up runs dropped."""
    from PySide6.QtWidgets import QApplication, QTabWidget

    from ui.features.cases.view import CasePanel

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    # The case opens as a tab of a window already shown, as in the app.
    tabs = QTabWidget()
    tabs.resize(1366, 700)
    tabs.show()
    total_ms, load_ms = [], []
    for _ in range(runs + warmup):
        start = time.perf_counter()
        detail = await bridge.run(services.cases.load, case_id)
        loaded = time.perf_counter()
        panel = CasePanel(detail, services, bridge, drafts=None)
        tabs.setCurrentIndex(tabs.addTab(panel, detail.reference))
        panel.grab()  # lays out and paints every visible widget
        end = time.perf_counter()
        assert len(panel.timeline_model.rows) >= ENTRIES
        total_ms.append((end - start) * 1000)
        load_ms.append((loaded - start) * 1000)
        tabs.removeTab(tabs.indexOf(panel))
        panel.leave()  # its presence heartbeats stop, as when a tab closes
        panel.deleteLater()
        await asyncio.sleep(0.01)
    tabs.close()
    tabs.deleteLater()
    return total_ms[warmup:], load_ms[warmup:]


async def run(args: Any, engine: Engine) -> None:
    from app.bootstrap import build_services
    from app.config import load_settings
    from ui.bridge import DatabaseBridge

    ensure_seeded(engine, args.size)
    case_id = case_with_timeline(engine)
    services = build_services(
        load_settings(cli={"db_url": engine.url.render_as_string(False)}), engine
    )
    bridge = DatabaseBridge()
    try:
        total, load = await measure_case_paint(bridge, services, case_id)
    finally:
        bridge.shutdown()
    raw = raw_case_queries(engine)
    baseline = []
    for _ in range(RUNS):
        start = time.perf_counter()
        raw(case_id)
        baseline.append((time.perf_counter() - start) * 1000)
    record: dict[str, Any] = {
        "bench": "case_paint",
        "backend": backend_name(engine),
        "entries": ENTRIES,
        **summary(total),
        "load_p50_ms": summary(load)["p50_ms"],
        "load_p95_ms": summary(load)["p95_ms"],
    }
    emit(with_baseline(record, baseline), args.json)


if __name__ == "__main__":
    run_gui_bench(__doc__ or "case paint", run)
