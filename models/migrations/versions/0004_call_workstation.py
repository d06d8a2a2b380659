"""call workstation: where a call popped, so its missed calls stay in that call log

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

A nullable column and an index: plain ALTER TABLE ADD COLUMN on both databases, no
table rebuild on SQLite (interactions is referenced by tasks, feedback and offers).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WORKSTATION_LENGTH = 80  # models.limits.WORKSTATION_LENGTH


def upgrade() -> None:
    op.add_column(
        "interactions",
        sa.Column("workstation", sa.String(length=WORKSTATION_LENGTH), nullable=True),
    )
    op.create_index(
        "ix_interactions_workstation_started", "interactions", ["workstation", "started_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_interactions_workstation_started", table_name="interactions")
    with op.batch_alter_table("interactions", recreate="never") as batch_op:
        batch_op.drop_column("workstation")
