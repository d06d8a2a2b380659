"""The change bus: a commit in another process reaches this one's feed as `Changes`.

Writes run in a separate Python process through the real services (as another
agent's Rapport would), the feed runs on the qasync loop with SQL on the GUI thread
forbidden. PostgreSQL must deliver within 1 s of the commit; SQLite within its poll
interval plus a margin for a shared machine.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from app.change_feed import (
    ChangeFeed,
    PostgresChangeFeed,
    SqliteChangeFeed,
    UnreadableChange,
    change_feed_for,
    parse_payload,
)
from app.changes import Change, Changes, Entity
from models.database import make_engine
from models.seed import seed_database
from tests.conftest import LoopRunner

ROOT = Path(__file__).resolve().parent.parent
POLL = 0.25
SQLITE_MARGIN = 0.5  # a loaded 2-core machine delays a poll by tens of ms, now and then more
PG_LIMIT = 1.0

# Every table a view shows, and the triggers migrations 0009 and 0010 give it. A table rebuilt
# by a later batch migration on SQLite loses its triggers: this list notices.
WATCHED = (
    "customers",
    "customer_phones",
    "customer_emails",
    "customer_addresses",
    "contact_preferences",
    "key_dates",
    "customer_relations",
    "customer_notes",
    "interactions",
    "tasks",
    "cases",
    "case_events",
    "commitments",
    "orders",
    "order_lines",
    "shipments",
    "feedback",  # 0010
    "case_presence",  # 0010
    "override_requests",  # 0011: a supervisor's queue, an agent's waiting panel
    "concessions",  # 0011
)

# Another agent's Rapport, reduced to the service call: prints what it wrote and the
# monotonic time (shared by all processes of the machine) right after the commit.
WRITER = """
import dataclasses, json, sys, time
from app.bootstrap import build_services
from app.config import load_settings
from app.operations import customers as ops
from models.database import make_engine

url, action, customer = sys.argv[1], sys.argv[2], int(sys.argv[3])
services = build_services(load_settings(), make_engine(url))
if action == "note":
    written = ops.add_note(services, customer, sys.argv[4], None).value.id
else:
    saved = services.contacts.load(customer)
    details = dataclasses.replace(saved.details, first_name=sys.argv[4])
    written = ops.save_contact(services, customer, saved.version, details).value.customer_id
print(json.dumps({"id": written, "committed": time.monotonic()}), flush=True)
"""

NOTE_TEXT = "Mrs Quimby called about parcel 4471, phone +1 415 555 0134"


def write_elsewhere(engine: Engine, action: str, customer: int, value: str) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            WRITER,
            engine.url.render_as_string(hide_password=False),
            action,
            str(customer),
            value,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


class Recorder:
    """The feed's callbacks: what arrived (with when), and every status."""

    def __init__(self) -> None:
        self.changes: list[tuple[float, Changes]] = []
        self.statuses: list[tuple[str, str]] = []

    def on_changes(self, changes: Changes) -> None:
        self.changes.append((time.monotonic(), changes))

    def on_status(self, status: str, detail: str) -> None:
        self.statuses.append((status, detail))

    def everything_count(self) -> int:
        return sum(1 for _at, c in self.changes if c.everything)

    def listed(self) -> list[tuple[float, Changes]]:
        return [(at, c) for at, c in self.changes if not c.everything]


async def until(predicate: Callable[[], bool], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


def feed_for(engine: Engine, recorder: Recorder) -> ChangeFeed:
    feed = change_feed_for(engine, recorder.on_status, poll_interval=POLL)
    assert feed is not None
    return feed


def _seeded(engine: Engine, gui_sql_guard: Any) -> Engine:
    """The story customers (ids 1-5); SQL on the GUI thread fails the test from here on."""
    seed_database(engine, 0, seed=2)
    gui_sql_guard.attach(engine)
    return engine


@pytest.fixture
def seeded(engine: Engine, gui_sql_guard: Any) -> Engine:
    return _seeded(engine, gui_sql_guard)


@pytest.fixture
def seeded_pg(pg_engine: Engine, gui_sql_guard: Any) -> Engine:
    return _seeded(pg_engine, gui_sql_guard)


async def started(feed: ChangeFeed, recorder: Recorder) -> None:
    feed.start(recorder.on_changes)
    # Connected, and the first "re-query everything" delivered.
    await until(lambda: recorder.everything_count() == 1)
    assert feed.status == "connected"


def limit_for(engine: Engine) -> float:
    return PG_LIMIT if engine.dialect.name == "postgresql" else POLL + SQLITE_MARGIN


# -- payloads ------------------------------------------------------------------------


def test_payloads_read_as_changes() -> None:
    assert parse_payload("note:123:45") == Changes.of(Change(Entity.NOTE, 123, 45))
    assert parse_payload("task:7:") == Changes.of(Change(Entity.TASK, 7, None))
    assert parse_payload("*") == Changes.all()
    for garbage in ("x", "", "note:1", "note:1:2:3", "note:a:1", "note:-1:2", "memo:1:2"):
        with pytest.raises(UnreadableChange):
            parse_payload(garbage)
    with pytest.raises(UnreadableChange):
        parse_payload("note:\u0661:2")  # an Arabic-Indic one: a digit, not an id


def test_an_in_memory_database_has_no_feed() -> None:
    engine = make_engine("sqlite://")
    assert change_feed_for(engine) is None
    engine.dispose()


def test_feeds_for_each_database(sqlite_engine: Engine, pg_engine: Engine) -> None:
    sqlite_feed = change_feed_for(sqlite_engine, poll_interval=0.1)
    assert isinstance(sqlite_feed, SqliteChangeFeed) and sqlite_feed.poll_interval == 0.1
    assert str(sqlite_feed.path) == sqlite_engine.url.database
    pg_feed = change_feed_for(pg_engine)
    assert isinstance(pg_feed, PostgresChangeFeed)
    url = pg_engine.url
    assert pg_feed.describe() == f"PostgreSQL {url.username}@{url.host}/{url.database}"


# -- the triggers --------------------------------------------------------------------


def test_every_table_views_show_announces_its_changes(engine: Engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            found = {
                (table, name)
                for table, name in conn.execute(
                    text(
                        "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c "
                        "ON c.oid = t.tgrelid WHERE t.tgname LIKE 'rapport_changes_%'"
                    )
                )
            }
            expected = {
                (table, f"rapport_changes_{event}")
                for table in WATCHED
                for event in ("insert", "update", "delete")
            }
        else:
            found = {
                (table, name)
                for table, name in conn.execute(
                    text(
                        "SELECT tbl_name, name FROM sqlite_master "
                        "WHERE type = 'trigger' AND name LIKE 'change_log_%'"
                    )
                )
            }
            expected = {
                (table, f"change_log_{table}_{event}")
                for table in WATCHED
                for event in ("insert", "update", "delete")
            } | {("change_log", "change_log_prune")}
    assert found == expected


def test_a_note_announces_its_kind_and_ids_only(pg_engine: Engine) -> None:
    seed_database(pg_engine, 0, seed=2)
    url = pg_engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute("LISTEN rapport_changes")
        written = write_elsewhere(pg_engine, "note", 3, NOTE_TEXT)
        payloads = [n.payload for n in listener.notifies(timeout=1.0)]
    # Exactly the kind and the ids: no text of the note, no name, no number.
    assert payloads == [f"note:{written['id']}:3"]


def test_a_note_logs_its_kind_and_ids_only_on_sqlite(sqlite_engine: Engine) -> None:
    seed_database(sqlite_engine, 0, seed=2)
    with sqlite_engine.connect() as conn:
        last = conn.scalar(text("SELECT max(seq) FROM change_log"))
    written = write_elsewhere(sqlite_engine, "note", 3, NOTE_TEXT)
    with sqlite_engine.connect() as conn:
        columns = [row[1] for row in conn.execute(text("PRAGMA table_info(change_log)"))]
        rows = conn.execute(
            text("SELECT entity, entity_id, customer_id FROM change_log WHERE seq > :last"),
            {"last": last},
        ).all()
    assert columns == ["seq", "entity", "entity_id", "customer_id", "at"]
    assert [tuple(r) for r in rows] == [("note", written["id"], 3)]


def test_a_bulk_statement_announces_everything_once(pg_engine: Engine) -> None:
    seed_database(pg_engine, 0, seed=2)
    url = pg_engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    insert_notes = (
        "INSERT INTO customer_notes (customer_id, body, pinned, created_at, version) "
        "SELECT 1 + mod(g, 5), 'bulk', false, now(), 1 FROM generate_series(1, %s) AS g"
    )
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute("LISTEN rapport_changes")
        with psycopg.connect(url, autocommit=True) as writer:
            writer.execute(insert_notes, (1001,))
            bulk = [n.payload for n in listener.notifies(timeout=0.5)]
            writer.execute(insert_notes, (3,))
            few = [n.payload for n in listener.notifies(timeout=0.5)]
    assert bulk == ["*"]
    assert len(few) == 3 and all(p.startswith("note:") for p in few)


def test_the_seeder_logs_one_everything_per_chunk_on_sqlite(sqlite_engine: Engine) -> None:
    def triggers() -> list[tuple[str, str]]:
        with sqlite_engine.connect() as conn:
            return [
                (name, sql)
                for name, sql in conn.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
                )
            ]

    before = triggers()
    seed_database(sqlite_engine, 30, seed=2)
    with sqlite_engine.connect() as conn:
        entities = set(conn.scalars(text("SELECT entity FROM change_log")))
    assert entities == {"*"}
    assert triggers() == before  # put back as they were


def test_the_sqlite_log_keeps_its_last_ten_thousand_changes(sqlite_engine: Engine) -> None:
    seed_database(sqlite_engine, 0, seed=2)
    with sqlite_engine.begin() as conn:
        for _ in range(12):
            conn.execute(
                text(
                    "INSERT INTO customer_notes (customer_id, body, pinned, created_at, version) "
                    "SELECT 1, 'bulk', 0, '2026-12-02 10:00:00', 1 "
                    "FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                    "WHERE i < 1000) SELECT i FROM n)"
                )
            )
    with sqlite_engine.connect() as conn:
        count, low, high = conn.execute(
            text("SELECT count(*), min(seq), max(seq) FROM change_log")
        ).one()
    assert 10_000 <= count <= 11_000
    assert high - low + 1 == count


# -- the feed ------------------------------------------------------------------------


def test_a_note_saved_in_another_process_reaches_the_feed(
    seeded: Engine, aloop: LoopRunner
) -> None:
    recorder = Recorder()
    feed = feed_for(seeded, recorder)

    async def scenario() -> None:
        await started(feed, recorder)
        try:
            written = await asyncio.to_thread(write_elsewhere, seeded, "note", 3, NOTE_TEXT)
            await until(lambda: bool(recorder.listed()), timeout=5)
        finally:
            await feed.stop()
        arrived, changes = recorder.listed()[0]
        assert changes == Changes.of(Change(Entity.NOTE, written["id"], 3))
        assert arrived - written["committed"] < limit_for(seeded)

    aloop.run(scenario())
    assert recorder.statuses[-1] == ("disconnected", "stopped")


def test_a_contact_saved_in_another_process_reaches_the_feed_once(
    seeded: Engine, aloop: LoopRunner
) -> None:
    recorder = Recorder()
    feed = feed_for(seeded, recorder)

    async def scenario() -> None:
        await started(feed, recorder)
        try:
            written = await asyncio.to_thread(write_elsewhere, seeded, "contact", 2, "Renamed")
            await until(lambda: bool(recorder.listed()), timeout=5)
            await asyncio.sleep(POLL * 2)  # anything else would have arrived by now
        finally:
            await feed.stop()
        # The customer row, its phones and e-mails: one change, the customer's.
        assert [c for _at, c in recorder.listed()] == [Changes.of(Change(Entity.CUSTOMER, 2, 2))]
        assert recorder.listed()[0][0] - written["committed"] < limit_for(seeded)

    aloop.run(scenario())


def test_the_listener_reconnects_after_its_backend_is_killed(
    seeded_pg: Engine, aloop: LoopRunner
) -> None:
    seeded = seeded_pg
    recorder = Recorder()
    feed = feed_for(seeded, recorder)
    assert isinstance(feed, PostgresChangeFeed)

    def kill(pid: int) -> None:
        with seeded.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    async def scenario() -> None:
        await started(feed, recorder)
        try:
            first = feed.backend_pid
            assert first is not None
            await asyncio.to_thread(kill, first)
            # Lost, then back (after the first backoff, 0.5 s): views are told to re-query.
            await until(lambda: recorder.everything_count() == 2, timeout=10)
            assert feed.status == "connected" and feed.backend_pid != first
            written = await asyncio.to_thread(write_elsewhere, seeded, "note", 4, "After")
            await until(lambda: bool(recorder.listed()), timeout=5)
        finally:
            await feed.stop()
        assert recorder.listed()[0][1] == Changes.of(Change(Entity.NOTE, written["id"], 4))

    aloop.run(scenario())
    statuses = [status for status, _detail in recorder.statuses]
    assert statuses[:6] == [
        "connecting",
        "connected",
        "disconnected",
        "connecting",
        "connected",
        "disconnected",
    ]
    assert "retrying in 0.5 s" in recorder.statuses[2][1]


def test_an_unreadable_change_is_skipped(
    seeded: Engine, aloop: LoopRunner, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    feed = feed_for(seeded, recorder)

    def garbage() -> None:
        with seeded.begin() as conn:
            if seeded.dialect.name == "postgresql":
                conn.exec_driver_sql("NOTIFY rapport_changes, 'x'")
                conn.exec_driver_sql("NOTIFY rapport_changes, 'note:1:secret name'")
            else:
                conn.exec_driver_sql("INSERT INTO change_log (entity, entity_id) VALUES ('x', 1)")

    async def scenario() -> None:
        await started(feed, recorder)
        try:
            await asyncio.to_thread(garbage)
            written = await asyncio.to_thread(write_elsewhere, seeded, "note", 5, "Fine")
            await until(lambda: bool(recorder.listed()), timeout=5)
            assert feed.status == "connected"
        finally:
            await feed.stop()
        assert recorder.listed()[-1][1] == Changes.of(Change(Entity.NOTE, written["id"], 5))
        assert recorder.everything_count() == 1  # no reconnect: the feed carried on

    with caplog.at_level(logging.WARNING, logger="app.change_feed"):
        aloop.run(scenario())
    skipped = [r.getMessage() for r in caplog.records if "unreadable change" in r.getMessage()]
    assert skipped
    assert not any("secret" in message for message in skipped)


def test_a_feed_that_fell_behind_the_pruned_log_re_queries_everything(
    sqlite_engine: Engine, aloop: LoopRunner
) -> None:
    seed_database(sqlite_engine, 0, seed=2)
    recorder = Recorder()
    feed = feed_for(sqlite_engine, recorder)

    def many_notes() -> None:
        with sqlite_engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO customer_notes (customer_id, body, pinned, created_at, version) "
                    "SELECT 1, 'bulk', 0, '2026-12-02 10:00:00', 1 "
                    "FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                    "WHERE i < 12000) SELECT i FROM n)"
                )
            )

    async def scenario() -> None:
        await started(feed, recorder)
        try:
            await asyncio.to_thread(many_notes)
            await until(lambda: recorder.everything_count() == 2, timeout=5)
        finally:
            await feed.stop()
        assert not recorder.listed()

    aloop.run(scenario())


def test_behind_pgbouncer_the_feed_listens_where_listen_url_says() -> None:
    """db_url through PgBouncer (transaction pooling drops LISTEN): the feed connects to
    listen_url's host, port and database, as db_url's login."""
    from app.change_feed import PostgresChangeFeed, change_feed_for
    from models.database import make_engine

    engine = make_engine("postgresql://agent07@pgbouncer.example:6432/rapport")
    try:
        feed = change_feed_for(engine, listen_url="postgresql://db.example:5432/rapport_live")
        assert isinstance(feed, PostgresChangeFeed)
        assert feed.describe() == "PostgreSQL agent07@db.example/rapport_live"
        assert feed._connect_args["port"] == 5432  # what it will dial
        plain = change_feed_for(engine)
        assert plain is not None and plain.describe() == (
            "PostgreSQL agent07@pgbouncer.example/rapport"
        )
        with pytest.raises(ValueError, match="listen_url must be"):
            change_feed_for(engine, listen_url="sqlite:///x.db")
    finally:
        engine.dispose()
