"""order totals index: the customer header's count and lifetime value from an index

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

`(customer_id, status, total_cents, currency)` on `orders`, so the customer
header's order count and lifetime value are read from the index alone (a covering
index), whatever the number of orders. An index, not a table change: SQLite needs
no batch rebuild (which would drop triggers).

A GiST trigram index for nearest-first name search was tried and measured (see
docs/benchmarks.md): slower than the GIN index at 1,000,000 customers, and the
planner then chose it for LIKE and <% too, so it is not created.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_orders_customer_totals",
        "orders",
        ["customer_id", "status", "total_cents", "currency"],
    )


def downgrade() -> None:
    op.drop_index("ix_orders_customer_totals", table_name="orders")
