"""Run and check migrations without an alembic.ini: the app and rapportctl call these."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from models.database import MIGRATIONS_DIR, DatabaseError, friendly_errors, writer


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with friendly_errors(engine), engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with friendly_errors(engine), writer(engine).begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def ensure_schema(engine: Engine, *, migrate: bool) -> None:
    """Bring the embedded database to head, or refuse a shared one that is not.

    On PostgreSQL an administrator migrates; a client that finds another
    version must not start and write into a schema it does not understand.
    """
    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return
    if migrate:
        upgrade(engine)
        return
    where = engine.url.render_as_string(hide_password=True)
    if current is None:
        raise DatabaseError(
            f"the database {where} has no Rapport schema; run: rapportctl db upgrade --db {where}",
            "schema",
        )
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current in known:
        raise DatabaseError(
            f"the database schema is at {current} but this Rapport needs {head}; "
            f"ask your administrator to run: rapportctl db upgrade --db {where}",
            "schema",
        )
    raise DatabaseError(
        f"the database schema {current} is newer than this Rapport ({head}); "
        "install the Rapport version your administrator deployed",
        "schema",
    )
