"""bench.change_bus: from a commit in one process to the `Changes` record in another.

A writer process (this module with `--writer`) saves notes, one at a time when
asked, and reports the monotonic time (one clock for every process of the machine)
right after each commit. Two ways, in alternating blocks of BLOCK notes, so that
both see the same load on a shared machine:

- the app: the `add_note` operation through `build_services`; this process runs
  the change feed (app/change_feed.py) on a qasync loop, as the app does, and times
  each note's arrival as a `Changes` record at the feed's callback;
- the raw baseline, same transaction mode (one commit per note): the writer inserts
  the row with the raw driver (psycopg 3 / sqlite3) and commits, the triggers of
  migration 0009 announce it; this process receives it on a plain driver connection
  on a thread of its own, no asyncio, no batching: on PostgreSQL `LISTEN` and
  `conn.notifies()`, stamped as each notification arrives; on SQLite a poll of
  `PRAGMA data_version` every poll interval, then `change_log` past the last seq.

Only one receiving end runs at a time (each block opens its own), so neither wakes
for the other's notes. Before each note the measuring process waits a random part
of the poll interval, so the samples fall anywhere in SQLite's poll cycle rather
than always at the same phase; the app's i-th note and the raw i-th note wait the
same time. `baseline_*` are the raw figures, `ratio_p50` and
`ratio_p95` the app's over them.

Targets (issue 10): p95 <= 100 ms on PostgreSQL; on SQLite <= poll interval + 50 ms.
Writes 2 x (SAMPLES + WARMUP) notes to the database.

    QT_QPA_PLATFORM=offscreen python -m bench.change_bus --db URL --size 20000 --json
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from sqlalchemy import Engine, func, select

from bench.common import backend_name, emit, parser, summary, with_baseline

SAMPLES = 200
WARMUP = 5
# Notes per block; app and raw blocks alternate, each with its receiving end freshly
# opened, so a burst of load on the shared machine falls on both.
BLOCK = 20
ARRIVAL_TIMEOUT_S = 5.0
PG_TARGET_P95_MS = 100.0
SQLITE_MARGIN_MS = 50.0
NOTE_BODY = "Change bus benchmark note"
# What the triggers of migration 0009 say about a note, on both backends.
NOTE_CHANGE = "note:{id}:{customer}"


# -- the writer process ----------------------------------------------------------------


def _now() -> dt.datetime:
    """created_at as the service writes it (UTC; SQLAlchemy stores it naive)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def raw_insert(engine: Engine) -> Callable[[int], int]:
    """A note inserted and committed on the raw driver, one transaction per note as
    the operation's; returns its id."""
    if backend_name(engine) == "postgresql":
        import psycopg

        _args, params = engine.dialect.create_connect_args(engine.url)
        pg = psycopg.connect(**params)

        def insert_pg(customer: int) -> int:
            row = pg.execute(
                "INSERT INTO customer_notes "
                "(customer_id, author_id, body, pinned, created_at, client_key, version) "
                "VALUES (%s, NULL, %s, false, %s, NULL, 1) RETURNING id",
                (customer, NOTE_BODY, _now()),
            ).fetchone()
            pg.commit()
            assert row is not None
            return int(row[0])

        return insert_pg
    assert engine.url.database
    # The engine's pragmas (models/database.py), so the commit costs the same.
    lite = sqlite3.connect(engine.url.database, timeout=5)
    for pragma in ("synchronous=NORMAL", "busy_timeout=5000", "foreign_keys=ON"):
        lite.execute(f"PRAGMA {pragma}")

    def insert_sqlite(customer: int) -> int:
        cursor = lite.execute(
            "INSERT INTO customer_notes "
            "(customer_id, author_id, body, pinned, created_at, client_key, version) "
            "VALUES (?, NULL, ?, 0, ?, NULL, 1)",
            (customer, NOTE_BODY, _now().isoformat(" ", "microseconds")),
        )
        lite.commit()
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    return insert_sqlite


def writer(url: str) -> int:
    """The other agent: reads `app|raw customer_id` lines, saves a note each way, and
    answers with its id and timing."""
    from app.bootstrap import build_services
    from app.config import load_settings
    from app.operations.customers import add_note
    from models.database import make_engine

    engine = make_engine(url)
    services = build_services(load_settings(), engine)
    insert = raw_insert(engine)
    print("ready", flush=True)
    for line in sys.stdin:
        how, customer_text = line.split()
        customer = int(customer_text)
        started = time.monotonic()
        if how == "app":
            note_id = add_note(services, customer, NOTE_BODY, None).value.id
        else:
            note_id = insert(customer)
        committed = time.monotonic()
        print(json.dumps({"id": note_id, "started": started, "committed": committed}), flush=True)
    engine.dispose()
    return 0


class Writer:
    """The writer process, seen from the measuring one."""

    def __init__(self, url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.change_bus", "--writer", "--db", url, "--size", "0"],
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

    def write(self, how: str, customer: int) -> dict[str, Any]:
        self._stdin.write(f"{how} {customer}\n")
        self._stdin.flush()
        answer: dict[str, Any] = json.loads(self._stdout.readline())
        return answer

    def close(self) -> None:
        self._stdin.close()
        self.process.wait(timeout=30)


# -- the raw receiving end -------------------------------------------------------------


class RawListener:
    """The baseline's receiving end: a plain driver connection on a thread of its own,
    stamping each announcement (`note:id:customer`) when it arrives."""

    def __init__(self) -> None:
        self._arrivals: dict[str, float] = {}
        self._arrived = threading.Condition()
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._ready.clear()
        self._thread = threading.Thread(target=self._guarded, name="raw-listener", daemon=True)
        self._thread.start()
        if not self._ready.wait(ARRIVAL_TIMEOUT_S) or self._failure is not None:
            raise SystemExit(f"the raw listener did not start: {self._failure!r}")

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def wait_for(self, key: str, timeout: float) -> float | None:
        with self._arrived:
            self._arrived.wait_for(lambda: key in self._arrivals, timeout)
            return self._arrivals.get(key)

    def _arrive(self, keys: list[str]) -> None:
        now = time.monotonic()
        with self._arrived:
            for key in keys:
                self._arrivals.setdefault(key, now)
            self._arrived.notify_all()

    def _guarded(self) -> None:
        try:
            self._listen()
        except BaseException as exc:  # reported by start(), or as a note that never arrives
            self._failure = exc
            self._ready.set()

    def _listen(self) -> None:
        raise NotImplementedError


class RawPostgresListener(RawListener):
    """`LISTEN rapport_changes` in autocommit; each notification stamped as it comes."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        _args, self._params = engine.dialect.create_connect_args(engine.url)

    def _listen(self) -> None:
        import psycopg

        with psycopg.connect(**self._params, autocommit=True) as conn:
            conn.execute("LISTEN rapport_changes")
            self._ready.set()
            while not self._stopping.is_set():
                # The timeout only lets a stop be seen; each one is yielded on arrival.
                for notification in conn.notifies(timeout=0.1):
                    self._arrive([notification.payload])


class RawSqliteListener(RawListener):
    """`PRAGMA data_version` every poll interval; when it moved, `change_log` past the
    last seq seen (what app/change_feed.py reads, without the feed around it)."""

    def __init__(self, engine: Engine, poll_interval: float) -> None:
        super().__init__()
        assert engine.url.database
        self._path = engine.url.database
        self._poll_interval = poll_interval

    def _listen(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, timeout=5)
        try:
            version = conn.execute("PRAGMA data_version").fetchall()[0][0]
            last = conn.execute("SELECT coalesce(max(seq), 0) FROM change_log").fetchall()[0][0]
            self._ready.set()
            while not self._stopping.is_set():
                time.sleep(self._poll_interval)
                now_version = conn.execute("PRAGMA data_version").fetchall()[0][0]
                if now_version == version:
                    continue
                version = now_version
                rows = conn.execute(
                    "SELECT seq, entity, entity_id, customer_id FROM change_log "
                    "WHERE seq > ? ORDER BY seq",
                    (last,),
                ).fetchall()
                if rows:
                    last = rows[-1][0]
                    self._arrive([f"{e}:{i}:{'' if c is None else c}" for _s, e, i, c in rows])
        finally:
            conn.close()


# -- the measurement -------------------------------------------------------------------


def customer_ids(engine: Engine, count: int) -> list[int]:
    from models.people import Customer

    with engine.connect() as conn:
        low, high = conn.execute(select(func.min(Customer.id), func.max(Customer.id))).one()
    rng = random.Random(11)
    return [rng.randint(low, high) for _ in range(count)]


class Samples:
    """Latencies and write times of one way (app or raw), past its warm-up."""

    def __init__(self) -> None:
        self.seen = 0
        self.latencies: list[float] = []
        self.writes: list[float] = []

    def add(self, note: dict[str, Any], arrived: float) -> None:
        self.seen += 1
        if self.seen > WARMUP:
            self.latencies.append((arrived - note["committed"]) * 1000)
            self.writes.append((note["committed"] - note["started"]) * 1000)


def raw_block(
    listener: RawListener,
    other: Writer,
    customers: list[int],
    waits: list[float],
    samples: Samples,
) -> None:
    """One block of raw notes; runs on the loop's thread, which it blocks (no asyncio:
    the app's feed is stopped meanwhile)."""
    listener.start()
    try:
        for customer, wait in zip(customers, waits, strict=True):
            time.sleep(wait)
            note = other.write("raw", customer)
            key = NOTE_CHANGE.format(id=note["id"], customer=customer)
            arrived = listener.wait_for(key, ARRIVAL_TIMEOUT_S)
            if arrived is None:
                raise SystemExit(f"raw note {note['id']} never reached the listener")
            samples.add(note, arrived)
    finally:
        listener.stop()


async def measure(args: argparse.Namespace, engine: Engine) -> None:
    from app.change_feed import change_feed_for
    from app.changes import Change, Changes, Entity
    from bench.lookup import ensure_seeded

    loop = asyncio.get_running_loop()
    size = await loop.run_in_executor(None, ensure_seeded, engine, args.size)
    per_way = args.samples + WARMUP
    ids = await loop.run_in_executor(None, customer_ids, engine, 2 * per_way)
    arrivals: dict[Change, float] = {}
    connects = 0

    def on_changes(changes: Changes) -> None:
        nonlocal connects
        now = time.monotonic()
        connects += changes.everything
        for change in changes.items:
            arrivals.setdefault(change, now)

    feed = change_feed_for(engine, poll_interval=args.poll_interval)
    if feed is None:
        raise SystemExit("an in-memory database has no change feed")
    backend = backend_name(engine)
    listener: RawListener = (
        RawPostgresListener(engine)
        if backend == "postgresql"
        else RawSqliteListener(engine, args.poll_interval)
    )
    other = Writer(engine.url.render_as_string(hide_password=False))
    # The same waits for the app's note i and the raw note i: both sample the poll
    # cycle at the same phases, so a ratio is not a difference of random draws.
    rng = random.Random(5)
    waits = [rng.uniform(0, args.poll_interval) for _ in range(per_way)]
    app, raw = Samples(), Samples()

    async def app_block(customers: list[int], block_waits: list[float]) -> None:
        before = connects
        feed.start(on_changes)
        try:
            while connects == before:
                await asyncio.sleep(0.01)
            for customer, wait in zip(customers, block_waits, strict=True):
                await asyncio.sleep(wait)
                note = await loop.run_in_executor(None, other.write, "app", customer)
                change = Change(Entity.NOTE, note["id"], customer)
                deadline = time.monotonic() + ARRIVAL_TIMEOUT_S
                while change not in arrivals:
                    if time.monotonic() > deadline:
                        raise SystemExit(f"note {note['id']} never reached the feed")
                    await asyncio.sleep(0.001)
                app.add(note, arrivals[change])
        finally:
            await feed.stop()

    app_ids, raw_ids = ids[:per_way], ids[per_way:]
    try:
        await loop.run_in_executor(None, other.wait_ready)
        for start in range(0, per_way, BLOCK):
            block = slice(start, start + BLOCK)
            await app_block(app_ids[block], waits[block])
            raw_block(listener, other, raw_ids[block], waits[block], raw)
    finally:
        other.close()
    if backend == "postgresql":
        target = PG_TARGET_P95_MS
    else:
        target = args.poll_interval * 1000 + SQLITE_MARGIN_MS
    record: dict[str, Any] = {
        "bench": "change_bus",
        "op": "commit_to_changes",
        "backend": backend,
        "size": size,
        **summary(app.latencies),
        "min_ms": round(min(app.latencies), 3),
        "max_ms": round(max(app.latencies), 3),
        "target_p95_ms": target,
        "write_p50_ms": summary(app.writes)["p50_ms"],
        "write_p95_ms": summary(app.writes)["p95_ms"],
    }
    if backend == "sqlite":
        record["poll_interval_ms"] = args.poll_interval * 1000
    with_baseline(record, raw.latencies)
    record["ratio_p50"] = (
        round(record["p50_ms"] / record["baseline_p50_ms"], 2)
        if record["baseline_p50_ms"]
        else None
    )
    record["baseline_n"] = len(raw.latencies)
    # PostgreSQL sends NOTIFY at commit, before the writer reads the server's reply:
    # a raw arrival can come before the writer's stamp (a negative latency).
    record["baseline_min_ms"] = round(min(raw.latencies), 3)
    record["baseline_max_ms"] = round(max(raw.latencies), 3)
    record["baseline_write_p50_ms"] = summary(raw.writes)["p50_ms"]
    record["baseline_write_p95_ms"] = summary(raw.writes)["p95_ms"]
    record["block"] = BLOCK
    emit(record, args.json)


def main() -> int:
    p = parser(__doc__ or "")
    p.add_argument("--samples", type=int, default=SAMPLES, help="notes per way (app, raw)")
    p.add_argument("--poll-interval", type=float, default=0.25, help="SQLite poll, seconds")
    p.add_argument("--writer", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.writer:
        return writer(args.db)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
