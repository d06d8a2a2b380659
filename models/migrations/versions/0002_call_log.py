"""call log: the line a call came in on, and the missed call a callback task answers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("line", sa.String(length=80), nullable=True))
        batch_op.create_index("ix_interactions_line_started", ["line", "started_at"], unique=False)
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("interaction_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_tasks_interaction_id"), ["interaction_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tasks_interaction_id_interactions"),
            "interactions",
            ["interaction_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_tasks_interaction_id_interactions"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_tasks_interaction_id"))
        batch_op.drop_column("interaction_id")
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_interactions_line_started")
        batch_op.drop_column("line")
