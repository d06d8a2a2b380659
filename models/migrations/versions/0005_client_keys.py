"""client keys: a retried note or wrap-up is recognised instead of saved twice

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

The client makes a key (a UUID) when the agent starts a note or a wrap-up and
sends it again on retry; a UNIQUE index finds the first save when its reply was
lost. Plain columns and indexes: no table rebuild on SQLite (which would drop the
tables' triggers); NULL keys (rows saved before, or by scripts) never collide.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CLIENT_KEY_LENGTH = 64  # models.limits.CLIENT_KEY_LENGTH


def upgrade() -> None:
    op.add_column(
        "customer_notes", sa.Column("client_key", sa.String(CLIENT_KEY_LENGTH), nullable=True)
    )
    op.create_index("uq_customer_notes_client_key", "customer_notes", ["client_key"], unique=True)
    op.add_column(
        "interactions", sa.Column("wrap_up_key", sa.String(CLIENT_KEY_LENGTH), nullable=True)
    )
    op.create_index("uq_interactions_wrap_up_key", "interactions", ["wrap_up_key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_interactions_wrap_up_key", table_name="interactions")
    with op.batch_alter_table("interactions", recreate="never") as batch_op:
        batch_op.drop_column("wrap_up_key")
    op.drop_index("uq_customer_notes_client_key", table_name="customer_notes")
    with op.batch_alter_table("customer_notes", recreate="never") as batch_op:
        batch_op.drop_column("client_key")
