"""next best action: association rules mined from order lines, catalogue relations,
offers kept ready, product lines, and impressions that record what was shown and what
became of it

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

`offer_events` (since 0001) becomes the impression: its kinds gain add_on, counterpart
and new_line, its outcomes offered, and it gains the impression's client-made key, what
produced it (rule, offer), and what became of it (the decline reason, the concession
offered with it, a later order of the product). The CHECKs change, which on SQLite
rebuilds offer_events; it has no change-bus triggers to give back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD_KINDS = ("refill", "cross_sell", "up_sell", "down_sell", "retention", "welcome")
NEW_KINDS = (
    "refill", "add_on", "counterpart", "new_line", "down_sell", "retention", "welcome",
    "cross_sell", "up_sell",
)  # fmt: skip
OLD_OUTCOMES = ("shown", "accepted", "declined")
NEW_OUTCOMES = ("shown", "accepted", "declined", "offered")
RELATION_KINDS = ("counterpart", "complements", "replaces")
CONCESSION_TYPES = (
    "discount", "credit", "sample", "goodwill_gift", "fee_waiver", "policy_exception",
)  # fmt: skip


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    length = max(len(v) for v in values)
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def _fk(table: str, ondelete: str | None = None) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id", ondelete=ondelete)


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _create_tables() -> None:
    op.create_table(
        "product_relations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("product_id", sa.Integer(), _fk("products"), nullable=False),
        sa.Column("related_product_id", sa.Integer(), _fk("products"), nullable=False),
        sa.Column("kind", _enum("product_relation_kind", RELATION_KINDS), nullable=False),
        sa.Column("note", sa.String(200)),
        sa.Column("created_at", _ts(), nullable=False),
        sa.UniqueConstraint("product_id", "related_product_id", "kind"),
        sa.CheckConstraint("product_id <> related_product_id", name="not_itself"),
    )
    op.create_index("ix_product_relations_related", "product_relations", ["related_product_id"])
    op.create_table(
        "rule_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mined_at", _ts(), nullable=False),
        sa.Column("mined_by", sa.String(63), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("baskets", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("min_support", sa.Float(), nullable=False),
        sa.Column("min_confidence", sa.Float(), nullable=False),
        sa.Column("max_length", sa.SmallInteger(), nullable=False),
        sa.Column("rule_count", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
    )
    op.create_table(
        "association_rules",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), _fk("rule_runs"), nullable=False),
        sa.Column("antecedent_key", sa.String(200), nullable=False),
        sa.Column("consequent_key", sa.String(200), nullable=False),
        sa.Column("antecedent_size", sa.SmallInteger(), nullable=False),
        sa.Column("consequent_size", sa.SmallInteger(), nullable=False),
        sa.Column("baskets", sa.Integer(), nullable=False),
        sa.Column("support", sa.Float(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("lift", sa.Float(), nullable=False),
        sa.CheckConstraint("support > 0 AND support <= 1", name="support"),
        sa.CheckConstraint("confidence > 0 AND confidence <= 1", name="confidence"),
        sa.CheckConstraint("lift > 0", name="lift"),
    )
    op.create_index("ix_association_rules_run_id", "association_rules", ["run_id"])
    op.create_table(
        "association_rule_items",
        sa.Column(
            "rule_id",
            sa.Integer(),
            _fk("association_rules", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("product_id", sa.Integer(), _fk("products"), primary_key=True),
        sa.Column("side", sa.String(1), primary_key=True),
        sa.CheckConstraint("side IN ('a', 'c')", name="side"),
    )
    op.create_index(
        "ix_association_rule_items_product", "association_rule_items", ["product_id", "side"]
    )
    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("kind", _enum("offer_kind", NEW_KINDS), nullable=False),
        sa.Column("concession_type", _enum("concession_type", CONCESSION_TYPES), nullable=False),
        sa.Column("amount_cents", sa.Integer()),
        sa.Column("percent", sa.Numeric(5, 2)),
        sa.Column("currency", sa.String(3), nullable=False, server_default="USD"),
        sa.Column("description", sa.Text()),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.CheckConstraint("amount_cents IS NULL OR amount_cents >= 0", name="amount"),
        sa.CheckConstraint("percent IS NULL OR (percent > 0 AND percent <= 100)", name="percent"),
    )


def _impression_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("impression_key", sa.String(100)),
        sa.Column("case_id", sa.Integer(), _fk("cases")),
        sa.Column("offer_id", sa.Integer(), _fk("offers")),
        sa.Column("rule_id", sa.Integer(), _fk("association_rules", ondelete="SET NULL")),
        sa.Column("rule_ref", sa.String(200)),
        sa.Column("rank", sa.SmallInteger()),
        sa.Column("outcome_at", _ts()),
        sa.Column("decline_reason", sa.String(40)),
        sa.Column("concession_id", sa.Integer(), _fk("concessions")),
        sa.Column("order_id", sa.Integer(), _fk("orders")),
        sa.Column("ordered_at", _ts()),
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _create_tables()
    op.add_column("products", sa.Column("product_line", sa.String(60)))
    if dialect == "postgresql":
        for name, check, values in (
            ("kind", "offer_kind", NEW_KINDS),
            ("outcome", "offer_outcome", NEW_OUTCOMES),
        ):
            op.drop_constraint(op.f(f"ck_offer_events_{check}"), "offer_events", type_="check")
            op.alter_column(
                "offer_events",
                name,
                type_=sa.String(max(len(v) for v in values)),
                existing_nullable=False,
            )
            op.create_check_constraint(check, "offer_events", sa.column(name).in_(values))
        for column in _impression_columns():
            op.add_column("offer_events", column)
        op.create_unique_constraint(
            op.f("uq_offer_events_impression_key"), "offer_events", ["impression_key"]
        )
    else:
        with op.batch_alter_table("offer_events", recreate="always") as batch:
            batch.alter_column(
                "kind",
                existing_type=_enum("offer_kind", OLD_KINDS),
                type_=_enum("offer_kind", NEW_KINDS),
            )
            batch.alter_column(
                "outcome",
                existing_type=_enum("offer_outcome", OLD_OUTCOMES),
                type_=_enum("offer_outcome", NEW_OUTCOMES),
            )
            for column in _impression_columns():
                batch.add_column(column)
            batch.create_unique_constraint(
                op.f("uq_offer_events_impression_key"), ["impression_key"]
            )
    op.create_index("ix_offer_events_at", "offer_events", ["at"])
    # A new mining deletes the old rules, whose impressions' rule_id is then SET NULL:
    # without it each deleted rule scans offer_events (19 s for 2,782 rules at 1 M).
    op.create_index("ix_offer_events_rule_id", "offer_events", ["rule_id"])
    op.create_index("ix_offer_events_agent_at", "offer_events", ["agent_id", "at"])
    op.create_index(
        "ix_offer_events_unlinked", "offer_events", ["customer_id", "product_id", "order_id"]
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_offer_events_unlinked", table_name="offer_events")
    op.drop_index("ix_offer_events_agent_at", table_name="offer_events")
    op.drop_index("ix_offer_events_rule_id", table_name="offer_events")
    op.drop_index("ix_offer_events_at", table_name="offer_events")
    # What older code cannot read goes: the new kinds and outcomes.
    op.execute(
        "DELETE FROM offer_events WHERE kind IN ('add_on', 'counterpart', 'new_line') "
        "OR outcome = 'offered'"
    )
    if dialect == "postgresql":
        op.drop_constraint(op.f("uq_offer_events_impression_key"), "offer_events", type_="unique")
        for column in _impression_columns():
            op.drop_column("offer_events", column.name)
        for name, check, values in (
            ("kind", "offer_kind", OLD_KINDS),
            ("outcome", "offer_outcome", OLD_OUTCOMES),
        ):
            op.drop_constraint(op.f(f"ck_offer_events_{check}"), "offer_events", type_="check")
            op.create_check_constraint(check, "offer_events", sa.column(name).in_(values))
    else:
        with op.batch_alter_table("offer_events", recreate="always") as batch:
            batch.drop_constraint(op.f("uq_offer_events_impression_key"), type_="unique")
            for column in _impression_columns():
                batch.drop_column(column.name)
            batch.alter_column(
                "kind",
                existing_type=_enum("offer_kind", NEW_KINDS),
                type_=_enum("offer_kind", OLD_KINDS),
            )
            batch.alter_column(
                "outcome",
                existing_type=_enum("offer_outcome", NEW_OUTCOMES),
                type_=_enum("offer_outcome", OLD_OUTCOMES),
            )
    # A plain DROP COLUMN (SQLite 3.35+): a rebuild would drop the products' triggers.
    op.execute("ALTER TABLE products DROP COLUMN product_line")
    for table in (
        "offers",
        "association_rule_items",
        "association_rules",
        "rule_runs",
        "product_relations",
    ):
        op.drop_table(table)
