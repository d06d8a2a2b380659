"""customers by tier: the dashboards' tier slice and their per-tier comparison

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

Every dashboard statement of a tier slice filters its rows with
`customer_id IN (SELECT id FROM customers WHERE tier = ...)`; without an index that
sub-query read the whole customers table (11,000 pages at 645,000 customers) once per
statement, 8 times per open of Contact quality. On (tier, id) it is an index-only scan
of one tier's entries (bench/dashboard.py, docs/benchmarks.md "bench.dashboard").
An index only: no table change, so SQLite needs no batch rebuild.
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_customers_tier_id", "customers", ["tier", "id"])


def downgrade() -> None:
    op.drop_index("ix_customers_tier_id", table_name="customers")
