"""search and customer view indexes: nearest-first name search, order totals from an index

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

PostgreSQL: a GiST trigram index on `customers.search_name`, which returns the
names nearest to a query in index order (`:q <<-> search_name ... LIMIT n`), so
a name search stops after n rows however many customers share the surname (the
GIN index must score every row holding the trigrams first). The GIN index stays:
it serves the prefix `LIKE` pass.

Both: `(customer_id, status, total_cents, currency)` on `orders`, so the
customer header's order count and lifetime value are read from the index alone.
An index, not a table change: SQLite needs no batch rebuild (which would drop
triggers).
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_orders_customer_totals",
        "orders",
        ["customer_id", "status", "total_cents", "currency"],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_customers_search_name_gist ON customers "
            "USING gist (search_name gist_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_customers_search_name_gist")
    op.drop_index("ix_orders_customer_totals", table_name="orders")
