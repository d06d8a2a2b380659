"""cases at work: references from a sequence, SLA calendars and policies, commitments
with kinds and contact routes, hand-off outcomes, feedback scores, macros, presence

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Case references (`CS-26-000123`) come from the database so two agents never quote the
same one: a SEQUENCE on PostgreSQL; on SQLite a one-column AUTOINCREMENT table
`case_numbers` (insert a row, read its rowid) since SQLite has no sequences. Both are
set past the references already there (the seeder moves them again after seeding).

Columns are added without rebuilding tables (a rebuild on SQLite drops the change-bus
and FTS triggers). `case_events.kind` gains values, which changes its CHECK: on SQLite
that rebuilds case_events, whose change-bus triggers are then given back. The new
tables that views show (feedback, case_presence) announce their changes like the others.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OLD_EVENT_KINDS = (
    "opened", "note", "internal_note", "status_changed", "handoff", "assigned", "contact",
    "commitment", "task", "concession", "resolved",
)  # fmt: skip
NEW_EVENT_KINDS = OLD_EVENT_KINDS + (
    "reopened", "closed", "claimed", "priority", "feedback", "sla_warning", "sla_breach", "edited",
)  # fmt: skip
CHANNELS = ("phone", "email", "sms", "chat", "store", "web", "social", "mail")
COMMITMENT_KINDS = ("callback", "visit", "delivery", "refund", "follow_up", "other")
_CUSTOMER_OF_CASE = "(SELECT customer_id FROM cases WHERE id = {r}.case_id)"
NEW_WATCHED = {
    "feedback": ("feedback", "{r}.id", "{r}.customer_id"),
    "case_presence": ("presence", "{r}.case_id", _CUSTOMER_OF_CASE),
}


def _change_bus() -> ModuleType:
    """Migration 0009, whose trigger builders the tables added here reuse."""
    path = Path(__file__).with_name("0009_change_bus.py")
    spec = importlib.util.spec_from_file_location("rapport_migration_0009", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kind_type(kinds: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *kinds, name="case_event_kind", native_enum=False, create_constraint=True, length=14
    )


def _fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id")


def _new_columns() -> dict[str, list[sa.Column[object]]]:
    ts = sa.DateTime(timezone=True)

    def enum(name: str, values: tuple[str, ...]) -> sa.Enum:
        length = max(len(v) for v in values)
        return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)

    cases: list[sa.Column[object]] = [
        sa.Column(name, column_type, nullable=True)
        for name, column_type in (
            ("priority_reason", sa.String(200)),
            ("first_response_due_at", ts),
            ("sla_paused_since", ts),
            ("sla_warned_at", ts),
            ("sla_breached_at", ts),
            ("first_response_breached_at", ts),
            ("claimed_at", ts),
            ("reopened_at", ts),
            ("close_reason", sa.Text()),
        )
    ]
    cases += [
        sa.Column("sla_policy_id", sa.Integer(), _fk("sla_policies")),
        sa.Column("claimed_by_id", sa.Integer(), _fk("users")),
    ]
    return {
        "cases": cases,
        "tasks": [
            sa.Column("completed_by_id", sa.Integer(), _fk("users")),
            sa.Column("outcome", sa.Text(), nullable=True),
        ],
        "commitments": [
            sa.Column(
                "kind",
                enum("commitment_kind", COMMITMENT_KINDS),
                nullable=False,
                server_default="other",
            ),
            sa.Column("contact_channel", enum("commitment_channel", CHANNELS), nullable=True),
            sa.Column("contact_phone_id", sa.Integer(), _fk("customer_phones")),
            sa.Column("created_by_id", sa.Integer(), _fk("users")),
            sa.Column("resolved_by_id", sa.Integer(), _fk("users")),
            sa.Column("broken_at", ts),
            sa.Column("cancel_reason", sa.String(300)),
        ],
        "feedback": [
            sa.Column("sentiment_score", sa.Float(), nullable=True),
            sa.Column("language", sa.String(8), nullable=True),
            sa.Column("recorded_by_id", sa.Integer(), _fk("users")),
            sa.Column("follow_up_task_id", sa.Integer(), _fk("tasks")),
        ],
    }


def _add_columns(bus: ModuleType, dialect: str) -> None:
    """Batch mode: plain ALTERs on PostgreSQL; on SQLite a rebuild (CHECK and FOREIGN KEY
    cannot be added otherwise), after which the table gets its change-bus triggers back."""
    for table, columns in _new_columns().items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.add_column(column)
        if dialect == "sqlite" and table in bus.WATCHED:
            bus.sqlite_unwatch(table)
            bus.sqlite_watch(table, *bus.WATCHED[table])


def _create_tables() -> None:
    op.create_table(
        "business_calendars",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("holiday_country", sa.String(2)),
        sa.Column("holiday_subdivision", sa.String(10)),
    )
    op.create_table(
        "business_hours",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("calendar_id", sa.Integer(), _fk("business_calendars"), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=False),
        sa.Column("closes", sa.Time(), nullable=False),
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday"),
        sa.CheckConstraint("opens < closes", name="interval"),
    )
    op.create_index("ix_business_hours_calendar_id", "business_hours", ["calendar_id"])
    op.create_table(
        "calendar_closures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("calendar_id", sa.Integer(), _fk("business_calendars"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
    )
    op.create_index("ix_calendar_closures_calendar_id", "calendar_closures", ["calendar_id"])
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("category", sa.String(40)),
        sa.Column("priority", sa.String(10)),
        sa.Column("tier", sa.String(10)),
        sa.Column("first_response_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.Column("warn_at_percent", sa.SmallInteger(), nullable=False),
        sa.Column("calendar_id", sa.Integer(), _fk("business_calendars"), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("first_response_minutes > 0", name="first_response"),
        sa.CheckConstraint("resolution_minutes > 0", name="resolution"),
        sa.CheckConstraint("warn_at_percent > 0 AND warn_at_percent < 100", name="warn_at"),
    )
    op.create_table(
        "macros",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "reply",
                "note",
                name="macro_kind",
                native_enum=False,
                create_constraint=True,
                length=5,
            ),
            nullable=False,
        ),  # fmt: skip
        sa.Column("department_id", sa.Integer(), _fk("departments")),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), _fk("users")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_macros_department_id", "macros", ["department_id"])
    op.create_table(
        "case_presence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), _fk("cases"), nullable=False),
        sa.Column("user_id", sa.Integer(), _fk("users"), nullable=False),
        sa.Column("workstation", sa.String(80), nullable=False),
        sa.Column(
            "activity",
            sa.Enum(
                "viewing",
                "typing",
                name="presence_activity",
                native_enum=False,
                create_constraint=True,
                length=7,
            ),
            nullable=False,
        ),  # fmt: skip
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "uq_case_presence_viewer",
        "case_presence",
        ["case_id", "user_id", "workstation"],
        unique=True,
    )


# My work for an agent at 1,000,000 customers, the sweep of overdue promises, the case tab.
WORK_INDEXES = {
    "ix_cases_assignee_status_due": ("cases", ["assignee_id", "status", "sla_due_at"]),
    "ix_tasks_assignee_status_due": ("tasks", ["assignee_id", "status", "due_at"]),
    "ix_tasks_department_status_due": ("tasks", ["department_id", "status", "due_at"]),
    "ix_commitments_owner_status_due": ("commitments", ["owner_id", "status", "due_until"]),
    "ix_commitments_status_due": ("commitments", ["status", "due_until"]),
    # The case tab reads a case's feedback.
    "ix_feedback_case_id": ("feedback", ["case_id"]),
}


def _case_numbers_after_existing(dialect: str) -> None:
    bind = op.get_bind()
    last = bind.execute(
        sa.text("SELECT max(CAST(substr(reference, 7) AS INTEGER)) FROM cases")
    ).scalar()
    if dialect == "postgresql":
        op.execute("CREATE SEQUENCE case_reference_seq AS bigint START 1")
        if last:
            bind.execute(sa.text("SELECT setval('case_reference_seq', :n)"), {"n": int(last)})
    else:
        op.create_table(
            "case_numbers",
            sa.Column("n", sa.Integer(), primary_key=True, autoincrement=True),
            sqlite_autoincrement=True,
        )
        if last:
            bind.execute(sa.text("INSERT INTO case_numbers(n) VALUES (:n)"), {"n": int(last)})


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    bus = _change_bus()
    _create_tables()
    if dialect == "sqlite":
        # Its triggers read `cases`, which is about to be rebuilt: SQLite refuses the
        # rename while a trigger names the table. Given back below.
        bus.sqlite_unwatch("case_events")
    _add_columns(bus, dialect)
    if dialect == "postgresql":
        op.drop_constraint(op.f("ck_case_events_case_event_kind"), "case_events", type_="check")
        op.create_check_constraint(
            "case_event_kind", "case_events", sa.column("kind").in_(NEW_EVENT_KINDS)
        )
        for table, (entity, ident, customer) in NEW_WATCHED.items():
            bus.pg_watch(table, entity, ident, customer)
    else:
        with op.batch_alter_table("case_events", recreate="always") as batch:
            batch.alter_column(
                "kind", existing_type=_kind_type(OLD_EVENT_KINDS), type_=_kind_type(NEW_EVENT_KINDS)
            )
        bus.sqlite_watch("case_events", *bus.WATCHED["case_events"])
        for table, (entity, ident, customer) in NEW_WATCHED.items():
            bus.sqlite_watch(table, entity, ident, customer)
    _case_numbers_after_existing(dialect)
    for name, (table, columns) in WORK_INDEXES.items():
        op.create_index(name, table, columns)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    bus = _change_bus()
    for name, (table, _columns) in WORK_INDEXES.items():
        op.drop_index(name, table_name=table)
    if dialect == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS case_reference_seq")
        for table in NEW_WATCHED:
            bus.pg_unwatch(table)
        op.execute(
            "DELETE FROM case_events WHERE kind NOT IN ("  # noqa: S608 (constants of this module)
            + ", ".join(f"'{k}'" for k in OLD_EVENT_KINDS)
            + ")"
        )
        op.drop_constraint(op.f("ck_case_events_case_event_kind"), "case_events", type_="check")
        op.create_check_constraint(
            "case_event_kind", "case_events", sa.column("kind").in_(OLD_EVENT_KINDS)
        )
    else:
        op.drop_table("case_numbers")
        for table in NEW_WATCHED:
            bus.sqlite_unwatch(table)
        op.execute(
            "DELETE FROM case_events WHERE kind NOT IN ("  # noqa: S608 (constants of this module)
            + ", ".join(f"'{k}'" for k in OLD_EVENT_KINDS)
            + ")"
        )
        bus.sqlite_unwatch("case_events")
        with op.batch_alter_table("case_events", recreate="always") as batch:
            batch.alter_column(
                "kind", existing_type=_kind_type(NEW_EVENT_KINDS), type_=_kind_type(OLD_EVENT_KINDS)
            )
    for table, columns in _new_columns().items():
        with op.batch_alter_table(table) as batch:
            if table == "commitments":
                for check in (
                    "ck_commitments_commitment_kind",
                    "ck_commitments_commitment_channel",
                ):
                    batch.drop_constraint(op.f(check), type_="check")
            for column in columns:
                batch.drop_column(column.name)
        if dialect == "sqlite" and table in bus.WATCHED:
            # The rebuilt table lost its change-bus triggers.
            bus.sqlite_unwatch(table)
            bus.sqlite_watch(table, *bus.WATCHED[table])
    if dialect == "sqlite":
        bus.sqlite_watch("case_events", *bus.WATCHED["case_events"])
    for table in ("case_presence", "macros", "sla_policies", "calendar_closures",
                  "business_hours", "business_calendars"):  # fmt: skip
        op.drop_table(table)
