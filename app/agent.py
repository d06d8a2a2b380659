"""Who is acting: the agent context, made once per connection and passed to whoever needs it.

It names the login (the audit actor), the display name and role (from `users`), the
workstation and the database's identity (what drafts are keyed by). Nothing reads the
agent from the environment or the config deep inside a service: the composition root
resolves it once (`resolve_agent`) and hands it on.

On PostgreSQL the login is the database's `session_user`: the role the agent connected
as, which the server authenticated, not a name typed into a config file. On the
embedded SQLite database there is no server login: the configured `user`, else the
operating-system login, stands in.
"""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.drafts import DraftKey
from models.enums import Role
from models.people import User


@dataclass(frozen=True)
class AgentContext:
    login: str
    display_name: str
    role: Role
    # The staff row for `login`; None when `users` does not know it (a demo on SQLite
    # run by an OS user the seed never heard of): such an agent acts with no staff id.
    user_id: int | None
    # login@host of the OS session: the calls that pop here belong to its call log.
    workstation: str
    # app/database_identity.py: keeps drafts of one database apart from another's.
    database: str

    @property
    def actor(self) -> str:
        """What the audit log records as having acted."""
        return self.login

    def note_draft(self, customer_id: int) -> DraftKey:
        return DraftKey.note(self.database, customer_id)

    def wrap_up_draft(self, interaction_id: int) -> DraftKey:
        return DraftKey.wrap_up(self.database, interaction_id)


def os_login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment or the user database
        return "user"


def workstation_id() -> str:
    """login@host of the OS session: one per agent, also on a shared terminal server."""
    return f"{os_login()}@{socket.gethostname()}"


def resolve_agent(
    session: Session, configured_login: str | None, database: str, workstation: str
) -> AgentContext:
    """The agent on this connection (runs on a worker thread: it queries)."""
    if session.get_bind().dialect.name == "postgresql":
        login = str(session.scalar(text("SELECT session_user")))
    else:
        login = configured_login or os_login()
    return agent_named(session, login, database, workstation)


def agent_named(session: Session, login: str, database: str, workstation: str) -> AgentContext:
    """The agent `login`, named and given a role by their staff row (if they have one)."""
    staff = session.execute(
        select(User.id, User.display_name, User.role).where(User.login == login)
    ).first()
    if staff is None:
        return AgentContext(login, login, Role.AGENT, None, workstation, database)
    return AgentContext(login, staff.display_name, staff.role, staff.id, workstation, database)


def staff_logins(session: Session) -> list[tuple[str, str, Role]]:
    """Active staff as (login, display name, role), by login: whom single-user mode's
    "Switch user" may act as (runs on a worker thread: it queries)."""
    rows = session.execute(
        select(User.login, User.display_name, User.role)
        .where(User.active.is_(True))
        .order_by(User.login)
    ).all()
    return [(r.login, r.display_name, Role(r.role)) for r in rows]
