"""The agent context: who acts comes from the connection, not from a name typed in a file."""

from __future__ import annotations

import uuid

import psycopg
from sqlalchemy import Engine

from app.agent import AgentContext, resolve_agent
from app.bootstrap import build_services
from app.config import load_settings
from models.database import Database, make_engine
from models.enums import Role
from models.people import User


def _add_staff(engine: Engine, login: str, name: str, role: Role) -> int:
    with Database(engine).write() as session:
        user = User(login=login, display_name=name, role=role)
        session.add(user)
        session.flush()
        return user.id


def _resolve(engine: Engine, configured: str | None) -> AgentContext:
    with Database(engine).read() as session:
        return resolve_agent(session, configured, "db-1", "ann@pc-7")


def test_on_sqlite_the_configured_login_names_the_agent(sqlite_engine: Engine) -> None:
    staff_id = _add_staff(sqlite_engine, "ann", "Ann Rivers", Role.SUPERVISOR)
    agent = _resolve(sqlite_engine, "ann")
    assert agent == AgentContext("ann", "Ann Rivers", Role.SUPERVISOR, staff_id, "ann@pc-7", "db-1")
    assert agent.actor == "ann"
    assert agent.note_draft(5).database == "db-1"
    # A login the staff table does not know acts as a plain agent with no staff id.
    stranger = _resolve(sqlite_engine, "zed")
    assert (stranger.login, stranger.display_name, stranger.role) == ("zed", "zed", Role.AGENT)
    assert stranger.user_id is None


def test_on_postgresql_the_login_is_session_user_whatever_the_config_says(
    pg_engine: Engine, pg_admin_url: str
) -> None:
    role = f"agent_ctx_{uuid.uuid4().hex[:8]}"
    staff_id = _add_staff(pg_engine, role, "Bo Agent", Role.AGENT)
    _add_staff(pg_engine, "super01", "Sue Pervisor", Role.SUPERVISOR)
    database = pg_engine.url.database
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"')
    test_db = pg_engine.url.set(drivername="postgresql").render_as_string(False)
    with psycopg.connect(test_db, autocommit=True) as conn:
        conn.execute(f'GRANT SELECT ON users TO "{role}"')
    as_agent = make_engine(pg_engine.url.set(username=role, password=None))
    try:
        agent = _resolve(as_agent, "super01")  # claims to be the supervisor
        assert (agent.login, agent.role, agent.user_id) == (role, Role.AGENT, staff_id)
        services = build_services(load_settings(), as_agent)
        assert services.agent.login == role
    finally:
        as_agent.dispose()
        with psycopg.connect(test_db, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')  # the grant in this database
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')  # the CONNECT grant
            conn.execute(f'DROP ROLE "{role}"')
