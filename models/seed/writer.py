"""Writes the generated rows fast: buffered per table, in chunks, through the raw driver.

The generators hand every row to `Writer.add` as a dict; nothing touches the
database until `flush`. Identifiers are assigned here, so rows can reference each
other without a round trip. A flush writes the tables in dependency order with
`executemany` on SQLite and `COPY` on PostgreSQL, in a thread of its own on
PostgreSQL so the next chunk is generated while the database works.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Engine, Time

from models import change_log
from models.base import UTCDateTime
from models.schema import metadata

# Random customers generated between two flushes (see `Writer.flush`).
CHUNK = 5_000
UTC = dt.UTC


class SeedError(Exception):
    """A reason the seed cannot run, in one line for a person."""


@dataclass(frozen=True)
class SeedReport:
    customers: int
    rows: dict[str, int]
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


class Writer:
    """Buffers rows per table and writes them in table order through the raw driver."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)
        self.ids: dict[str, int] = defaultdict(int)
        self.columns = {t.name: [c.name for c in t.columns] for t in metadata.sorted_tables}
        self.order = [t.name for t in metadata.sorted_tables]
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="rapport-seed")
        self._pending: Future[None] | None = None
        self.converters = {
            t.name: [self._converter(c) for c in t.columns] for t in metadata.sorted_tables
        }

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def add(self, table: str, **values: Any) -> int:
        if "id" in self.columns[table] and "id" not in values:
            values["id"] = self.next_id(table)
        self.rows[table].append(values)
        return int(values.get("id", 0))

    def _converter(self, column: Any) -> Callable[[Any], Any] | None:
        """How a Python value of this column goes to the driver (None: as it is)."""
        kind = column.type
        if isinstance(kind, JSON):
            return json.dumps
        if not self.sqlite:
            return None
        # SQLite keeps what SQLAlchemy would have written: naive UTC text, ISO dates, 0/1.
        if isinstance(kind, DateTime | UTCDateTime):
            return lambda v: v.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        if isinstance(kind, Date | Time):
            return lambda v: v.isoformat()
        if isinstance(kind, Boolean):
            return int
        return None

    def flush(self) -> None:
        """Hand the buffered rows to the writer thread and go on generating.

        The database works on one chunk (COPY, index and foreign-key upkeep) while
        Python builds the next; at most one chunk waits, so memory stays flat.
        """
        batch, self.rows = self.rows, defaultdict(list)
        self.wait()
        if self.sqlite:  # sqlite3 holds the GIL while binding rows: nothing to overlap
            self._write(batch)
            return
        self._pending = self._pool.submit(self._write, batch)

    def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _write(self, batch: dict[str, list[dict[str, Any]]]) -> None:
        raw: Any = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.sqlite:
                cursor.execute("BEGIN")
                change_triggers = change_log.silence(cursor)  # one "*", not a row per row
            for table in self.order:
                rows = batch.pop(table, [])
                if not rows:
                    continue
                columns = self.columns[table]
                pairs = list(zip(columns, self.converters[table], strict=True))
                tuples = [
                    tuple(v if (v := r.get(c)) is None or f is None else f(v) for c, f in pairs)
                    for r in rows
                ]
                if self.sqlite:
                    marks = ", ".join("?" for _ in columns)
                    cursor.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608 (names from metadata)
                        tuples,
                    )
                else:
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in tuples:
                            copy.write_row(row)
                self.counts[table] += len(tuples)
            if self.sqlite:
                change_log.restore(cursor, change_triggers)
                cursor.execute("COMMIT")
            else:
                raw.commit()
        finally:
            raw.close()

    def finish(self) -> None:
        self.wait()
        self._pool.shutdown()
        if self.sqlite:
            return
        with self.engine.begin() as conn:
            for table in self.order:
                if "id" in self.columns[table] and self.ids.get(table):
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {self.ids[table]})"
                    )
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
