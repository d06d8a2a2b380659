"""authority: the concession matrix with budgets and validity, idempotency keys, live
override requests with expiry and counter-offers, approver presence, an audit log whose
actor the server sets, and on PostgreSQL the SECURITY DEFINER functions that alone
write these tables

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

`senior_agent` joins the roles and `countered`/`expired` the request states, which
changes CHECK constraints (on SQLite: rebuilds of users, policies, authority_limits and
override_requests; none of them has change-bus triggers). Override requests and
concessions announce their changes on the change bus, so a supervisor's queue and an
agent's waiting panel hear a request and its answer at once.

On PostgreSQL `0011_authority.sql` (beside this file) creates the functions and revokes
them from PUBLIC in this migration's transaction; `rapportctl db provision-roles`
grants them to the group roles and hands every object to the NOLOGIN owner.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OLD_ROLES = ("agent", "supervisor", "manager", "admin")
NEW_ROLES = ("agent", "senior_agent", "supervisor", "manager", "admin")
OLD_STATUSES = ("pending", "approved", "rejected", "withdrawn")
NEW_STATUSES = ("pending", "approved", "rejected", "countered", "withdrawn", "expired")
CONCESSION_TYPES = (
    "discount", "credit", "sample", "goodwill_gift", "fee_waiver", "policy_exception",
)  # fmt: skip
# table -> (column, CHECK name) of the role enums whose CHECK gains senior_agent
ROLE_COLUMNS = {
    "users": ("role", "role"),
    "policies": ("override_role", "policy_override_role"),
    "authority_limits": ("role", "limit_role"),
    "override_requests": ("required_role", "override_required_role"),
}
NEW_WATCHED = {
    "override_requests": ("override", "{r}.id", "{r}.customer_id"),
    "concessions": ("concession", "{r}.id", "{r}.customer_id"),
}
FUNCTIONS_SQL = Path(__file__).with_name("0011_authority.sql")


def _change_bus() -> ModuleType:
    """Migration 0009, whose trigger builders the tables watched here reuse."""
    path = Path(__file__).with_name("0009_change_bus.py")
    spec = importlib.util.spec_from_file_location("rapport_migration_0009", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    length = max(len(v) for v in values)
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def _fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id")


def _new_columns() -> dict[str, list[sa.Column[object]]]:
    ts = sa.DateTime(timezone=True)
    return {
        "policies": [
            sa.Column("fee_cents", sa.Integer()),
            sa.Column("currency", sa.String(3), nullable=False, server_default="USD"),
            sa.Column("eligibility", sa.JSON()),
        ],
        "authority_limits": [
            sa.Column("allowed", sa.Boolean(), nullable=False, server_default=sa.true()),
            sa.Column("max_percent", sa.Numeric(5, 2)),
            sa.Column("daily_budget_cents", sa.Integer()),
            sa.Column("valid_from", sa.Date()),
            sa.Column("valid_until", sa.Date()),
        ],
        "override_requests": [
            sa.Column("order_id", sa.Integer(), _fk("orders")),
            sa.Column("percent", sa.Numeric(5, 2)),
            sa.Column("currency", sa.String(3), nullable=False, server_default="USD"),
            sa.Column("expires_at", ts),
        ],
        "override_decisions": [
            sa.Column(
                "decision", _enum("override_decision_kind", ("approve", "reject", "counter"))
            ),
            sa.Column("counter_amount_cents", sa.Integer()),
        ],
        "concessions": [
            sa.Column("order_id", sa.Integer(), _fk("orders")),
            sa.Column("order_line_id", sa.Integer(), _fk("order_lines")),
            sa.Column("percent", sa.Numeric(5, 2)),
            sa.Column("policy_id", sa.Integer(), _fk("policies")),
            sa.Column("approved_by_id", sa.Integer(), _fk("users")),
        ],
    }


NEW_CHECKS = {
    "authority_limits": (
        ("percent", "max_percent IS NULL OR (max_percent >= 0 AND max_percent <= 100)"),
        ("budget", "daily_budget_cents IS NULL OR daily_budget_cents >= 0"),
        ("validity", "valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from"),
    ),
    "override_requests": (("non_negative", "amount_cents >= 0"),),
    "concessions": (("percent", "percent IS NULL OR (percent > 0 AND percent <= 100)"),),
}


def _create_tables() -> None:
    op.create_table(
        "authority_settings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("budget_zone", sa.String(64), nullable=False),
        sa.Column("request_ttl_seconds", sa.Integer(), nullable=False),
        sa.CheckConstraint("id = 1", name="one_row"),
        sa.CheckConstraint("request_ttl_seconds BETWEEN 30 AND 86400", name="ttl"),
    )
    op.execute(
        "INSERT INTO authority_settings (id, budget_zone, request_ttl_seconds) "
        "VALUES (1, 'UTC', 300)"
    )
    op.create_table(
        "concession_budgets",
        sa.Column("user_id", sa.Integer(), _fk("users"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column(
            "concession_type", _enum("budget_concession_type", CONCESSION_TYPES), primary_key=True
        ),
        sa.Column("limit_cents", sa.Integer(), nullable=False),
        sa.Column("spent_cents", sa.Integer(), nullable=False),
        sa.CheckConstraint("spent_cents >= 0", name="non_negative"),
        sa.CheckConstraint("spent_cents <= limit_cents", name="within_limit"),
    )
    op.create_table(
        "authority_actions",
        sa.Column("idempotency_key", sa.String(64), primary_key=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("login", sa.String(63), nullable=False),
        sa.Column("params_hash", sa.String(64), nullable=False),
        sa.Column("outcome", sa.JSON()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "staff_presence",
        sa.Column("user_id", sa.Integer(), _fk("users"), primary_key=True),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )


def _retype(
    dialect: str, table: str, column: str, check: str, old: tuple[str, ...], new: tuple[str, ...]
) -> None:
    if dialect == "postgresql":
        op.drop_constraint(op.f(f"ck_{table}_{check}"), table, type_="check")
        width = max(len(v) for v in new + old)  # widening only: shrinking could truncate
        op.alter_column(table, column, type_=sa.String(width), existing_nullable=False)
        op.create_check_constraint(check, table, sa.column(column).in_(new))
    else:
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.alter_column(column, existing_type=_enum(check, old), type_=_enum(check, new))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    bus = _change_bus()
    _create_tables()
    for table, (role_column, check) in ROLE_COLUMNS.items():
        _retype(dialect, table, role_column, check, OLD_ROLES, NEW_ROLES)
    _retype(dialect, "override_requests", "status", "override_status", OLD_STATUSES, NEW_STATUSES)
    for table, columns in _new_columns().items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.add_column(column)
            for name, condition in NEW_CHECKS.get(table, ()):
                batch.create_check_constraint(name, sa.text(condition))
            if table == "concessions":
                batch.create_unique_constraint(
                    op.f("uq_concessions_override_request_id"), ["override_request_id"]
                )
    # Plain ALTERs: a rebuild would drop the append-only triggers of audit_log.
    # (A SQLite downgrade keeps them, see there, so an upgrade after one finds them.)
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("audit_log")}
    for name in ("before", "after"):
        if name not in present:
            op.add_column("audit_log", sa.Column(name, sa.JSON()))
    op.create_index(
        "ux_authority_limits_role_type",
        "authority_limits",
        ["role", "concession_type"],
        unique=True,
        postgresql_where=sa.text("role IS NOT NULL"),
        sqlite_where=sa.text("role IS NOT NULL"),
    )
    op.create_index(
        "ux_authority_limits_user_type",
        "authority_limits",
        ["user_id", "concession_type"],
        unique=True,
        postgresql_where=sa.text("user_id IS NOT NULL"),
        sqlite_where=sa.text("user_id IS NOT NULL"),
    )
    op.create_index("ix_concessions_granted_by_at", "concessions", ["granted_by_id", "granted_at"])
    op.create_index(
        "ix_override_requests_requested_by_id", "override_requests", ["requested_by_id"]
    )
    for table, (entity, ident, customer) in NEW_WATCHED.items():
        if dialect == "postgresql":
            bus.pg_watch(table, entity, ident, customer)
        else:
            bus.sqlite_watch(table, entity, ident, customer)
    if dialect == "postgresql":
        op.execute(FUNCTIONS_SQL.read_text(encoding="utf-8"))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    bus = _change_bus()
    if dialect == "postgresql":
        op.execute(
            "DO $$ DECLARE f record; BEGIN "
            "FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = current_schema() AND p.proname LIKE 'rapport\\_%' "
            "AND p.proname NOT LIKE 'rapport\\_changes\\_%' "
            "LOOP EXECUTE 'DROP FUNCTION ' || f.sig; END LOOP; END $$"
        )
        op.execute("DROP TRIGGER IF EXISTS audit_log_server_actor ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_server_actor()")
    for table in NEW_WATCHED:
        if dialect == "postgresql":
            bus.pg_unwatch(table)
        else:
            bus.sqlite_unwatch(table)
    op.drop_index("ix_override_requests_requested_by_id", table_name="override_requests")
    op.drop_index("ix_concessions_granted_by_at", table_name="concessions")
    op.drop_index("ux_authority_limits_user_type", table_name="authority_limits")
    op.drop_index("ux_authority_limits_role_type", table_name="authority_limits")
    if dialect == "postgresql":
        op.drop_column("audit_log", "after")
        op.drop_column("audit_log", "before")
    # SQLite keeps the two audit columns: dropping one rebuilds the table and its
    # append-only triggers with it; they are nullable and older code ignores them.
    for table, columns in _new_columns().items():
        with op.batch_alter_table(table) as batch:
            if table == "concessions":
                batch.drop_constraint(op.f("uq_concessions_override_request_id"), type_="unique")
            for name, _condition in NEW_CHECKS.get(table, ()):
                batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
            if table == "override_decisions":
                batch.drop_constraint(
                    op.f("ck_override_decisions_override_decision_kind"), type_="check"
                )
            for column in columns:
                batch.drop_column(column.name)
    op.execute("DELETE FROM override_requests WHERE status IN ('countered', 'expired')")
    _retype(dialect, "override_requests", "status", "override_status", NEW_STATUSES, OLD_STATUSES)
    # A senior agent's matrix rows would collide with the agents' (one row per role and
    # type); the people themselves become agents.
    op.execute("DELETE FROM authority_limits WHERE role = 'senior_agent'")
    for table, (role_column, check) in ROLE_COLUMNS.items():
        op.execute(
            f"UPDATE {table} SET {role_column} = 'agent' WHERE {role_column} = 'senior_agent'"  # noqa: S608 (constants)
        )
        _retype(dialect, table, role_column, check, NEW_ROLES, OLD_ROLES)
    for table in (
        "staff_presence",
        "authority_actions",
        "concession_budgets",
        "authority_settings",
    ):
        op.drop_table(table)
