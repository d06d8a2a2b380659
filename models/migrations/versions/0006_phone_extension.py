"""phone extension: the caller's extension kept on the call, apart from the number

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09

A nullable column added without a table rebuild (no batch copy on SQLite, so the
table's triggers stay).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PHONE_EXTENSION_LENGTH = 16  # models.limits.PHONE_EXTENSION_LENGTH


def upgrade() -> None:
    op.add_column(
        "interactions",
        sa.Column("phone_extension", sa.String(length=PHONE_EXTENSION_LENGTH), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("interactions", recreate="never") as batch_op:
        batch_op.drop_column("phone_extension")
