"""Alembic environment: one history for PostgreSQL and SQLite (batch mode)."""

from __future__ import annotations

from alembic import context

from models.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `rapportctl db upgrade` (models.migrate)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
