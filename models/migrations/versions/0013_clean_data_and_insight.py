"""clean data and insight: legacy imports, source records, duplicate candidates, merges
that can be undone, customer values (RFM segments) and campaigns

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

IMPORT_KINDS = ("customers", "orders", "interactions")
IMPORT_STATUSES = ("running", "done", "failed", "dry_run")
DUPLICATE_STATUSES = ("open", "merged", "dismissed")
FOUND_BY = ("scan", "import", "creation", "staged")
CHANNELS = ("phone", "email", "sms", "chat", "store", "web", "social", "mail")
TABLES = (
    "campaign_members",
    "campaigns",
    "customer_values",
    "customer_merges",
    "duplicate_candidates",
    "source_records",
    "import_runs",
    "import_mappings",
)


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    length = max(len(v) for v in values)
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def _fk(table: str, ondelete: str | None = None) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id", ondelete=ondelete)


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _imports() -> None:
    op.create_table(
        "import_mappings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("kind", _enum("import_kind", IMPORT_KINDS), nullable=False),
        sa.Column("mapping_json", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(63), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
    )
    op.create_index(
        "uq_import_mappings_name_kind", "import_mappings", ["name", "kind"], unique=True
    )
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("kind", _enum("import_kind", IMPORT_KINDS), nullable=False),
        sa.Column("file_name", sa.String(260), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("status", _enum("import_status", IMPORT_STATUSES), nullable=False),
        sa.Column("started_by", sa.String(63), nullable=False),
        sa.Column("started_at", _ts(), nullable=False),
        sa.Column("finished_at", _ts()),
        sa.Column("read_rows", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("duplicate_candidates", sa.Integer(), nullable=False),
        sa.Column("last_line", sa.Integer(), nullable=False),
        sa.Column("rejected_file", sa.String(500)),
        sa.Column("message", sa.Text()),
        sa.CheckConstraint(
            "read_rows = imported + updated + unchanged + rejected", name="counts_add_up"
        ),
    )
    op.create_index("ix_import_runs_source_sha", "import_runs", ["source", "kind", "file_sha256"])
    op.create_table(
        "source_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("kind", _enum("import_kind", IMPORT_KINDS), nullable=False),
        sa.Column("external_ref", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.Column("import_run_id", sa.Integer(), _fk("import_runs")),
        sa.Column("updated_at", _ts(), nullable=False),
    )
    op.create_index(
        "uq_source_records_ref", "source_records", ["source", "kind", "external_ref"], unique=True
    )
    op.create_index("ix_source_records_entity", "source_records", ["kind", "entity_id"])


def _duplicates() -> None:
    op.create_table(
        "duplicate_candidates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_a_id", sa.Integer(), _fk("customers"), nullable=False),
        sa.Column("customer_b_id", sa.Integer(), _fk("customers"), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence_json", sa.Text(), nullable=False),
        sa.Column("status", _enum("duplicate_status", DUPLICATE_STATUSES), nullable=False),
        sa.Column("found_by", _enum("duplicate_found_by", FOUND_BY), nullable=False),
        sa.Column("found_at", _ts(), nullable=False),
        sa.Column("import_run_id", sa.Integer(), _fk("import_runs")),
        sa.Column("decided_by", sa.String(63)),
        sa.Column("decided_at", _ts()),
        sa.CheckConstraint("customer_a_id < customer_b_id", name="ordered_pair"),
        sa.CheckConstraint("score >= 0 AND score <= 1", name="score"),
    )
    op.create_index(
        "uq_duplicate_candidates_pair",
        "duplicate_candidates",
        ["customer_a_id", "customer_b_id"],
        unique=True,
    )
    op.create_index(
        "ix_duplicate_candidates_status_score", "duplicate_candidates", ["status", "score"]
    )
    op.create_index("ix_duplicate_candidates_b", "duplicate_candidates", ["customer_b_id"])
    op.create_table(
        "customer_merges",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("survivor_id", sa.Integer(), _fk("customers"), nullable=False),
        sa.Column("merged_id", sa.Integer(), _fk("customers"), nullable=False),
        sa.Column("candidate_id", sa.Integer(), _fk("duplicate_candidates")),
        sa.Column("merged_by", sa.String(63), nullable=False),
        sa.Column("merged_at", _ts(), nullable=False),
        sa.Column("log_json", sa.Text(), nullable=False),
        sa.Column("unmerged_by", sa.String(63)),
        sa.Column("unmerged_at", _ts()),
        sa.CheckConstraint("survivor_id <> merged_id", name="not_itself"),
    )
    op.create_index("ix_customer_merges_merged", "customer_merges", ["merged_id"])
    op.create_index("ix_customer_merges_survivor", "customer_merges", ["survivor_id"])


def _marketing() -> None:
    op.create_table(
        "customer_values",
        sa.Column("customer_id", sa.Integer(), _fk("customers"), primary_key=True),
        sa.Column("last_order_at", _ts()),
        sa.Column("orders_12m", sa.Integer(), nullable=False),
        sa.Column("monetary_cents", sa.Integer(), nullable=False),
        sa.Column("recency_score", sa.SmallInteger(), nullable=False),
        sa.Column("frequency_score", sa.SmallInteger(), nullable=False),
        sa.Column("monetary_score", sa.SmallInteger(), nullable=False),
        sa.Column("segment", sa.String(40), nullable=False),
        sa.Column("product_lines", sa.String(500)),
        sa.Column("computed_at", _ts(), nullable=False),
    )
    op.create_index("ix_customer_values_segment", "customer_values", ["segment"])
    op.create_index("ix_customer_values_monetary", "customer_values", ["monetary_cents"])
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("channel", _enum("campaign_channel", CHANNELS), nullable=False),
        sa.Column("criteria_json", sa.Text(), nullable=False),
        sa.Column("left_out_json", sa.Text(), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("return_days", sa.SmallInteger(), nullable=False),
        sa.Column("created_by", sa.String(63), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
    )
    op.create_table(
        "campaign_members",
        sa.Column(
            "campaign_id", sa.Integer(), _fk("campaigns", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("customer_id", sa.Integer(), _fk("customers"), primary_key=True),
        sa.Column("contact", sa.String(254)),
    )
    op.create_index("ix_campaign_members_customer", "campaign_members", ["customer_id"])


def upgrade() -> None:
    _imports()
    _duplicates()
    _marketing()


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
