"""Which database this is, stable across runs: what keeps drafts of one database apart
from another's (the same customer id means someone else elsewhere).

- PostgreSQL: the cluster's `system_identifier` (pg_control_system(), readable by any
  role by default since PostgreSQL 9.6) and `current_database()`. The same database
  reached through another host name, port or PgBouncer keeps its identity. Where an
  administrator has revoked pg_control_system(), the server's address and port as the
  server sees them stand in.
- SQLite: the database file's resolved path (a copied or moved file is another
  database: its drafts stay behind with the old path). In-memory databases get a
  random identity: their drafts cannot outlive them anyway.

Runs on a worker thread (it may query the database).
"""

from __future__ import annotations

import logging
import os
import uuid

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)


def database_identity(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return _sqlite_identity(engine)
    return _postgresql_identity(engine)


def _sqlite_identity(engine: Engine) -> str:
    database = engine.url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return f"sqlite:memory:{uuid.uuid4().hex}"
    return "sqlite:" + os.path.normcase(os.path.realpath(database))


def _postgresql_identity(engine: Engine) -> str:
    with engine.connect() as connection:
        name = connection.scalar(text("SELECT current_database()"))
    try:
        with engine.connect() as connection:
            system = connection.scalar(text("SELECT system_identifier FROM pg_control_system()"))
        return f"postgresql:{system}/{name}"
    except DBAPIError as exc:
        log.info("pg_control_system() refused (%s); the server address stands in", exc.orig)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT inet_server_addr(), inet_server_port()")).one()
    address = f"{row[0]}:{row[1]}" if row[0] is not None else f"socket:{row[1]}"
    return f"postgresql:{address}/{name}"
