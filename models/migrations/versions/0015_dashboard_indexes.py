"""dashboard indexes: the time columns the supervisors' dashboards read by period

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

The dashboards (app/services/dashboards.py) count a quarter of cases, contacts,
feedback and concessions at a time; without these each count read the whole table
(bench/dashboard.py, docs/benchmarks.md). offer_events already has ix_offer_events_at
(0012). No expression index on coalesce(resolved_at, closed_at): SQLAlchemy cannot
reflect one on SQLite (a warning, an error in the tests), and the cases still open
or closed in the period are read with one scan of cases either way. Indexes only: no
table change, so SQLite needs no batch rebuild (which would drop triggers).

Written after 0013; issue 14's 0014 goes in between at the merge.
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_cases_opened_at", "cases", ["opened_at"]),
    ("ix_cases_sla_breached_at", "cases", ["sla_breached_at"]),
    ("ix_interactions_started_at", "interactions", ["started_at"]),
    ("ix_feedback_received_at", "feedback", ["received_at"]),
    ("ix_concessions_granted_at", "concessions", ["granted_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
