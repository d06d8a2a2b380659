"""change bus: every commit that touches what a view shows announces itself

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Another agent's save must reach this agent's open views (app/change_feed.py). The
tables views show get triggers that name what changed, as `entity:id:customer_id`
(`note:123:45`; the customer part empty when there is none), kinds and ids only:
never a name, a number or a note's text, since payloads travel in clear to every
listener and into logs.

PostgreSQL: statement-level AFTER triggers with transition tables call
`pg_notify('rapport_changes', payload)` once per distinct change. NOTIFY is
delivered at commit, only to sessions listening then, and PostgreSQL drops a
payload already queued by the same transaction, so a contact save touching the
customer, two phones and an e-mail announces `customer:45:45` once. A statement
that writes more than BULK_ROWS rows (the seeder's COPY chunks, a future import)
announces `*` instead, "re-query everything": one notification in place of
thousands, which bounds the cost of bulk writes without the writer having to
silence anything. Transition tables cannot serve a trigger with several events,
hence three triggers per table on one function.

SQLite has no NOTIFY: row-level triggers append to `change_log`, which each
client polls (`seq > last seen`). AUTOINCREMENT keeps `seq` growing after
deletions. The log keeps about the last KEEP_CHANGES entries: every 1,000th
insert deletes what is older, inside the writer's own transaction (readers never
need the write lock, and nobody has to remember to prune). A client that fell
further behind sees the gap and re-queries everything. A bulk writer (the
seeder) takes the triggers out inside its own transaction and logs one `*` row
instead ("re-query everything"): models/change_log.py.

A table rebuilt by a later batch migration on SQLite loses these triggers (as it
would the FTS ones): recreate them there; tests/test_change_feed.py checks that
every watched table has its triggers at head.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

CHANNEL = "rapport_changes"
BULK_ROWS = 1000
KEEP_CHANGES = 10_000
PRUNE_EVERY = 1_000

# table -> (entity, its id, its customer's id); `{r}` is the row written.
_CUSTOMER_OF_CASE = "(SELECT customer_id FROM cases WHERE id = {r}.case_id)"
_CUSTOMER_OF_ORDER = "(SELECT customer_id FROM orders WHERE id = {r}.order_id)"
WATCHED: dict[str, tuple[str, str, str]] = {
    "customers": ("customer", "{r}.id", "{r}.id"),
    "customer_phones": ("customer", "{r}.customer_id", "{r}.customer_id"),
    "customer_emails": ("customer", "{r}.customer_id", "{r}.customer_id"),
    "customer_addresses": ("customer", "{r}.customer_id", "{r}.customer_id"),
    "contact_preferences": ("customer", "{r}.customer_id", "{r}.customer_id"),
    "key_dates": ("customer", "{r}.customer_id", "{r}.customer_id"),
    "customer_relations": ("customer", "{r}.customer_id", "{r}.customer_id"),
    "customer_notes": ("note", "{r}.id", "{r}.customer_id"),
    "interactions": ("interaction", "{r}.id", "{r}.customer_id"),
    "tasks": ("task", "{r}.id", "{r}.customer_id"),
    "cases": ("case", "{r}.id", "{r}.customer_id"),
    "case_events": ("case", "{r}.case_id", _CUSTOMER_OF_CASE),
    "commitments": ("commitment", "{r}.id", "{r}.customer_id"),
    "orders": ("order", "{r}.id", "{r}.customer_id"),
    "order_lines": ("order", "{r}.order_id", _CUSTOMER_OF_ORDER),
    "shipments": ("order", "{r}.order_id", _CUSTOMER_OF_ORDER),
}


# -- PostgreSQL ------------------------------------------------------------------------


def _pg_announce(rows: str, entity: str, ident: str, customer: str) -> str:
    """plpgsql: notify the distinct changes of `rows`, or `*` when there are too many."""
    ident, customer = ident.format(r="r"), customer.format(r="r")
    payload = f"'{entity}:' || {ident} || ':' || coalesce(({customer})::text, '')"
    return (
        f"IF (SELECT count(*) FROM (SELECT FROM {rows} AS t LIMIT {BULK_ROWS + 1}) AS s) "  # noqa: S608 (constants of this module)
        f"> {BULK_ROWS} THEN PERFORM pg_notify('{CHANNEL}', '*'); "
        f"ELSE PERFORM pg_notify('{CHANNEL}', c) FROM "
        f"(SELECT DISTINCT {payload} AS c FROM {rows} AS r) AS changes; END IF; "
    )


def pg_watch(table: str, entity: str, ident: str, customer: str) -> None:
    """Give `table` its announcing triggers (0010 watches the tables it adds with this)."""
    both = "(SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows)"
    op.execute(
        f"CREATE FUNCTION rapport_changes_{table}() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP = 'INSERT' THEN "
        + _pg_announce("new_rows", entity, ident, customer)
        + "ELSIF TG_OP = 'UPDATE' THEN "
        # Old and new: a row moved to another customer changes both.
        + _pg_announce(both, entity, ident, customer)
        + "ELSE "
        + _pg_announce("old_rows", entity, ident, customer)
        + "END IF; RETURN NULL; END $$"
    )
    for event, referencing in (
        ("insert", "NEW TABLE AS new_rows"),
        ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("delete", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER rapport_changes_{event} AFTER {event.upper()} ON {table} "
            f"REFERENCING {referencing} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION rapport_changes_{table}()"
        )


def pg_unwatch(table: str) -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS rapport_changes_{event} ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS rapport_changes_{table}()")


def _pg_upgrade() -> None:
    for table, (entity, ident, customer) in WATCHED.items():
        pg_watch(table, entity, ident, customer)


def _pg_downgrade() -> None:
    for table in WATCHED:
        pg_unwatch(table)


# -- SQLite ----------------------------------------------------------------------------


def _sqlite_log(row: str, entity: str, ident: str, customer: str) -> str:
    return (
        "INSERT INTO change_log(entity, entity_id, customer_id) VALUES "  # noqa: S608 (constants of this module)
        f"('{entity}', {ident.format(r=row)}, {customer.format(r=row)}); "
    )


def _sqlite_upgrade() -> None:
    op.create_table(
        "change_log",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column(
            "at",
            sa.String(length=30),
            nullable=False,
            server_default=sa.text("(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"),
        ),
        sqlite_autoincrement=True,
    )
    op.execute(
        f"CREATE TRIGGER change_log_prune AFTER INSERT ON change_log "  # noqa: S608 (constants)
        f"WHEN new.seq % {PRUNE_EVERY} = 0 BEGIN "
        f"DELETE FROM change_log WHERE seq <= new.seq - {KEEP_CHANGES}; END"
    )
    for table, (entity, ident, customer) in WATCHED.items():
        sqlite_watch(table, entity, ident, customer)


def sqlite_watch(table: str, entity: str, ident: str, customer: str) -> None:
    """Give `table` its logging triggers (0010 watches the tables it adds with this)."""
    old_ident, new_ident = ident.format(r="old"), ident.format(r="new")
    old_customer, new_customer = customer.format(r="old"), customer.format(r="new")
    op.execute(
        f"CREATE TRIGGER change_log_{table}_insert AFTER INSERT ON {table} BEGIN "
        + _sqlite_log("new", entity, ident, customer)
        + "END"
    )
    op.execute(
        f"CREATE TRIGGER change_log_{table}_update AFTER UPDATE ON {table} BEGIN "
        + _sqlite_log("new", entity, ident, customer)
        # A row moved to another customer (or entity) changes the old one too.
        + "INSERT INTO change_log(entity, entity_id, customer_id) "
        f"SELECT '{entity}', {old_ident}, {old_customer} "
        f"WHERE {old_ident} IS NOT {new_ident} OR {old_customer} IS NOT {new_customer}; "
        "END"
    )
    op.execute(
        f"CREATE TRIGGER change_log_{table}_delete AFTER DELETE ON {table} BEGIN "
        + _sqlite_log("old", entity, ident, customer)
        + "END"
    )


def sqlite_unwatch(table: str) -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS change_log_{table}_{event}")


def _sqlite_downgrade() -> None:
    for table in WATCHED:
        sqlite_unwatch(table)
    op.execute("DROP TRIGGER IF EXISTS change_log_prune")
    op.drop_table("change_log")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_downgrade()
    else:
        _sqlite_downgrade()
