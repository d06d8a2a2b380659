"""call identity: one interaction per (call source, call id), call ids up to 128 characters

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

A unique index, not a table constraint: on SQLite a constraint would need a table
rebuild (batch mode), which drops the table's triggers; an index needs none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CALL_ID_LENGTH = 128  # app.telephony.events.MAX_CALL_ID_LENGTH


def upgrade() -> None:
    op.add_column("interactions", sa.Column("call_source", sa.String(length=24), nullable=True))
    # Calls recorded before this revision did not say where they came from.
    op.execute("UPDATE interactions SET call_source = 'unknown' WHERE call_id IS NOT NULL")
    # Before the index: the same call may have been recorded twice; keep the first.
    op.execute(
        "DELETE FROM interactions WHERE call_id IS NOT NULL AND id NOT IN ("
        "SELECT min(id) FROM interactions WHERE call_id IS NOT NULL "
        "GROUP BY call_source, call_id) "
        "AND id NOT IN (SELECT interaction_id FROM tasks WHERE interaction_id IS NOT NULL) "
        "AND id NOT IN (SELECT interaction_id FROM feedback WHERE interaction_id IS NOT NULL) "
        "AND id NOT IN (SELECT interaction_id FROM offer_events WHERE interaction_id IS NOT NULL)"
    )
    op.create_index("uq_interactions_call", "interactions", ["call_source", "call_id"], unique=True)
    if op.get_bind().dialect.name == "postgresql":  # SQLite does not enforce lengths
        op.alter_column(
            "interactions",
            "call_id",
            type_=sa.String(length=CALL_ID_LENGTH),
            existing_type=sa.String(length=80),
        )
        op.create_check_constraint(
            "ck_interactions_call_has_source",
            "interactions",
            "call_id IS NULL OR call_source IS NOT NULL",
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("ck_interactions_call_has_source", "interactions", type_="check")
        op.execute("UPDATE interactions SET call_id = left(call_id, 80)")
        op.alter_column(
            "interactions",
            "call_id",
            type_=sa.String(length=80),
            existing_type=sa.String(length=CALL_ID_LENGTH),
        )
    op.drop_index("uq_interactions_call", table_name="interactions")
    with op.batch_alter_table("interactions", recreate="never") as batch_op:
        batch_op.drop_column("call_source")
