"""bench.approval: an override request reaching a supervisor, and the answer reaching
the agent, across two processes, as the two desktops of S7 see it.

A writer process (this module with `--writer`) plays the other desktop: it asks for an
override as the agent (`request_override`, a goodwill gift above the agent's limit) or
decides one as the supervisor (`decide`, approve), one at a time when told, and reports
the monotonic time (one clock for every process of the machine) before the call and
after its commit. This process runs the change feed on a qasync loop as the app does:

- request -> supervisor notified: from the agent's call to the moment this process,
  woken by the change feed (Entity.OVERRIDE), has re-read the supervisor's queue
  (`approval_queue()`) and found the request in it;
- decision -> agent notified: from the supervisor's call to the moment this process,
  woken the same way, has re-read the request as the agent (`override(id)`) and seen
  it approved.

The raw baseline, same transaction mode (one commit per call), in alternating blocks:
on PostgreSQL the writer calls the same SECURITY DEFINER functions with psycopg and
this process `LISTEN`s on a plain psycopg connection and runs the same re-read query
with psycopg; on SQLite the writer inserts/updates the request row with sqlite3 and
this process polls `change_log` as the feed does. `ratio_p95` is the app's p95 over
the raw one. Targets (issue 12): p95 <= 250 ms each way on PostgreSQL; on SQLite the
feed polls every 250 ms, so <= poll interval + 100 ms.

On PostgreSQL the database needs `rapportctl db provision-roles`; this command runs it
and adds two logins (bench_agent, bench_super) when they are missing.

    QT_QPA_PLATFORM=offscreen python -m bench.approval --db URL --size 100000 --json
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from sqlalchemy import Engine, make_url, text

from bench.common import backend_name, emit, parser, summary, with_baseline

SAMPLES = 100
WARMUP = 5
BLOCK = 10
TIMEOUT_S = 5.0
PG_TARGET_P95_MS = 250.0
SQLITE_MARGIN_MS = 100.0
AGENT, SUPERVISOR = "bench_agent", "bench_super"
AMOUNT_CENTS = 9000  # a goodwill gift above an agent's limit, within a supervisor's
REASON = "Benchmark: third failed delivery"


# -- logins -----------------------------------------------------------------------------


def login_url(url: str, login: str) -> str:
    """`url` connecting as `login` (PostgreSQL); SQLite has no logins: the same file."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    plain = parsed.set(drivername="postgresql", username=login, password=None)
    return plain.render_as_string(hide_password=False)


def ensure_logins(url: str) -> None:
    """PostgreSQL: group roles, grants and the two bench logins (idempotent).
    SQLite: the two staff rows the local rules look up."""
    if make_url(url).get_backend_name() == "postgresql":
        cli = [sys.executable, "-m", "app.cli"]
        url = login_url(url, make_url(url).username or "postgres")
        subprocess.run([*cli, "db", "provision-roles", "--db", url], check=True)
        import psycopg

        for login, role in ((AGENT, "agent"), (SUPERVISOR, "supervisor")):
            with psycopg.connect(url) as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)
                ).fetchone()
            if not exists:
                subprocess.run(
                    [*cli, "user", "add", login, "--role", role, "--db", url, "--password-stdin"],
                    input="bench-password\n",
                    text=True,
                    check=True,
                )
        return
    from models.database import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        for login, role in ((AGENT, "agent"), (SUPERVISOR, "supervisor")):
            conn.execute(
                text(
                    "INSERT INTO users (login, display_name, role, active, created_at) "
                    "SELECT :login, :name, :role, 1, CURRENT_TIMESTAMP "
                    "WHERE NOT EXISTS (SELECT 1 FROM users WHERE login = :login)"
                ),
                {"login": login, "name": login.replace("_", " ").title(), "role": role},
            )
    engine.dispose()


def acting(url: str, login: str) -> Any:
    """The app's services of `login` (on PostgreSQL its own connection and session_user)."""
    from app.agent import agent_named
    from app.bootstrap import build_services
    from app.config import load_settings
    from models.database import make_engine

    engine = make_engine(login_url(url, login))
    services = build_services(load_settings(), engine)
    if services.agent.login != login:  # SQLite: no server login, act as the staff row
        with services.db.read() as session:
            agent = agent_named(session, login, services.database_identity, "bench@host")
        services = services.acting_as(agent)
    return services


# -- the writer process ------------------------------------------------------------------


def _sqlite_now(later: dt.timedelta = dt.timedelta(0)) -> str:
    moment = dt.datetime.now(dt.UTC).replace(tzinfo=None) + later
    return moment.isoformat(" ", "microseconds")


class RawCalls:
    """The baseline's writes, one commit each, on the raw driver."""

    def __init__(self, url: str) -> None:
        self.backend = make_url(url).get_backend_name()
        if self.backend == "postgresql":
            import psycopg

            self._agent = psycopg.connect(login_url(url, AGENT), prepare_threshold=None)
            self._super = psycopg.connect(login_url(url, SUPERVISOR), prepare_threshold=None)
        else:
            path = make_url(url).database
            assert path
            self._lite = sqlite3.connect(path, timeout=5)
            for pragma in ("synchronous=NORMAL", "busy_timeout=5000", "foreign_keys=ON"):
                self._lite.execute(f"PRAGMA {pragma}")
            users = dict(self._lite.execute("SELECT login, id FROM users").fetchall())
            self._agent_id, self._super_id = users[AGENT], users[SUPERVISOR]

    def request(self, customer: int, key: str) -> int:
        if self.backend == "postgresql":
            row = self._agent.execute(
                "SELECT rapport_request_override(%s, %s, 'goodwill_gift', %s, %s, 'USD', "
                "NULL, NULL, NULL, NULL, NULL)",
                (key, customer, AMOUNT_CENTS, REASON),
            ).fetchone()
            self._agent.commit()
            assert row is not None and row[0]["status"] == "pending", row
            return int(row[0]["request_id"])
        now, expires = _sqlite_now(), _sqlite_now(dt.timedelta(minutes=5))
        cursor = self._lite.execute(
            "INSERT INTO override_requests (idempotency_key, customer_id, concession_type, "
            "amount_cents, reason, requested_by_id, required_role, requested_at, status, "
            "currency, expires_at, version) VALUES (?, ?, 'goodwill_gift', ?, ?, ?, "
            "'supervisor', ?, 'pending', 'USD', ?, 1)",
            (key, customer, AMOUNT_CENTS, REASON, self._agent_id, now, expires),
        )
        self._lite.commit()
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def decide(self, request_id: int) -> None:
        if self.backend == "postgresql":
            row = self._super.execute(
                "SELECT rapport_decide_override(%s, 'approve', 'ok', NULL)", (request_id,)
            ).fetchone()
            self._super.commit()
            assert row is not None and row[0]["status"] == "approved", row
            return
        self._lite.execute(
            "INSERT INTO override_decisions (request_id, decided_by_id, approved, comment, "
            "decided_at, decision) VALUES (?, ?, 1, 'ok', ?, 'approve')",
            (request_id, self._super_id, _sqlite_now()),
        )
        self._lite.execute(
            "UPDATE override_requests SET status = 'approved', version = version + 1 WHERE id = ?",
            (request_id,),
        )
        self._lite.commit()

    def presence(self) -> None:
        if self.backend == "postgresql":
            self._super.execute("SELECT rapport_set_presence(true)")
            self._super.commit()


def writer(url: str) -> int:
    """The other desktop: reads `app|raw request CUSTOMER` or `app|raw decide ID` lines,
    makes the call, answers with the id and the times around it."""
    from app.services.authority import ConcessionAsk, new_key
    from models.enums import ConcessionType, OverrideDecisionKind

    agent, supervisor = acting(url, AGENT), acting(url, SUPERVISOR)
    raw = RawCalls(url)
    print("ready", flush=True)
    for line in sys.stdin:
        how, what, number_text = line.split()
        number = int(number_text)
        started = time.monotonic()
        if what == "presence":
            supervisor.authority.set_presence(True)
            ident = 0
        elif how == "app" and what == "request":
            ask = ConcessionAsk(number, ConcessionType.GOODWILL_GIFT, AMOUNT_CENTS, REASON)
            outcome = agent.authority.request_override(ask, new_key())
            if outcome.request_id is None:
                raise SystemExit(f"the request was not made: {outcome}")
            ident = outcome.request_id
        elif how == "app":
            outcome = supervisor.authority.decide(number, OverrideDecisionKind.APPROVE, "ok")
            if outcome.status != "approved":
                raise SystemExit(f"the decision was not made: {outcome}")
            ident = number
        elif what == "request":
            ident = raw.request(number, new_key())
        else:
            raw.decide(number)
            ident = number
        committed = time.monotonic()
        print(json.dumps({"id": ident, "started": started, "committed": committed}), flush=True)
    return 0


class Writer:
    def __init__(self, url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.approval", "--writer", "--db", url, "--size", "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._stdin: IO[str] = self.process.stdin
        self._stdout: IO[str] = self.process.stdout

    def wait_ready(self) -> None:
        if self._stdout.readline().strip() != "ready":
            raise SystemExit("the writer process did not start")

    def call(self, how: str, what: str, number: int) -> dict[str, Any]:
        self._stdin.write(f"{how} {what} {number}\n")
        self._stdin.flush()
        answer: dict[str, Any] = json.loads(self._stdout.readline())
        return answer

    def close(self) -> None:
        self._stdin.close()
        self.process.wait(timeout=30)


# -- the raw receiving end ---------------------------------------------------------------


class RawReceiver:
    """The baseline's receiving end: a plain driver connection on a thread of its own
    stamps each override announcement (LISTEN on PostgreSQL, a `change_log` poll on
    SQLite); the measuring thread then re-reads on a plain connection of its own."""

    QUEUE_SQL = "SELECT id FROM override_requests WHERE status = 'pending' AND id = {p}"
    STATUS_SQL = "SELECT status FROM override_requests WHERE id = {p}"

    def __init__(self, url: str, poll_interval: float) -> None:
        self.url = url
        self.backend = make_url(url).get_backend_name()
        self.poll_interval = poll_interval
        self._arrivals: dict[int, list[float]] = {}
        self._arrived = threading.Condition()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="raw-receiver", daemon=True)
        if self.backend == "postgresql":
            import psycopg

            self._reader: Any = psycopg.connect(login_url(url, SUPERVISOR), autocommit=True)
        else:
            path = make_url(url).database
            assert path
            self._reader = sqlite3.connect(path, isolation_level=None, timeout=5)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(TIMEOUT_S):
            raise SystemExit("the raw receiver did not start")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._reader.close()

    def read(self, kind: str, ident: int) -> bool:
        sql = self.QUEUE_SQL if kind == "request" else self.STATUS_SQL
        mark = "%s" if self.backend == "postgresql" else "?"
        row = self._reader.execute(sql.format(p=mark), (ident,)).fetchone()
        if kind == "request":
            return row is not None
        return row is not None and row[0] == "approved"

    def arrival(self, kind: str, ident: int, count: int) -> float:
        """Wait for the count-th announcement about request `ident`, then re-read until
        it shows what `kind` wants; the time it first does."""
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            with self._arrived:
                if not self._arrived.wait_for(
                    lambda wanted=count: len(self._arrivals.get(ident, ())) >= wanted,
                    max(0.0, deadline - time.monotonic()),
                ):
                    raise SystemExit(f"the raw baseline never saw {kind} {ident}")
            if self.read(kind, ident):
                return time.monotonic()
            count += 1

    def seen(self, ident: int) -> int:
        with self._arrived:
            return len(self._arrivals.get(ident, ()))

    def _arrive(self, idents: list[int]) -> None:
        now = time.monotonic()
        with self._arrived:
            for ident in idents:
                self._arrivals.setdefault(ident, []).append(now)
            self._arrived.notify_all()

    def _run(self) -> None:
        if self.backend == "postgresql":
            import psycopg

            with psycopg.connect(login_url(self.url, SUPERVISOR), autocommit=True) as listen:
                listen.execute("LISTEN rapport_changes")
                self._ready.set()
                while not self._stop.is_set():
                    for note in listen.notifies(timeout=0.1):
                        entity, ident, _customer = note.payload.split(":")
                        if entity == "override":
                            self._arrive([int(ident)])
            return
        path = make_url(self.url).database
        assert path
        conn = sqlite3.connect(path, isolation_level=None, timeout=5)
        last = conn.execute("SELECT coalesce(max(seq), 0) FROM change_log").fetchall()[0][0]
        self._ready.set()
        while not self._stop.is_set():
            time.sleep(self.poll_interval)
            rows = conn.execute(
                "SELECT seq, entity, entity_id FROM change_log WHERE seq > ? ORDER BY seq",
                (last,),
            ).fetchall()
            if rows:
                last = rows[-1][0]
                self._arrive([i for _s, e, i in rows if e == "override"])
        conn.close()


# -- the measurement ---------------------------------------------------------------------


class Way:
    """Latencies of one way (request or decision) by one route (app or raw)."""

    def __init__(self) -> None:
        self.seen = 0
        self.latencies: list[float] = []
        self.from_commit: list[float] = []

    def add(self, call: dict[str, Any], arrived: float) -> None:
        self.seen += 1
        if self.seen > WARMUP:
            self.latencies.append((arrived - call["started"]) * 1000)
            self.from_commit.append((arrived - call["committed"]) * 1000)


async def measure(args: argparse.Namespace, engine: Engine) -> None:
    from app.change_feed import change_feed_for
    from app.changes import Change, Changes, Entity
    from bench.lookup import ensure_seeded

    loop = asyncio.get_running_loop()
    url = engine.url.render_as_string(hide_password=False)
    size = await loop.run_in_executor(None, ensure_seeded, engine, args.size)
    await loop.run_in_executor(None, ensure_logins, url)
    agent = await loop.run_in_executor(None, acting, url, AGENT)
    supervisor = await loop.run_in_executor(None, acting, url, SUPERVISOR)
    backend = backend_name(engine)
    rng = random.Random(12)
    with engine.connect() as conn:
        low, high = conn.execute(text("SELECT min(id), max(id) FROM customers")).one()
    per_way = args.samples + WARMUP
    customers = [rng.randint(low, high) for _ in range(2 * per_way)]
    waits = [rng.uniform(0, args.poll_interval) for _ in range(per_way)]

    arrivals: dict[Change, list[float]] = {}
    connects = 0

    def on_changes(changes: Changes) -> None:
        nonlocal connects
        now = time.monotonic()
        connects += changes.everything
        for change in changes.items:
            arrivals.setdefault(change, []).append(now)

    feed = change_feed_for(engine, poll_interval=args.poll_interval)
    if feed is None:
        raise SystemExit("an in-memory database has no change feed")
    other = Writer(url)
    ways = {name: Way() for name in ("app_request", "app_decide", "raw_request", "raw_decide")}

    async def woken(change: Change, count: int) -> None:
        deadline = time.monotonic() + TIMEOUT_S
        while len(arrivals.get(change, ())) < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"{change} never reached the feed")
            await asyncio.sleep(0.001)

    async def until(read: Callable[[], bool], change: Change, count: int) -> float:
        """Wait for the feed's count-th wake-up about `change`, then re-read (off the
        loop's thread, as the UI does) until `read` holds; the time it first holds."""
        while True:
            await woken(change, count)
            if await loop.run_in_executor(None, read):
                return time.monotonic()
            count += 1

    async def app_block(block: range) -> None:
        before = connects
        feed.start(on_changes)
        try:
            while connects == before:
                await asyncio.sleep(0.01)
            await loop.run_in_executor(None, other.call, "app", "presence", 0)
            for i in block:
                await asyncio.sleep(waits[i])
                call = await loop.run_in_executor(None, other.call, "app", "request", customers[i])
                change = Change(Entity.OVERRIDE, call["id"], customers[i])
                request_id = call["id"]

                def in_queue(request_id: int = request_id) -> bool:
                    return any(r.id == request_id for r in supervisor.authority.approval_queue())

                ways["app_request"].add(call, await until(in_queue, change, 1))
                await asyncio.sleep(waits[i])
                seen = len(arrivals.get(change, ()))
                call = await loop.run_in_executor(None, other.call, "app", "decide", request_id)

                def answered(request_id: int = request_id) -> bool:
                    view = agent.authority.override(request_id)
                    return view is not None and view.status == "approved"

                ways["app_decide"].add(call, await until(answered, change, seen + 1))
        finally:
            await feed.stop()

    def raw_block(block: range) -> None:
        receiver = RawReceiver(url, args.poll_interval)
        receiver.start()
        try:
            other.call("app", "presence", 0)
            for i in block:
                time.sleep(waits[i])
                call = other.call("raw", "request", customers[per_way + i])
                ways["raw_request"].add(call, receiver.arrival("request", call["id"], 1))
                time.sleep(waits[i])
                seen = receiver.seen(call["id"])
                decided = other.call("raw", "decide", call["id"])
                ways["raw_decide"].add(decided, receiver.arrival("decide", call["id"], seen + 1))
        finally:
            receiver.stop()

    try:
        await loop.run_in_executor(None, other.wait_ready)
        for start in range(0, per_way, BLOCK):
            block = range(start, min(start + BLOCK, per_way))
            await app_block(block)
            await loop.run_in_executor(None, raw_block, block)
    finally:
        other.close()
        agent.close()
        supervisor.close()
    target = (
        PG_TARGET_P95_MS
        if backend == "postgresql"
        else args.poll_interval * 1000 + SQLITE_MARGIN_MS
    )
    for way, op in (("request", "request_to_supervisor"), ("decide", "decision_to_agent")):
        app, raw = ways[f"app_{way}"], ways[f"raw_{way}"]
        record: dict[str, Any] = {
            "bench": "approval",
            "op": op,
            "backend": backend,
            "size": size,
            **summary(app.latencies),
            "target_p95_ms": target,
            "from_commit_p50_ms": summary(app.from_commit)["p50_ms"],
            "from_commit_p95_ms": summary(app.from_commit)["p95_ms"],
        }
        with_baseline(record, raw.latencies)
        record["baseline_n"] = len(raw.latencies)
        if backend == "sqlite":
            record["poll_interval_ms"] = args.poll_interval * 1000
        emit(record, args.json)


def main() -> None:
    if "--writer" in sys.argv:
        p = argparse.ArgumentParser()
        p.add_argument("--writer", action="store_true")
        p.add_argument("--db", required=True)
        p.add_argument("--size", type=int, default=0)
        sys.exit(writer(p.parse_args().db))
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    p = parser(__doc__.splitlines()[0] if __doc__ else "bench.approval")
    p.add_argument("--samples", type=int, default=SAMPLES)
    p.add_argument("--poll-interval", type=float, default=0.25)
    args = p.parse_args()
    import qasync
    from PySide6.QtWidgets import QApplication

    from models.database import make_engine

    app = QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    engine = make_engine(args.db)
    with loop:
        loop.run_until_complete(measure(args, engine))
    engine.dispose()


if __name__ == "__main__":
    main()
