"""SQLite's change log (migration 0009), and how a bulk writer keeps out of it.

Every table a view shows has row triggers that append to `change_log`, which the
clients poll (app/change_feed.py). For the seeder's millions of rows that is one
more row written per row, and any trigger at all, even one that logs nothing, makes
each insert dearer: 20,000 customers took 28-40 s instead of 17-23 s. So a bulk
writer drops those triggers inside its own transaction and, before it commits,
puts them back exactly as they were (their SQL is read from `sqlite_master`) and
logs one `*` row, "re-query everything". DDL is transactional in SQLite: a writer
that dies midway rolls the drop back with its rows, and no other connection ever
sees a table without its triggers.

PostgreSQL needs nothing of the kind: its triggers are per statement and announce
a statement of more than 1,000 rows as `*` (one notification per COPY chunk).
"""

from __future__ import annotations

from typing import Any

_TRIGGERS = (
    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
    "AND name LIKE 'change\\_log\\_%' ESCAPE '\\' AND tbl_name <> 'change_log'"
)


def silence(cursor: Any) -> list[str]:
    """Drop the watched tables' change-log triggers (inside a transaction); returns
    what `restore` puts back."""
    triggers: list[tuple[str, str]] = cursor.execute(_TRIGGERS).fetchall()
    for name, _sql in triggers:
        cursor.execute(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in triggers]


def restore(cursor: Any, triggers: list[str]) -> None:
    """Put the triggers back and tell every client to re-query (before the COMMIT)."""
    for sql in triggers:
        cursor.execute(sql)
    cursor.execute("INSERT INTO change_log (entity, entity_id) VALUES ('*', 0)")
