"""Provisioning a shared PostgreSQL database: group roles, ownership, grants, logins.

`rapportctl db provision-roles` makes what the database enforces true
(docs/it-deployment.md, "What the database enforces"):

- the NOLOGIN roles `rapport_owner` (owns every table, sequence, view and function of
  the schema; nobody logs in as it) and the groups `rapport_agent`,
  `rapport_supervisor`, `rapport_manager`, `rapport_admin` (the last three members of
  `rapport_agent`, so they inherit its grants; `rapport_agent` is a member of none);
- SELECT on every table for `rapport_agent`; INSERT, UPDATE, DELETE (and the
  sequences) on the working tables only; INSERT only on `audit_log`; nothing but
  SELECT on the tables the authority functions protect, which only those SECURITY
  DEFINER functions write (EXECUTE per group);
- on the suggestion and import tables (`ADMIN_TABLES`: mined rules, catalogue
  relations, offers, import runs, mappings and source records)
  INSERT, UPDATE, DELETE and their sequences for `rapport_admin` only, so
  `rapportctl rules mine` runs as an admin login (or the DBA);
- on the campaign tables (`SUPERVISOR_TABLES`) INSERT, UPDATE, DELETE for the
  supervisor, manager and admin groups only: agents cannot save a marketing list;
- PUBLIC loses every privilege on the schema's tables, sequences and functions
  (except an extension's, such as pg_trgm's), and CREATE on the schema.

It runs in one transaction and can be run again at any time (after every
`rapportctl db upgrade`, which may add tables): the result is the same.

`rapportctl user add|set-role|disable` manage one login per person: a LOGIN role
with a SCRAM-SHA-256 verifier computed here (the password never reaches the server,
so never its log), a member of exactly one group, and its `users` row.

Every statement is composed with psycopg.sql (identifiers quoted by
`sql.Identifier`), never by string formatting. Failures a person can fix raise
`ProvisioningError` (a `UserError`: one line, no traceback).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow
from psycopg.types.json import Json

from app.errors import UserError
from models.enums import Role

OWNER = "rapport_owner"
AGENT_GROUP = "rapport_agent"
GROUPS = (AGENT_GROUP, "rapport_supervisor", "rapport_manager", "rapport_admin")
# The app role (users.role) -> the one group its login is a member of.
ROLE_GROUP = {
    Role.AGENT: "rapport_agent",
    Role.SENIOR_AGENT: "rapport_agent",
    Role.SUPERVISOR: "rapport_supervisor",
    Role.MANAGER: "rapport_manager",
    Role.ADMIN: "rapport_admin",
}
# Written only by the SECURITY DEFINER functions of migration 0011 (or by an
# administrator): agents get SELECT, and INSERT on audit_log (the app audits its own
# writes; a trigger sets the actor and refuses UPDATE, DELETE and TRUNCATE).
PROTECTED_TABLES = (
    "users",
    "departments",
    "policies",
    "authority_limits",
    "authority_settings",
    "concession_budgets",
    "authority_actions",
    "staff_presence",
    "override_requests",
    "override_decisions",
    "concessions",
    "audit_log",
    # Not in the authority contract's list, but no client may move the schema version.
    "alembic_version",
)
APPEND_ONLY_TABLE = "audit_log"
# Written by administrators only (`rapportctl rules mine`, the offer and catalogue
# relation lists): agents read them at pop time. offer_events (what was shown and what
# became of it) is a working table: agents write it on every call.
ADMIN_GROUP = "rapport_admin"
ADMIN_TABLES = (
    "rule_runs",
    "association_rules",
    "association_rule_items",
    "product_relations",
    "offers",
    # Legacy imports (issue 14) are IT's: `rapportctl import` and the import wizard run
    # as an admin login. What they write into customers, orders and interactions is
    # ordinary working data.
    "import_mappings",
    "import_runs",
    "source_records",
)
# Written by supervisors, managers and admins only: the marketing lists saved as
# campaigns (issue 14, S1/S6), who was on them and the contact used. Agents read them.
SUPERVISOR_TABLES = ("campaigns", "campaign_members")
SUPERVISOR_GROUPS = ("rapport_supervisor", "rapport_manager", ADMIN_GROUP)
# Function name -> the groups that may EXECUTE it (supervisor, manager and admin
# inherit rapport_agent's).
FUNCTION_GROUPS: dict[str, tuple[str, ...]] = {
    "rapport_grant_concession": (AGENT_GROUP,),
    "rapport_request_override": (AGENT_GROUP,),
    "rapport_withdraw_override": (AGENT_GROUP,),
    "rapport_accept_counter": (AGENT_GROUP,),
    "rapport_expire_overrides": (AGENT_GROUP,),
    "rapport_set_presence": (AGENT_GROUP,),
    "rapport_my_authority": (AGENT_GROUP,),
    # Every login may CALL these; the functions themselves refuse anyone but an approver
    # (decide) or an admin (the matrix), and record the refusal in audit_log. Without
    # EXECUTE the server would refuse first and the attempt would leave no trace.
    "rapport_decide_override": (AGENT_GROUP,),
    "rapport_set_limit": (AGENT_GROUP,),
    "rapport_delete_limit": (AGENT_GROUP,),
    # A customer merge and its undo move the merged customer's concessions and override
    # requests (migration 0014); the functions move nothing but a merge's own rows.
    "rapport_merge_move_protected": (AGENT_GROUP,),
    "rapport_unmerge_move_protected": (AGENT_GROUP,),
}
# A login: a lower-case PostgreSQL identifier that needs no quoting (so it reads the
# same in a URL, a pg_hba.conf line and psql), 63 bytes at most, and not a name
# PostgreSQL or Rapport reserves.
LOGIN_PATTERN = re.compile(r"[a-z_][a-z0-9_]{0,62}")
RESERVED_LOGINS = ("public", "none", "current_user", "current_role", "session_user")
MIN_PASSWORD = 8

Conn = psycopg.Connection[TupleRow]


class ProvisioningError(UserError):
    """Provisioning refused or failed for a reason the administrator can fix."""


@dataclass
class Summary:
    """What provision-roles did, for the administrator to read."""

    schema: str = ""
    roles_created: list[str] = field(default_factory=list)
    reowned: int = 0
    tables: int = 0
    working_tables: int = 0
    protected_tables: int = 0
    admin_tables: int = 0
    sequences: int = 0
    functions_granted: int = 0
    revoked_from_others: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        created = ", ".join(self.roles_created) or "none (all existed)"
        lines = [
            f"schema {self.schema}: roles created: {created}",
            f"  {self.reowned} objects handed to {OWNER} (the others were already its)",
            f"  {self.tables} tables readable by {AGENT_GROUP}; {self.working_tables} writable; "
            f"{self.protected_tables} protected (SELECT only; INSERT on {APPEND_ONLY_TABLE})",
            f"  {self.admin_tables} writable by {ADMIN_GROUP} only (mined rules, offers)",
            f"  {self.sequences} sequences usable by {AGENT_GROUP}",
            f"  {self.functions_granted} EXECUTE grants on the authority functions, to their "
            "groups only; PUBLIC has no privilege on the schema's tables, sequences and "
            "functions",
        ]
        lines += [f"  revoked: {item}" for item in self.revoked_from_others]
        lines += [f"  note: {note}" for note in self.notes]
        return lines


def connect(conninfo: str) -> Conn:
    """A connection for provisioning (not autocommit: one transaction per command)."""
    try:
        return psycopg.connect(conninfo, connect_timeout=10, application_name="rapportctl")
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ProvisioningError(f"cannot connect to the database ({first})") from None


# -- provision-roles ---------------------------------------------------------------


def provision_roles(conn: Conn) -> Summary:
    """Create the roles, hand every object to the owner and set the grants; commit."""
    summary = Summary()
    with _transaction(
        conn,
        "run it as a superuser, or as the role that ran 'rapportctl db upgrade' (owner of "
        "the tables) with CREATEROLE",
    ):
        _provision(conn, summary)
    return summary


@contextmanager
def _transaction(conn: Conn, who_may: str) -> Iterator[None]:
    """One transaction; a permission error becomes one line saying who may do this."""
    try:
        with conn.transaction():
            yield
    except psycopg.errors.InsufficientPrivilege as exc:
        raise ProvisioningError(f"permission denied ({_first_line(exc)}): {who_may}") from None


def _provision(conn: Conn, summary: Summary) -> None:
    user, schema, superuser, createrole = _one(
        conn,
        "SELECT current_user, current_schema(), rolsuper, rolcreaterole "
        "FROM pg_roles WHERE rolname = current_user",
    )
    if schema is None:
        raise ProvisioningError("no current schema: set the role's search_path")
    summary.schema = str(schema)
    if not (superuser or createrole):
        raise ProvisioningError(
            f"{user} cannot create roles: run provision-roles as a superuser or as a "
            "role with CREATEROLE that owns the Rapport tables"
        )
    if not _exists(
        conn,
        "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = current_schema() AND p.proname = 'rapport_decide_override'",
    ):
        raise ProvisioningError(
            "this database has no Rapport authority functions: run 'rapportctl db upgrade' first"
        )
    for role in (OWNER, *GROUPS):
        if _ensure_group_role(conn, role):
            summary.roles_created.append(role)
    for group in GROUPS[1:]:
        _ensure_member(conn, AGENT_GROUP, group)
    # No group may sit above its station: rapport_agent in a higher group, or any
    # group in the owner, would hand agents what the functions guard.
    for member, role in [(AGENT_GROUP, g) for g in GROUPS[1:]] + [(g, OWNER) for g in GROUPS]:
        if _is_direct_member(conn, member, role):
            conn.execute(
                sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(role), sql.Identifier(member))
            )
            summary.revoked_from_others.append(f"membership of {member} in {role}")
    if not superuser and not _is_member(conn, user, OWNER):
        # ALTER ... OWNER TO needs membership of the new owner (and rapportctl db
        # upgrade, run by this DBA, then keeps the right to alter the tables).
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(OWNER), sql.Identifier(user)))
        summary.notes.append(f"{user} was made a member of {OWNER} to hand it the tables")
    # The owner of the tables creates them (a migration run as rapport_owner), and
    # ALTER ... OWNER TO wants the new owner to hold CREATE on the schema.
    conn.execute(
        sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(
            sql.Identifier(summary.schema), sql.Identifier(OWNER)
        )
    )
    summary.reowned = _hand_to_owner(conn, summary.schema)
    _set_grants(conn, summary)
    _warn_about_logins(conn, summary)


def _hand_to_owner(conn: Conn, schema: str) -> int:
    count = 0
    kinds = {
        "r": "TABLE",
        "p": "TABLE",
        "v": "VIEW",
        "m": "MATERIALIZED VIEW",
        "f": "FOREIGN TABLE",
        "S": "SEQUENCE",
    }
    # Tables first: a sequence owned by a column follows its table and may not be
    # given away on its own.
    for wanted in (("r", "p", "v", "m", "f"), ("S",)):
        rows = conn.execute(
            "SELECT c.relname, c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = ANY(%s) "
            "AND pg_get_userbyid(c.relowner) <> %s "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
            "AND d.objid = c.oid AND d.deptype = 'e') ORDER BY c.relname",
            (schema, list(wanted), OWNER),
        ).fetchall()
        for name, kind in rows:
            conn.execute(
                sql.SQL("ALTER {} {}.{} OWNER TO {}").format(
                    sql.SQL(kinds[str(kind)]),
                    sql.Identifier(schema),
                    sql.Identifier(str(name)),
                    sql.Identifier(OWNER),
                )
            )
            count += 1
    for signature, _name in _functions(conn, schema, owned_by_other=True):
        conn.execute(
            sql.SQL("ALTER ROUTINE {} OWNER TO {}").format(
                sql.SQL(signature), sql.Identifier(OWNER)
            )
        )
        count += 1
    return count


def _functions(conn: Conn, schema: str, *, owned_by_other: bool = False) -> list[tuple[str, str]]:
    """(regprocedure text, name) of the schema's own functions (no extension's)."""
    query = (
        "SELECT p.oid::regprocedure::text, p.proname FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = %s AND p.prokind IN ('f', 'p') "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass "
        "AND d.objid = p.oid AND d.deptype = 'e')"
    )
    if owned_by_other:
        query += " AND pg_get_userbyid(p.proowner) <> %s"
    rows = conn.execute(
        query + " ORDER BY 1", (schema, OWNER) if owned_by_other else (schema,)
    ).fetchall()
    # regprocedure text is already quoted and schema-qualified where needed.
    return [(str(sig), str(name)) for sig, name in rows]


def _set_grants(conn: Conn, summary: Summary) -> None:
    schema = sql.Identifier(summary.schema)
    groups = sql.SQL(", ").join(sql.Identifier(g) for g in GROUPS)
    # A clean slate, so a second run (or a table that changed sides) ends the same.
    for kind in ("TABLES", "SEQUENCES"):
        conn.execute(
            sql.SQL("REVOKE ALL ON ALL {} IN SCHEMA {} FROM PUBLIC, {}").format(
                sql.SQL(kind), schema, groups
            )
        )
    tables = [
        str(row[0])
        for row in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
            "AND d.objid = c.oid AND d.deptype = 'e') ORDER BY 1",
            (summary.schema,),
        ).fetchall()
    ]
    protected = [t for t in tables if t in PROTECTED_TABLES]
    admin_only = [t for t in tables if t in ADMIN_TABLES]
    supervised = [t for t in tables if t in SUPERVISOR_TABLES]
    working = [
        t
        for t in tables
        if t not in PROTECTED_TABLES and t not in ADMIN_TABLES and t not in SUPERVISOR_TABLES
    ]
    agent = sql.Identifier(AGENT_GROUP)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, agent))
    conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema, agent))
    for table in working:
        conn.execute(
            sql.SQL("GRANT INSERT, UPDATE, DELETE ON {}.{} TO {}").format(
                schema, sql.Identifier(table), agent
            )
        )
    admin = sql.Identifier(ADMIN_GROUP)
    for table in admin_only:
        conn.execute(
            sql.SQL("GRANT INSERT, UPDATE, DELETE ON {}.{} TO {}").format(
                schema, sql.Identifier(table), admin
            )
        )
    for table in [*admin_only, *supervised]:
        # A table that was a working table before (an older provisioning) is no more.
        conn.execute(
            sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {}.{} FROM {}").format(
                schema, sql.Identifier(table), agent
            )
        )
    for table in supervised:
        for group in SUPERVISOR_GROUPS:
            conn.execute(
                sql.SQL("GRANT INSERT, UPDATE, DELETE ON {}.{} TO {}").format(
                    schema, sql.Identifier(table), sql.Identifier(group)
                )
            )
    if APPEND_ONLY_TABLE in tables:
        conn.execute(
            sql.SQL("GRANT INSERT ON {}.{} TO {}").format(
                schema, sql.Identifier(APPEND_ONLY_TABLE), agent
            )
        )
    # Anyone else granted more than SELECT on a protected table (the old recipe
    # granted every agent login INSERT, UPDATE, DELETE) loses it all; so on the admin's.
    for table in [*protected, *admin_only]:
        for grantee in _other_grantees(conn, summary.schema, table):
            conn.execute(
                sql.SQL("REVOKE ALL ON {}.{} FROM {}").format(
                    schema, sql.Identifier(table), sql.Identifier(grantee)
                )
            )
            summary.revoked_from_others.append(f"{grantee}'s privileges on {table}")
    # Sequences: those of the tables agents insert into, and free-standing ones
    # (case_reference_seq).
    sequences = conn.execute(
        "SELECT s.relname FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace "
        "LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid "
        "  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
        "LEFT JOIN pg_class t ON t.oid = d.refobjid "
        "WHERE n.nspname = %s AND s.relkind = 'S' AND (t.relname IS NULL OR t.relname = ANY(%s)) "
        "ORDER BY 1",
        (summary.schema, [*working, APPEND_ONLY_TABLE]),
    ).fetchall()
    for (name,) in sequences:
        conn.execute(
            sql.SQL("GRANT USAGE, SELECT ON SEQUENCE {}.{} TO {}").format(
                schema, sql.Identifier(str(name)), agent
            )
        )
    for (name,) in _owned_sequences(conn, summary.schema, admin_only):
        conn.execute(
            sql.SQL("GRANT USAGE, SELECT ON SEQUENCE {}.{} TO {}").format(
                schema, sql.Identifier(name), admin
            )
        )
    for (name,) in _owned_sequences(conn, summary.schema, supervised):
        for group in SUPERVISOR_GROUPS:
            conn.execute(
                sql.SQL("GRANT USAGE, SELECT ON SEQUENCE {}.{} TO {}").format(
                    schema, sql.Identifier(name), sql.Identifier(group)
                )
            )
    granted = 0
    for signature, name in _functions(conn, summary.schema):
        routine = sql.SQL(signature)
        conn.execute(sql.SQL("REVOKE ALL ON ROUTINE {} FROM PUBLIC, {}").format(routine, groups))
        if name.startswith("rapport_") and not name.startswith("rapport_changes_"):
            for grantee in _other_function_grantees(conn, signature):
                conn.execute(
                    sql.SQL("REVOKE ALL ON ROUTINE {} FROM {}").format(
                        routine, sql.Identifier(grantee)
                    )
                )
                summary.revoked_from_others.append(f"{grantee}'s EXECUTE on {name}")
        for group in FUNCTION_GROUPS.get(name, ()):
            conn.execute(
                sql.SQL("GRANT EXECUTE ON ROUTINE {} TO {}").format(routine, sql.Identifier(group))
            )
            granted += 1
    conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(schema))
    # What the owner creates later (a migration run as rapport_owner) starts the same
    # way: readable by agents, functions not executable by PUBLIC.
    owner = sql.Identifier(OWNER)
    conn.execute(
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}"
        ).format(owner, schema, agent)
    )
    conn.execute(
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC"
        ).format(owner)
    )
    summary.tables = len(tables)
    summary.working_tables = len(working)
    summary.protected_tables = len(protected)
    summary.admin_tables = len(admin_only)
    summary.sequences = len(sequences)
    summary.functions_granted = granted


def _owned_sequences(conn: Conn, schema: str, tables: list[str]) -> list[tuple[str]]:
    """The sequences of these tables' columns (serial and identity)."""
    rows = conn.execute(
        "SELECT s.relname FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace "
        "JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid "
        "  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
        "JOIN pg_class t ON t.oid = d.refobjid "
        "WHERE n.nspname = %s AND s.relkind = 'S' AND t.relname = ANY(%s) ORDER BY 1",
        (schema, tables),
    ).fetchall()
    return [(str(r[0]),) for r in rows]


def _other_grantees(conn: Conn, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT pg_get_userbyid(a.grantee) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a "
        "WHERE n.nspname = %s AND c.relname = %s AND a.grantee <> 0 "
        "AND a.grantee <> c.relowner AND pg_get_userbyid(a.grantee) <> ALL(%s) ORDER BY 1",
        (schema, table, list(GROUPS)),
    ).fetchall()
    return [str(r[0]) for r in rows]


def _other_function_grantees(conn: Conn, signature: str) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT pg_get_userbyid(a.grantee) FROM pg_proc p, aclexplode(p.proacl) a "
        "WHERE p.oid = %s::regprocedure AND a.grantee <> 0 AND a.grantee <> p.proowner "
        "AND pg_get_userbyid(a.grantee) <> ALL(%s) ORDER BY 1",
        (signature, list(GROUPS)),
    ).fetchall()
    return [str(r[0]) for r in rows]


def _warn_about_logins(conn: Conn, summary: Summary) -> None:
    """Staff logins the database cannot hold to their authority."""
    if not _exists(
        conn,
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relname = 'users'",
    ):
        return
    rows = conn.execute(
        "SELECT u.login, r.rolsuper, r.rolbypassrls, pg_has_role(r.oid, %s, 'MEMBER') "
        "FROM users u JOIN pg_roles r ON r.rolname = u.login WHERE u.active ORDER BY 1",
        (OWNER,),
    ).fetchall()
    for login, superuser, bypass, owner in rows:
        if superuser or bypass or owner:
            what = "a superuser" if superuser else "BYPASSRLS" if bypass else f"a member of {OWNER}"
            summary.notes.append(
                f"staff login {login} is {what}: the database cannot hold it to its authority"
            )


def _ensure_group_role(conn: Conn, role: str) -> bool:
    """Create the NOLOGIN role if missing (True), or make sure it cannot log in."""
    found = conn.execute(
        "SELECT rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", (role,)
    ).fetchone()
    if found is None:
        try:
            # Roles are cluster-wide: another database's provisioning may create it at
            # the same moment; the savepoint lets this one carry on with theirs.
            with conn.transaction():
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
            return True
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
            return False
    can_login, superuser, bypass = found
    if superuser or bypass:
        raise ProvisioningError(
            f"the role {role} exists with SUPERUSER or BYPASSRLS: Rapport's group roles must "
            "be ordinary roles (fix it with ALTER ROLE, then run this again)"
        )
    if can_login:
        conn.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(sql.Identifier(role)))
    return False


def _ensure_member(conn: Conn, role: str, member: str) -> None:
    if _is_direct_member(conn, member, role):
        return
    try:
        with conn.transaction():
            conn.execute(
                sql.SQL("GRANT {} TO {}").format(sql.Identifier(role), sql.Identifier(member))
            )
    except (psycopg.errors.UniqueViolation, psycopg.errors.InternalError):
        # Granted at the same moment by another database's provisioning (roles are
        # cluster-wide): fine if it is there now.
        if not _is_direct_member(conn, member, role):
            raise


def _is_direct_member(conn: Conn, member: str, role: str) -> bool:
    return _exists(
        conn,
        "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = %s AND u.rolname = %s",
        (role, member),
    )


def _is_member(conn: Conn, member: str, role: str) -> bool:
    return _exists(
        conn,
        "SELECT 1 FROM pg_roles r WHERE r.rolname = %s AND pg_has_role(%s, r.oid, 'MEMBER')",
        (role, member),
    )


# -- users ---------------------------------------------------------------------------


USERS_WHO_MAY = (
    "manage users as a superuser, or as a role with CREATEROLE that may write the users table"
)


def check_login(login: str) -> str:
    """The login if it is one Rapport accepts, else ProvisioningError saying why."""
    if not LOGIN_PATTERN.fullmatch(login):
        raise ProvisioningError(
            f"not a valid login: {login!r} (lower-case letters, digits and _, starting with "
            "a letter or _, at most 63 characters)"
        )
    if login.startswith(("pg_", "rapport_")) or login in RESERVED_LOGINS:
        raise ProvisioningError(f"{login} is a reserved name: choose another login")
    return login


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise ProvisioningError(f"unknown role {value!r} (one of: {choices})") from None


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ProvisioningError(f"the password must have at least {MIN_PASSWORD} characters")
    if "\x00" in password:
        raise ProvisioningError("the password may not contain NUL characters")
    return password


def add_user(
    conn: Conn,
    login: str,
    role: Role,
    password: str,
    display_name: str | None = None,
) -> str:
    """Create (or update) the LOGIN role and its users row; one transaction."""
    check_login(login)
    check_password(password)
    # Computed here, by libpq: the server only ever sees the SCRAM verifier.
    verifier = conn.pgconn.encrypt_password(
        password.encode("utf-8"), login.encode("utf-8"), b"scram-sha-256"
    ).decode("ascii")
    with _transaction(conn, USERS_WHO_MAY):
        _require_groups(conn)
        ident = sql.Identifier(login)
        existed = _check_existing_login(conn, login)
        if existed:
            conn.execute(
                sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(ident, sql.Literal(verifier))
            )
        else:
            conn.execute(
                sql.SQL(
                    "CREATE ROLE {} WITH LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE "
                    "NOREPLICATION NOBYPASSRLS PASSWORD {}"
                ).format(ident, sql.Literal(verifier))
            )
        _set_group(conn, login, role)
        before = _user_row(conn, login)
        conn.execute(
            "INSERT INTO users (login, display_name, role, active, created_at) "
            "VALUES (%s, %s, %s, true, now()) ON CONFLICT (login) DO UPDATE SET "
            "role = EXCLUDED.role, active = true, "
            "display_name = CASE WHEN %s THEN EXCLUDED.display_name ELSE users.display_name END",
            (login, display_name or login, role.value, display_name is not None),
        )
        _audit(conn, "user.add", login, before)
    group = ROLE_GROUP[role]
    verb = "updated" if existed else "created"
    return f"{login}: login role {verb} (scram-sha-256), member of {group}, users.role {role.value}"


def set_role(conn: Conn, login: str, role: Role) -> str:
    """Move a login to another group and users.role; one transaction."""
    check_login(login)
    with _transaction(conn, USERS_WHO_MAY):
        _require_groups(conn)
        if not _check_existing_login(conn, login):
            raise ProvisioningError(f"no login role {login}: create it with 'rapportctl user add'")
        before = _user_row(conn, login)
        if before is None:
            raise ProvisioningError(
                f"{login} has no users row: create it with 'rapportctl user add'"
            )
        _set_group(conn, login, role)
        conn.execute("UPDATE users SET role = %s WHERE login = %s", (role.value, login))
        _audit(conn, "user.set_role", login, before)
    return f"{login}: member of {ROLE_GROUP[role]} only, users.role {role.value}"


def disable_user(conn: Conn, login: str) -> str:
    """NOLOGIN and users.active false (one transaction), then end the login's sessions."""
    check_login(login)
    with _transaction(conn, USERS_WHO_MAY):
        if not _exists(conn, "SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)):
            raise ProvisioningError(f"no login role {login}")
        _check_existing_login(conn, login)
        conn.execute(sql.SQL("ALTER ROLE {} WITH NOLOGIN").format(sql.Identifier(login)))
        before = _user_row(conn, login)
        if before is not None:
            conn.execute("UPDATE users SET active = false WHERE login = %s", (login,))
            _audit(conn, "user.disable", login, before)
    message = f"{login}: can no longer log in; users.active false"
    try:
        with conn.transaction():
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE usename = %s AND pid <> pg_backend_pid()",
                (login,),
            ).fetchone()
        ended = int(row[0]) if row else 0
        if ended:
            message += f"; {ended} open session(s) ended"
    except psycopg.errors.InsufficientPrivilege:
        message += (
            "; open sessions (if any) last until they end (ending them needs pg_signal_backend)"
        )
    return message


def _require_groups(conn: Conn) -> None:
    roles = [OWNER, *GROUPS]
    found = {
        str(row[0])
        for row in conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (roles,)
        ).fetchall()
    }
    missing = [role for role in roles if role not in found]
    if missing or not _exists(conn, "SELECT 1 FROM pg_class WHERE oid = to_regclass('users')"):
        what = (
            f"the group roles are missing ({', '.join(missing)})" if missing else "no users table"
        )
        raise ProvisioningError(
            f"{what}: run 'rapportctl db upgrade' and 'rapportctl db provision-roles' first"
        )


def _check_existing_login(conn: Conn, login: str) -> bool:
    """Whether the role exists; refuses a role these commands must not touch."""
    found = conn.execute(
        "SELECT rolsuper OR rolcreaterole OR rolreplication OR rolbypassrls, "
        "CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s) "
        "THEN pg_has_role(oid, %s, 'MEMBER') ELSE false END "
        "FROM pg_roles WHERE rolname = %s",
        (OWNER, OWNER, login),
    ).fetchone()
    if found is None:
        return False
    privileged, owner = found
    if privileged:
        raise ProvisioningError(
            f"{login} is a privileged role (SUPERUSER, CREATEROLE, REPLICATION or BYPASSRLS): "
            "staff logins must be ordinary roles; use another login"
        )
    if owner:
        raise ProvisioningError(
            f"{login} is a member of {OWNER}, which owns the tables: staff logins may not be "
            f"(REVOKE {OWNER} FROM {login}, or use another login)"
        )
    return True


def _set_group(conn: Conn, login: str, role: Role) -> None:
    """Exactly one group: revoke the others (granted directly), grant the role's."""
    wanted = ROLE_GROUP[role]
    for group in GROUPS:
        if group != wanted and _is_direct_member(conn, login, group):
            conn.execute(
                sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), sql.Identifier(login))
            )
    if not _is_direct_member(conn, login, wanted):
        conn.execute(
            sql.SQL("GRANT {} TO {}").format(sql.Identifier(wanted), sql.Identifier(login))
        )


def _user_row(conn: Conn, login: str) -> dict[str, object] | None:
    row = conn.execute("SELECT to_jsonb(u) FROM users u WHERE u.login = %s", (login,)).fetchone()
    return None if row is None else dict(row[0])


def _audit(
    conn: Conn,
    action: str,
    login: str,
    before: dict[str, object] | None,
) -> None:
    """Who changed whose access, with the users row before and after."""
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, entity, entity_id, detail, before, after) "
        "SELECT clock_timestamp(), session_user, %s, 'user', u.id, "
        "json_build_object('login', u.login, 'group', "
        "(SELECT string_agg(r.rolname, ',') FROM pg_auth_members m "
        "JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles l ON l.oid = m.member "
        "WHERE l.rolname = u.login AND r.rolname = ANY(%s))), "
        "%s::json, to_json(u) FROM users u WHERE u.login = %s",
        (action, list(GROUPS), None if before is None else Json(before), login),
    )


# -- small helpers ---------------------------------------------------------------------


def _one(conn: Conn, query: Any) -> TupleRow:
    row = conn.execute(query).fetchone()
    assert row is not None
    return row


def _exists(conn: Conn, query: Any, params: Sequence[object] = ()) -> bool:
    return conn.execute(query, params).fetchone() is not None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
