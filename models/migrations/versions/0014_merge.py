"""customer merge: the functions that move a merged customer's protected rows

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

The schema of merges is 0013's (customer_merges, duplicate_candidates). On PostgreSQL
agents cannot UPDATE concessions and override_requests, so `0014_merge.sql` (beside
this file) adds the two SECURITY DEFINER functions that move them for a merge and back
for an unmerge (app/services/merge.py). SQLite has no roles: nothing to do there.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

FUNCTIONS_SQL = Path(__file__).with_name("0014_merge.sql")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTIONS_SQL.read_text(encoding="utf-8"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS rapport_unmerge_move_protected(int)")
        op.execute("DROP FUNCTION IF EXISTS rapport_merge_move_protected(int)")
