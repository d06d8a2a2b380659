"""Engines for both databases, URL handling and the schema version check."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, inspect, make_url, select, text
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from models.errors import DatabaseError as DatabaseError  # re-exported: callers import it here

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest revision in migrations/versions/, the schema this code is written for.
# A start that finds it needs no Alembic (16 MB, 0.3 s); tests/test_database.py checks
# it against the history, so a new migration that forgets it fails the tests.
SCHEMA_HEAD = "0016"
WRITE_OPTION = "rapport_write"
log = logging.getLogger(__name__)


def normalize_url(url: str | URL) -> URL:
    """Accept URLs as people type them and choose the driver inside.

    `postgresql://user@host/db` and `postgres://...` use psycopg 3;
    `sqlite:///path/to/file.db` uses the stdlib driver, with `~` expanded.
    """
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError as exc:
        raise DatabaseError(
            f"not a database URL: {url!s} (expected postgresql://user@host:5432/db "
            "or sqlite:///path/to/file.db)"
        ) from exc
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            database = os.path.expanduser(database)
        return parsed.set(drivername="sqlite+pysqlite", database=database)
    raise DatabaseError(f"unsupported database {backend!r}: use postgresql:// or sqlite:///")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while one writer writes; busy_timeout waits for the
    # writer instead of failing; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # A unit of work that will write takes the write lock at BEGIN (IMMEDIATE),
    # so it waits politely (busy_timeout) instead of failing when a read
    # transaction later tries to upgrade to a write. Reads stay DEFERRED and
    # never block each other in WAL mode.
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# PgBouncer in transaction pooling (docs/it-deployment.md) hands each transaction to
# whichever server connection is free, so nothing may outlive a transaction on the
# server: no SET (only SET LOCAL), no temporary tables, no session advisory locks, no
# LISTEN (the change feed has a connection of its own, app/change_feed.py, which must
# reach the server directly or a session-pooled port), and no prepared statements:
# psycopg prepares a query once it ran 5 times on the connection, and
# PgBouncer 1.18 (Debian 12) cannot follow them to another server connection
# ("prepared statement "_pg3_0" does not exist"). `prepare_threshold=None` never
# prepares; the cost is a parse per statement, which these short queries hardly feel.
PG_CONNECT_ARGS: dict[str, Any] = {
    "connect_timeout": 5,
    "application_name": "rapport",
    "prepare_threshold": None,
}


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine for a normalized URL. Nothing connects yet.

    `hide_parameters`: a driver error's text never carries the values bound to the
    statement (names, notes, phone numbers), wherever it ends up shown or logged.
    """
    parsed = normalize_url(url)
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is switched off so BEGIN is ours.
        event.listen(
            engine,
            "connect",
            lambda dbapi_conn, _rec: setattr(dbapi_conn, "isolation_level", None),
        )
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 4)
    kwargs["connect_args"] = {**PG_CONNECT_ARGS, **kwargs.get("connect_args", {})}
    return create_engine(parsed, **kwargs)


def writer(engine: Engine) -> Engine:
    """The same engine, marked so SQLite transactions take the write lock at BEGIN."""
    return engine.execution_options(**{WRITE_OPTION: True})


class Database:
    """Sessions for one engine: `read()` for queries, `write()` for a unit of work.

    `with db.read() as session:` reads; `with db.write() as session:` commits on
    success and rolls back on error. This is the services' boundary with the
    driver: a driver error inside (or at the commit) leaves as `DatabaseError`
    (`service_error`), so the UI never sees psycopg's or sqlite3's exceptions.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reads = sessionmaker(engine, expire_on_commit=False)
        # One-statement lookups need no transaction: on PostgreSQL autocommit saves
        # the BEGIN and ROLLBACK round trips (two of the three a lookup would cost).
        lookup_engine = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self._lookups = sessionmaker(lookup_engine, expire_on_commit=False)
        self._writes = sessionmaker(writer(engine), expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def read(self) -> AbstractContextManager[Session]:
        return _translated(self._reads())

    def lookup(self) -> AbstractContextManager[Session]:
        """A session for a single read-only statement (no transaction on PostgreSQL)."""
        return _translated(self._lookups())

    def write(self) -> AbstractContextManager[Session]:
        return _translated(self._writes.begin())


@contextmanager
def _translated(unit: AbstractContextManager[Session]) -> Iterator[Session]:
    try:
        with unit as session:
            yield session
    except DBAPIError as exc:
        # `from None`: the driver's text (which may quote a failing row) stays out of
        # tracebacks, the crash dialog and the log; `service_error` logs what is safe.
        raise service_error(exc) from None


# SQLSTATE classes and codes that mean the connection is gone (or going): 08 is
# "connection exception", 57P01-57P03 the server shutting down or starting.
_LOST_CONNECTION_STATES = ("08", "57P01", "57P02", "57P03")


def connection_lost(exc: DBAPIError) -> bool:
    """True when a driver error means the connection dropped, not a bad statement."""
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return str(sqlstate).startswith(_LOST_CONNECTION_STATES)
    # psycopg raises OperationalError without a SQLSTATE when the socket breaks;
    # sqlite3 uses OperationalError for a busy database, a missing table and I/O
    # errors alike, none of them a lost connection.
    return isinstance(exc, OperationalError) and not _is_sqlite(exc)


def _is_sqlite(exc: DBAPIError) -> bool:
    return type(exc.orig).__module__.startswith("sqlite3")


def service_error(exc: DBAPIError) -> DatabaseError:
    """The one-line `DatabaseError` a service raises for a driver error.

    Its message is built from the error's class and SQLSTATE only, never from the
    driver's text, which can quote the values of a failing row.
    """
    name = type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__
    sqlstate = getattr(exc.orig, "sqlstate", None)
    code = f"{name}, SQLSTATE {sqlstate}" if sqlstate else name
    log.warning("database error in a service: %s (%s)", type(exc).__name__, code)
    if connection_lost(exc):
        return DatabaseError(
            "the connection to the database was lost; try again",
            "unreachable",
        )
    lowered = first_line(exc.orig).lower() if _is_sqlite(exc) else ""
    if "locked" in lowered or "busy" in lowered:
        return DatabaseError("the database is busy; try again in a moment", "busy")
    if "no such table" in lowered or "no such column" in lowered:
        return DatabaseError(f"the database schema does not match this version ({code})", "schema")
    return DatabaseError(f"the database refused the request ({code})")


@contextmanager
def friendly_errors(engine: Engine) -> Iterator[None]:
    """Turn driver errors on connect into one line a person can act on."""
    try:
        yield
    except OperationalError as exc:
        kind = connection_error_kind(exc)
        raise DatabaseError(describe_connection_error(engine, exc), kind) from exc
    except DBAPIError as exc:
        raise DatabaseError(f"database error: {first_line(exc.orig)}") from exc


def first_line(exc: object) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


_HINTS = {
    "auth": "wrong user or password",
    "no_database": "the database does not exist",
    "unreachable": "the server is unreachable",
    "tls": "the TLS connection failed",
    "file": "the database file cannot be opened",
    "other": "cannot connect",
}


def connection_error_kind(exc: BaseException) -> str:
    """Which failure a driver error on connect is: a key of `_HINTS`."""
    lowered = first_line(getattr(exc, "orig", exc)).lower()
    if (
        "password authentication failed" in lowered
        or "no password supplied" in lowered
        or ("role" in lowered and "does not exist" in lowered)
    ):
        return "auth"
    if "does not exist" in lowered and "database" in lowered:
        return "no_database"
    if "connection refused" in lowered or "could not connect" in lowered or "timeout" in lowered:
        return "unreachable"
    if "ssl" in lowered or "certificate" in lowered:
        return "tls"
    if "unable to open database file" in lowered:
        return "file"
    return "other"


def describe_connection_error(engine: Engine, exc: BaseException) -> str:
    where = engine.url.render_as_string(hide_password=True)
    message = first_line(getattr(exc, "orig", exc))
    return f"{_HINTS[connection_error_kind(exc)]}: {where} ({message})"


def check_connection(engine: Engine) -> None:
    with friendly_errors(engine), engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def connection_encrypted(engine: Engine) -> bool | None:
    """Whether the live connection to the server uses TLS; None for a local SQLite file.

    Asked of the connection itself, not the URL: `sslmode=prefer` (libpq's default)
    quietly falls back to plain text when the server offers no TLS.
    """
    if engine.dialect.name != "postgresql":
        return None
    with friendly_errors(engine), engine.connect() as conn:
        pgconn = getattr(conn.connection.dbapi_connection, "pgconn", None)  # psycopg 3
        if pgconn is not None:
            return bool(pgconn.ssl_in_use)
        query = text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        return bool(conn.execute(query).scalar())


def stored_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database, read with plain SQL.

    None when the database has no (or more than one) recorded revision: then
    `models.migrate.ensure_schema` decides, with Alembic.
    """
    with friendly_errors(engine), engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        revisions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return revisions[0] if len(revisions) == 1 else None


def insert_or_get(
    session: Session, model: Any, values: dict[str, Any], keys: tuple[str, ...]
) -> tuple[int, bool]:
    """Insert a row unless one with the same `keys` exists: (its id, whether it is new).

    One statement (`INSERT ... ON CONFLICT DO NOTHING RETURNING id`) that a UNIQUE
    index on `keys` makes safe under concurrency: of several sessions inserting the
    same key at once exactly one inserts, the others wait for it and then find its row.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(model.id)
    )
    new_id = session.execute(statement).scalar()
    if new_id is not None:
        return int(new_id), True
    existing = session.scalar(
        select(model.id).where(*(getattr(model, key) == values[key] for key in keys))
    )
    if existing is None:  # only if the key columns differ from the unique index's
        raise LookupError(f"{model.__tablename__}: conflict on {keys} but no row found")
    return int(existing), False
