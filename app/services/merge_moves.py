"""Which rows belong to a customer, and moving them between two customers and back.

The tables are discovered from `Base.metadata` (every foreign key to `customers.id`), not
listed by hand, so a table added later moves with the rest instead of being orphaned
(FreeScout's merge left old conversations behind, #4986). Only the merge's own
bookkeeping is left where it is (`BOOKKEEPING`).

Rules, decided once for every table:
* A row moves by changing its customer column; nothing is ever deleted, so an unmerge
  can put every row back exactly.
* A row whose move would collide with a unique key (the customer column is part of it:
  `campaign_members` (campaign, customer), `customer_values` (one per customer)) stays
  with the merged customer and is logged as kept: the survivor already has that row, and
  deleting the other one would lose what the unmerge must restore.
* A moved phone or e-mail that was primary stops being primary when the survivor already
  has a primary one (two primaries would make "the" number ambiguous); the flag is
  logged and given back by the unmerge.
* A moved row of a versioned table gets its version bumped, so an agent editing it from
  a screen loaded before the merge gets a conflict instead of writing over it.

The log is JSON-ready: per (table, column), the primary keys of the rows moved, as they
are after the move (a key holding the customer column names the survivor).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, and_, func, select, tuple_, update
from sqlalchemy.orm import Session

from models.schema import metadata

CUSTOMERS = "customers"
# About merges themselves, not the customer: the chain to the survivor, the candidate
# pairs (a pair stays what it was: the review queue hides pairs with a merged side) and
# the merge log. And history that stays as it was: who was on a marketing list, with the
# record and the address it went to that day (on PostgreSQL only supervisors write
# campaign_members, app/provisioning.py SUPERVISOR_TABLES, and an agent merges).
BOOKKEEPING = frozenset(
    {
        ("campaign_members", "customer_id"),
        ("customers", "merged_into_id"),
        ("duplicate_candidates", "customer_a_id"),
        ("duplicate_candidates", "customer_b_id"),
        ("customer_merges", "survivor_id"),
        ("customer_merges", "merged_id"),
    }
)
# On PostgreSQL agents may only read these: a SECURITY DEFINER function moves them
# (migration 0014, `rapport_merge_move_protected`). Mirrors app/provisioning.py.
PROTECTED = frozenset({"concessions", "override_requests"})
PRIMARY_FLAG = "is_primary"


@dataclass(frozen=True)
class Link:
    """A column that points at a customer: `table.column`."""

    table: str
    column: str

    @property
    def key(self) -> str:
        return f"{self.table}.{self.column}"


def customer_links() -> list[Link]:
    """Every foreign key to customers.id except the merge's own bookkeeping, in a stable
    order (tables sorted by dependency, so a parent row moves before its children)."""
    links = []
    for table in metadata.sorted_tables:
        for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
            if fk.column.table.name != CUSTOMERS or fk.column.name != "id":
                continue
            if (table.name, fk.parent.name) not in BOOKKEEPING:
                links.append(Link(table.name, fk.parent.name))
    return links


def _table(link: Link) -> Table:
    return metadata.tables[link.table]


def _pk(table: Table) -> list[Column[Any]]:
    return list(table.primary_key.columns)


def _unique_sets(table: Table, column: str) -> list[list[str]]:
    """The unique keys of `table` that contain `column` (primary key included)."""
    sets: list[list[str]] = [[c.name for c in table.primary_key.columns]]
    sets += [[c.name for c in i.columns] for i in table.indexes if i.unique]
    sets += [
        [c.name for c in con.columns]  # type: ignore[attr-defined]
        for con in table.constraints
        if con.__class__.__name__ == "UniqueConstraint"
    ]
    return [s for s in sets if column in s]


def counts(session: Session, customer_id: int) -> dict[str, int]:
    """How many rows of each linked column belong to the customer ("table.column")."""
    result = {}
    for link in customer_links():
        table = _table(link)
        result[link.key] = int(
            session.scalar(
                select(func.count()).select_from(table).where(table.c[link.column] == customer_id)
            )
            or 0
        )
    return result


@dataclass
class Moved:
    """What one (table, column) moved: primary keys, and those whose primary flag the
    merge cleared. `kept`: rows left with the merged customer (collision)."""

    link: Link
    rows: list[list[Any]]
    unset_primary: list[list[Any]]
    kept: list[list[Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "table": self.link.table,
            "column": self.link.column,
            "rows": self.rows,
            "unset_primary": self.unset_primary,
            "kept": self.kept,
        }


def _keys(rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    return [list(r) for r in rows]


def move_rows(session: Session, link: Link, from_id: int, to_id: int) -> Moved:
    """Move the rows of `link` from one customer to the other, by the rules above."""
    table = _table(link)
    column = table.c[link.column]
    pk = _pk(table)
    rows = session.execute(select(table).where(column == from_id).with_for_update()).mappings()
    movable: list[list[Any]] = []
    kept: list[list[Any]] = []
    primaries: list[list[Any]] = []
    unique_sets = [s for s in _unique_sets(table, link.column)]
    for row in rows.all():
        key = [row[c.name] for c in pk]
        if _collides(session, table, row, link.column, to_id, unique_sets):
            kept.append(key)
            continue
        movable.append(key)
        if PRIMARY_FLAG in table.c and row[PRIMARY_FLAG]:
            primaries.append(key)
    unset: list[list[Any]] = []
    if primaries and PRIMARY_FLAG in table.c:
        survivor_has_primary = session.scalar(
            select(func.count())
            .select_from(table)
            .where(column == to_id, table.c[PRIMARY_FLAG].is_(True))
        )
        if survivor_has_primary:
            unset = primaries
    if movable:
        values: dict[str, Any] = {link.column: to_id}
        if "version" in table.c:
            values["version"] = table.c.version + 1
        session.execute(update(table).where(_in(pk, movable)).values(values))
    if unset:
        session.execute(update(table).where(_in(pk, unset)).values({PRIMARY_FLAG: False}))
    # A primary key that holds the customer column (campaign_members, customer_values)
    # changes with the move: the log keeps the keys as they are now, at the survivor.
    return Moved(link, _moved_keys(pk, link.column, movable, to_id), unset, kept)


def _moved_keys(
    pk: list[Column[Any]], column: str, keys: list[list[Any]], to_id: int
) -> list[list[Any]]:
    names = [c.name for c in pk]
    if column not in names:
        return keys
    at = names.index(column)
    return [[to_id if i == at else v for i, v in enumerate(key)] for key in keys]


def _collides(
    session: Session,
    table: Table,
    row: Any,
    column: str,
    to_id: int,
    unique_sets: list[list[str]],
) -> bool:
    for names in unique_sets:
        conditions = [
            table.c[n] == (to_id if n == column else row[n]) for n in names if row[n] is not None
        ]
        if len(conditions) < len(names):
            continue  # NULLs never collide
        if session.scalar(select(func.count()).select_from(table).where(and_(*conditions))):
            return True
    return False


def _in(pk: list[Column[Any]], keys: list[list[Any]]) -> Any:
    if len(pk) == 1:
        return pk[0].in_([k[0] for k in keys])
    return tuple_(*pk).in_([tuple(k) for k in keys])


def still_with(session: Session, entry: dict[str, Any], customer_id: int) -> int:
    """How many of a log entry's moved rows no longer belong to `customer_id` (moved
    again or deleted since the merge): an unmerge of those would move the wrong rows."""
    table = metadata.tables[entry["table"]]
    rows = entry["rows"]
    if not rows:
        return 0
    here = session.scalar(
        select(func.count())
        .select_from(table)
        .where(_in(_pk(table), rows), table.c[entry["column"]] == customer_id)
    )
    return len(rows) - int(here or 0)


def move_back(session: Session, entry: dict[str, Any], to_id: int) -> None:
    """Undo one log entry: its rows go back to `to_id`, their primary flags come back."""
    table = metadata.tables[entry["table"]]
    pk = _pk(table)
    if entry["rows"]:
        values: dict[str, Any] = {entry["column"]: to_id}
        if "version" in table.c:
            values["version"] = table.c.version + 1
        session.execute(update(table).where(_in(pk, entry["rows"])).values(values))
    if entry["unset_primary"]:
        session.execute(
            update(table).where(_in(pk, entry["unset_primary"])).values({PRIMARY_FLAG: True})
        )
