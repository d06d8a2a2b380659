"""The change bus's receiving end: what any agent commits, as `Changes`, on the loop.

Migration 0009 makes every commit that touches what views show announce itself,
`entity:id:customer_id` (`note:123:45`) or `*` for "too much to list, re-query
everything". A feed turns those announcements into `Changes` records and hands them
to a callback on the asyncio (qasync) loop, where views pick what they show.

- PostgreSQL (`PostgresChangeFeed`): one dedicated connection, outside the engine's
  pool, in autocommit, `LISTEN rapport_changes`. NOTIFY arrives at commit; what
  arrives within `batch_window` of the first becomes one record.
- SQLite (`SqliteChangeFeed`): a poll every `poll_interval` on a connection of its
  own: `PRAGMA data_version` (which moves when another connection committed, at
  the cost of reading shared memory) and only then `change_log` rows past the last
  one seen.

Both feeds also deliver what this very process committed: our own operations also
publish their own `Changes`, and a view told twice re-queries twice, harmlessly.

Built like the telephony adapters: `run()` is the feed's own task; it connects,
reports its status (`connecting`, `connected`, `disconnected`, `error`), and
reconnects with backoff. Nothing is replayed after a reconnect, so every
(re)connect, the first included, delivers `Changes.all()`: views re-query what
they show. Every database call runs on the feed's worker thread
(`rapport-changes`), never on the GUI thread. An announcement the feed cannot read
is logged (its length, not its text) and skipped.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine

from app.changes import Change, Changes, Entity
from app.telephony.adapter import Backoff, Status, StatusCallback, StatusReporter

log = logging.getLogger(__name__)

CHANNEL = "rapport_changes"
EVERYTHING = "*"
POLL_INTERVAL = 0.25
# More new rows than this in one SQLite poll: re-query everything rather than list them.
MAX_ROWS_PER_POLL = 2000

Deliver = Callable[[Changes], None]
T = TypeVar("T")


class UnreadableChange(ValueError):
    """An announcement that is not `entity:id:customer_id` or `*`."""


def parse_payload(payload: str) -> Changes:
    """`note:123:45` -> that change; `task:7:` -> no customer; `*` -> everything."""
    if payload == EVERYTHING:
        return Changes.all()
    parts = payload.split(":")
    if len(parts) != 3:
        raise UnreadableChange("expected entity:id:customer_id")
    entity, ident, customer = parts
    try:
        return Changes.of(
            Change(Entity(entity), _positive(ident), _positive(customer) if customer else None)
        )
    except ValueError as exc:
        raise UnreadableChange(str(exc)) from None


def _positive(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        raise ValueError("an id is a positive integer")
    return int(text)


def _readable(payloads: Iterable[str]) -> Changes:
    changes = Changes()
    for payload in payloads:
        try:
            changes |= parse_payload(payload)
        except UnreadableChange as exc:
            # Its length only: whoever sent it may have put anything in it.
            log.warning("skipped an unreadable change (%d characters): %s", len(payload), exc)
    return changes


class ChangeFeed(StatusReporter):
    """What other agents commit, delivered to a callback on the asyncio loop.

    `start(on_changes)` runs the feed as a task of the running loop, `await stop()`
    ends it; or run `await feed.run(on_changes)` as a task of your own. Subclasses
    supply `_open`, `_read` and `_close`, run on the feed's worker thread.
    """

    # How long to wait on the loop between two reads (SQLite's poll interval).
    pause = 0.0

    def __init__(self, on_status: StatusCallback | None = None) -> None:
        super().__init__(on_status)
        self.backoff = Backoff()
        self._task: asyncio.Task[None] | None = None
        self._worker: threading.Thread | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._abandoned = False  # stopped by `stop_now`: the task's ends do nothing more

    # -- for the UI ----------------------------------------------------------------------

    def start(self, on_changes: Deliver) -> None:
        if self._task is not None and not self._task.done():
            raise RuntimeError("the change feed is already running")
        self._task = asyncio.get_running_loop().create_task(self.run(on_changes))

    async def stop(self) -> None:
        """End the task, and wait for the worker to finish its call in progress and
        close the connection: a read at most `read_timeout` (PostgreSQL) or one poll, a
        connection attempt at most its `connect_timeout`. The GUI stays responsive."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    def stop_now(self) -> None:
        """End the feed without the loop (at quit, when it no longer turns): cancel the
        task, close the connection on the worker after its read in progress, join it."""
        self._abandoned = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.submit(self._guarded, self._close)
            executor.shutdown(wait=True)

    def describe(self) -> str:
        """Where the feed listens, for the status indicator (never a password)."""
        raise NotImplementedError

    # -- the task ------------------------------------------------------------------------

    async def run(self, on_changes: Deliver) -> None:
        executor = ThreadPoolExecutor(1, thread_name_prefix="rapport-changes")
        self._executor = executor
        self._worker = None
        try:
            while True:
                self._set_status("connecting", self.describe())
                status, detail = await self._session(executor, on_changes)
                delay = self.backoff.next_delay()
                self._set_status(status, f"{detail}; retrying in {delay:g} s")
                await asyncio.sleep(delay)
        finally:
            # The worker finishes the read in progress (at most a read timeout), then
            # the close queued behind it; waiting here keeps no thread behind.
            executor.shutdown(wait=True)
            if self._executor is executor:
                self._executor = None
            if not self._abandoned:
                self._set_status("disconnected", "stopped")

    async def _session(
        self, executor: ThreadPoolExecutor, on_changes: Deliver
    ) -> tuple[Status, str]:
        """One connection, from open to loss; returns the status it ended in, and why."""
        try:
            await self._on_worker(executor, self._open)
            self.backoff.reset()
            self._set_status("connected", self.describe())
            _deliver(on_changes, Changes.all())
            while True:
                changes = await self._on_worker(executor, self._read)
                if changes:
                    _deliver(on_changes, changes)
                if self.pause:
                    await asyncio.sleep(self.pause)
        except Exception as exc:  # a lost connection, or a fault: retry either way
            detail = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
            if self._connection_error(exc):
                return "disconnected", detail
            log.exception("change feed failed")
            return "error", detail
        finally:
            try:
                if not self._abandoned:  # else `stop_now` closed it
                    await asyncio.shield(self._on_worker(executor, self._close))
            except Exception:
                log.exception("closing the change feed's connection failed")

    async def _on_worker(self, executor: ThreadPoolExecutor, call: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(executor, self._guarded, call)

    def _guarded(self, call: Callable[[], T]) -> T:
        # The worker is the one thread that touches the connection (sqlite3 checks it too).
        current = threading.current_thread()
        if current is threading.main_thread() or self._worker not in (None, current):
            raise RuntimeError("the change feed's database calls belong on its worker")
        self._worker = current
        return call()

    # -- per database, on the worker thread ----------------------------------------------

    def _open(self) -> None:
        raise NotImplementedError

    def _read(self) -> Changes:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    def _connection_error(self, exc: Exception) -> bool:
        """Whether `exc` means "the connection is gone" (else it is logged as a fault)."""
        raise NotImplementedError


def _deliver(on_changes: Deliver, changes: Changes) -> None:
    try:
        on_changes(changes)
    except Exception:
        # A broken view must not stop the others hearing about changes.
        log.exception("change handler failed")


class PostgresChangeFeed(ChangeFeed):
    """LISTEN on a connection of its own (psycopg 3, synchronous, autocommit).

    psycopg's async mode is refused on Windows' Proactor loop (which qasync uses), so
    the connection is synchronous and waits on the worker thread, `read_timeout` at a
    time, so that a stop is answered within it. With no traffic for `ping_interval`
    it sends `SELECT 1` (TCP keepalives and `tcp_user_timeout` back it up), so a
    server that went away unannounced is noticed.
    """

    def __init__(
        self,
        connect_args: dict[str, Any],
        on_status: StatusCallback | None = None,
        *,
        batch_window: float = 0.005,
        read_timeout: float = 0.2,
        ping_interval: float = 15.0,
    ) -> None:
        super().__init__(on_status)
        self._connect_args = {
            "connect_timeout": 5,
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": 20_000,
            **connect_args,
            "application_name": "rapport-changes",
            "autocommit": True,
        }
        self.batch_window = batch_window
        self.read_timeout = read_timeout
        self.ping_interval = ping_interval
        self._conn: Any = None
        self._quiet_since = 0.0
        self.backend_pid: int | None = None

    def describe(self) -> str:
        args = self._connect_args
        user = f"{args['user']}@" if args.get("user") else ""
        return f"PostgreSQL {user}{args.get('host') or 'localhost'}/{args.get('dbname') or ''}"

    def _open(self) -> None:
        import psycopg

        self._conn = psycopg.connect(**self._connect_args)
        self._conn.execute(f"LISTEN {CHANNEL}")
        self.backend_pid = self._conn.info.backend_pid
        self._quiet_since = time.monotonic()

    def _read(self) -> Changes:
        conn = self._conn
        payloads = [n.payload for n in conn.notifies(timeout=self.read_timeout, stop_after=1)]
        now = time.monotonic()
        if payloads:
            # One commit's announcements come together: gather them into one record.
            payloads += [n.payload for n in conn.notifies(timeout=self.batch_window)]
            self._quiet_since = now
        elif now - self._quiet_since > self.ping_interval:
            conn.execute("SELECT 1")
            self._quiet_since = now
        return _readable(payloads)

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _connection_error(self, exc: Exception) -> bool:
        import psycopg

        return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)


class SqliteChangeFeed(ChangeFeed):
    """Polls `change_log` when `PRAGMA data_version` says another connection committed."""

    def __init__(
        self,
        path: str | Path,
        on_status: StatusCallback | None = None,
        *,
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        super().__init__(on_status)
        self.path = Path(path)
        self.pause = poll_interval
        self._conn: sqlite3.Connection | None = None
        self._data_version = -1
        self._last_seq = 0

    @property
    def poll_interval(self) -> float:
        return self.pause

    def describe(self) -> str:
        return f"SQLite {self.path}"

    def _open(self) -> None:
        # mode=rw: a feed never creates a database that is not there.
        uri = self.path.resolve().as_uri() + "?mode=rw"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=5)
        try:
            self._data_version = _scalar(conn, "PRAGMA data_version")
            self._last_seq = _scalar(conn, "SELECT coalesce(max(seq), 0) FROM change_log")
        except Exception:
            conn.close()
            raise
        self._conn = conn

    def _read(self) -> Changes:
        conn = self._conn
        assert conn is not None  # opened before the first read
        version = _scalar(conn, "PRAGMA data_version")
        if version == self._data_version:
            return Changes()
        self._data_version = version
        rows = conn.execute(
            "SELECT seq, entity, entity_id, customer_id FROM change_log "
            "WHERE seq > ? ORDER BY seq LIMIT ?",
            (self._last_seq, MAX_ROWS_PER_POLL + 1),
        ).fetchall()
        if not rows:
            return Changes()
        # Pruned past what we saw (the log keeps its last 10,000 rows), or too many to
        # list: a re-query of everything costs less and misses nothing.
        missed = rows[0][0] > self._last_seq + 1
        if missed or len(rows) > MAX_ROWS_PER_POLL:
            self._last_seq = _scalar(conn, "SELECT max(seq) FROM change_log")
            return Changes.all()
        self._last_seq = rows[-1][0]
        return _readable(
            EVERYTHING  # a bulk write (models/change_log.py)
            if entity == EVERYTHING
            else f"{entity}:{ident}:{'' if customer is None else customer}"
            for _seq, entity, ident, customer in rows
        )

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _connection_error(self, exc: Exception) -> bool:
        return isinstance(exc, sqlite3.OperationalError)


def _scalar(conn: sqlite3.Connection, sql: str) -> int:
    # fetchall: a statement left unfinished would hold a read transaction open, and with
    # it a snapshot that pins the WAL and hides later commits from data_version.
    return int(conn.execute(sql).fetchall()[0][0])


def listen_target(listen_url: str) -> dict[str, Any]:
    """host, port and dbname of a `listen_url` (what it names; the rest stays)."""
    from sqlalchemy import make_url

    url = make_url(listen_url)
    if url.get_backend_name() != "postgresql" or not url.host:
        raise ValueError(f"listen_url must be postgresql://HOST:PORT[/DATABASE], not {listen_url}")
    target: dict[str, Any] = {"host": url.host}
    if url.port:
        target["port"] = url.port
    if url.database:
        target["dbname"] = url.database
    return target


def change_feed_for(
    engine: Engine,
    on_status: StatusCallback | None = None,
    *,
    poll_interval: float = POLL_INTERVAL,
    listen_url: str | None = None,
) -> ChangeFeed | None:
    """The feed for the database `engine` connects to; None for an in-memory one,
    which no other process can write to.

    On PostgreSQL `listen_url` (the `listen_url` setting) names the host, port and
    optionally the database to LISTEN on instead of the engine's: behind PgBouncer in
    transaction pooling, the server itself or a session-pooled port. The login and
    password stay the engine's. Reads only URLs (no SQL), so it may run on the GUI
    thread.
    """
    if engine.dialect.name == "postgresql":
        _args, params = engine.dialect.create_connect_args(engine.url)
        if listen_url:
            params.update(listen_target(listen_url))
        return PostgresChangeFeed(dict(params), on_status)
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return SqliteChangeFeed(database, on_status, poll_interval=poll_interval)
    raise ValueError(f"no change feed for {engine.dialect.name}")
