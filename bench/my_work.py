"""My work for an agent: the service (SQLAlchemy, as the app runs it) against the same
queries in raw SQL through psycopg, in the same transaction mode (one read transaction,
rolled back), p50/p95 over --runs calls, the median of --repeats rounds.

    python -m bench.my_work --db postgresql://postgres@127.0.0.1:5432/rapport_bench_work \
        --customers 20000

The database is created and seeded (`models.seed.seed_database`, the proportions of
models/seed/population.py: cases assigned round-robin to 40 call-centre agents, half of
the cases handed off as tasks to their department's first member, 40 % with a promise)
when it holds no customers. At 1,000,000 customers the seed takes long: seed once, then
rerun with the same --db. Two agents are measured: the call-centre agent with the most
open cases, and the department member with the most open tasks (the worst queue).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from app.agent import agent_named
from app.clock import fixed_clock
from app.services.my_work import BROKEN_SHOWN_FOR, MyWorkService
from bench.common import emit, summary, time_calls
from bench.lookup import ensure_seeded
from models.database import Database, make_engine
from models.enums import OPEN_CASE_STATUSES
from models.people import User
from models.service import Case, Task

# The service's queries (app/services/my_work.py, PER_SOURCE = 200), values bound.
RAW = [
    "SELECT c.id, c.version, c.reference, c.subject, c.priority, c.sla_due_at, c.customer_id,"
    " cu.first_name, cu.last_name FROM cases c JOIN customers cu ON cu.id = c.customer_id"
    " WHERE c.assignee_id = %(user)s"
    " AND c.status IN ('new', 'open', 'waiting_customer', 'waiting_internal')"
    " ORDER BY c.sla_due_at IS NULL, c.sla_due_at, c.id LIMIT 200",
    "SELECT t.id, t.version, t.title, t.due_at, t.case_id, t.customer_id, c.reference,"
    " c.priority, cu.first_name, cu.last_name FROM tasks t LEFT JOIN cases c ON c.id = t.case_id"
    " LEFT JOIN customers cu ON cu.id = t.customer_id"
    " WHERE t.status IN ('open', 'in_progress') AND t.assignee_id = %(user)s"
    " ORDER BY t.due_at IS NULL, t.due_at, t.id LIMIT 200",
    "SELECT m.id, m.version, m.description, m.due_until, m.broken_at, m.status, m.case_id,"
    " m.customer_id, c.reference, c.priority, cu.first_name, cu.last_name FROM commitments m"
    " LEFT JOIN cases c ON c.id = m.case_id JOIN customers cu ON cu.id = m.customer_id"
    " WHERE m.owner_id = %(user)s AND m.status IN ('open', 'broken')"
    " AND ((m.status = 'open' AND m.due_until < %(end)s)"
    " OR (m.status = 'broken' AND m.broken_at >= %(since)s))"
    " ORDER BY m.due_until, m.id LIMIT 200",
    "SELECT t.id, t.version, t.title, t.due_at, t.case_id, t.customer_id, c.reference,"
    " c.priority, cu.first_name, cu.last_name FROM tasks t LEFT JOIN cases c ON c.id = t.case_id"
    " LEFT JOIN customers cu ON cu.id = t.customer_id"
    " WHERE t.status IN ('open', 'in_progress')"
    " AND t.department_id = (SELECT department_id FROM users WHERE id = %(user)s)"
    " AND t.assignee_id IS NULL ORDER BY t.due_at IS NULL, t.due_at, t.id LIMIT 200",
]


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of `url` if it does not exist."""
    import psycopg

    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(False).replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        if (
            conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
            ).fetchone()
            is None
        ):
            conn.execute(f'CREATE DATABASE "{parsed.database}"')


def busiest(engine: Engine) -> list[str]:
    """The logins of the agent with most open cases and the member with most open tasks."""
    with Database(engine).read() as session:
        by_cases = session.execute(
            select(User.login)
            .join(Case, Case.assignee_id == User.id)
            .where(Case.status.in_(OPEN_CASE_STATUSES))
            .group_by(User.login)
            .order_by(func.count().desc())
            .limit(1)
        ).scalar()
        by_tasks = session.execute(
            select(User.login)
            .join(Task, Task.assignee_id == User.id)
            .where(Task.status.in_(("open", "in_progress")))
            .group_by(User.login)
            .order_by(func.count().desc())
            .limit(1)
        ).scalar()
    return [login for login in (by_cases, by_tasks) if login]


def raw_runner(engine: Engine, user_id: int, now: dt.datetime) -> Any:
    import psycopg

    url = engine.url.set(drivername="postgresql").render_as_string(False)
    conn = psycopg.connect(url)  # a transaction per run, rolled back, as Database.read()
    local = now.astimezone()
    end = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), local.tzinfo)
    params = {"user": user_id, "end": end, "since": now - BROKEN_SHOWN_FOR}

    def run() -> int:
        n = 0
        for sql in RAW:
            n += len(conn.execute(sql, params).fetchall())
        conn.rollback()
        return n

    return run, conn


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--db", default="postgresql://postgres@127.0.0.1:5432/rapport_bench_work")
    p.add_argument("--customers", type=int, default=20_000)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    ensure_database(args.db)
    engine = make_engine(args.db)
    size = ensure_seeded(engine, args.customers)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    now = dt.datetime.now(dt.UTC)
    db = Database(engine)
    for login in busiest(engine):
        with db.read() as session:
            agent = agent_named(session, login, "bench", "bench@localhost")
        assert agent.user_id is not None
        service = MyWorkService(db, fixed_clock(now), agent=agent)
        raw, conn = raw_runner(engine, agent.user_id, now)
        rounds: list[tuple[dict[str, float], dict[str, float]]] = []
        for _ in range(args.repeats):
            rounds.append(
                (summary(time_calls(service.items, args.runs)), summary(time_calls(raw, args.runs)))
            )
        conn.close()

        def median(i: int, key: str, rounds: list[Any] = rounds) -> float:
            return round(statistics.median(r[i][key] for r in rounds), 3)

        emit(
            {
                "bench": "my_work",
                "op": "items",
                "backend": engine.dialect.name,
                "size": size,
                "agent": login,
                "items": len(service.items()),
                "n": args.runs,
                "repeats": args.repeats,
                "p50_ms": median(0, "p50_ms"),
                "p95_ms": median(0, "p95_ms"),
                "baseline_p50_ms": median(1, "p50_ms"),
                "baseline_p95_ms": median(1, "p95_ms"),
                "ratio_p95": round(median(0, "p95_ms") / median(1, "p95_ms"), 2),
            },
            args.json,
        )
    engine.dispose()


if __name__ == "__main__":
    main()
