"""Data layer: typed SQLAlchemy models, the migration history and the demo data.

Nothing here imports Qt; the import-linter contract in pyproject.toml keeps it so.
"""
