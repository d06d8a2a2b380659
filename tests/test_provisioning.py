"""rapportctl db provision-roles and rapportctl user add|set-role|disable (app/provisioning.py).

What the grants allow and refuse is tested as each login in tests/test_authority_db.py;
here: the commands themselves (idempotent, one transaction, one-line refusals, the
SCRAM verifier, one group per login).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, make_url

from app import provisioning
from app.cli import main

ROOT = Path(__file__).resolve().parent.parent
GROUPS = provisioning.GROUPS


def _libpq(engine: Engine, user: str | None = None) -> str:
    url = engine.url.set(drivername="postgresql")
    if user is not None:
        url = url.set(username=user, password=None)
    return url.render_as_string(hide_password=False)


def _rapportctl_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ},
        check=False,
    )


def _rapportctl(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    """rapportctl in this process (a subprocess costs a second of imports)."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(err: str) -> bool:
    return err.count("\n") == 1 and "Traceback" not in err


def _snapshot(url: str) -> dict[str, object]:
    """Owners and privileges of everything provisioning touches."""
    with psycopg.connect(url) as conn:
        relations = conn.execute(
            "SELECT c.relname, pg_get_userbyid(c.relowner), "
            "ARRAY(SELECT x::text FROM unnest(c.relacl) AS x ORDER BY 1) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') ORDER BY 1"
        ).fetchall()
        functions = conn.execute(
            "SELECT p.oid::regprocedure::text, pg_get_userbyid(p.proowner), "
            "ARRAY(SELECT x::text FROM unnest(p.proacl) AS x ORDER BY 1) "
            "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' ORDER BY 1"
        ).fetchall()
        members = conn.execute(
            "SELECT r.rolname, m.rolname FROM pg_auth_members a "
            "JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member "
            "WHERE r.rolname LIKE 'rapport\\_%%' AND m.rolname LIKE 'rapport\\_%%' ORDER BY 1, 2"
        ).fetchall()
        defaults = conn.execute(
            "SELECT defaclrole::regrole::text, defaclobjtype, "
            "ARRAY(SELECT x::text FROM unnest(defaclacl) AS x ORDER BY 1) FROM pg_default_acl "
            "ORDER BY 1, 2"
        ).fetchall()
        schema = conn.execute(
            "SELECT ARRAY(SELECT x::text FROM unnest(nspacl) AS x ORDER BY 1) "
            "FROM pg_namespace WHERE nspname = 'public'"
        ).fetchall()
    return {
        "relations": relations,
        "functions": functions,
        "members": members,
        "defaults": defaults,
        "schema": schema,
    }


@pytest.fixture
def provisioned(pg_engine: Engine) -> Engine:
    with provisioning.connect(_libpq(pg_engine)) as conn:
        provisioning.provision_roles(conn)
    return pg_engine


@pytest.fixture
def new_roles(pg_admin_url: str) -> Iterator[list[str]]:
    """Names of login roles a test creates; dropped at the end (after its database)."""
    names: list[str] = []
    yield names
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def test_provision_roles_twice_gives_the_same_database(pg_engine: Engine) -> None:
    url = _libpq(pg_engine)
    first = _rapportctl_process("db", "provision-roles", "--db", url)
    assert first.returncode == 0, first.stderr
    assert "provisioned" in first.stdout and "protected (SELECT only" in first.stdout
    after_first = _snapshot(url)
    second = _rapportctl_process("db", "provision-roles", "--db", url)
    assert second.returncode == 0, second.stderr
    assert "roles created: none (all existed)" in second.stdout
    assert "0 objects handed to rapport_owner" in second.stdout
    assert _snapshot(url) == after_first
    owners = {owner for _name, owner, _acl in after_first["relations"]}
    assert owners == {"rapport_owner"}
    for name, _owner, acl in after_first["relations"]:
        assert not any(item.startswith("=") for item in acl), (name, acl)  # PUBLIC: nothing
    assert ("rapport_agent", "rapport_supervisor") in after_first["members"]
    assert not [m for m in after_first["members"] if m[1] == "rapport_agent"]
    with psycopg.connect(url) as conn:
        assert not conn.execute(
            "SELECT has_schema_privilege('public', 'public', 'CREATE')"
        ).fetchone()[0]


def test_provisioning_takes_back_what_the_old_recipe_granted(
    pg_engine: Engine, pg_admin_url: str, new_roles: list[str]
) -> None:
    old = f"old_{uuid.uuid4().hex[:8]}"
    new_roles.append(old)
    url = _libpq(pg_engine)
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(old)))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
            ).format(sql.Identifier(old))
        )
        conn.execute(
            sql.SQL(
                "GRANT EXECUTE ON FUNCTION rapport_decide_override(int, text, text, int) TO {}"
            ).format(sql.Identifier(old))
        )
    with provisioning.connect(url) as conn:
        summary = provisioning.provision_roles(conn)
    assert f"{old}'s privileges on concessions" in summary.revoked_from_others
    assert f"{old}'s EXECUTE on rapport_decide_override" in summary.revoked_from_others
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("concessions", "users", "authority_limits", "audit_log"):
            assert not conn.execute(
                "SELECT has_table_privilege(%s, %s, 'INSERT')", (old, table)
            ).fetchone()[0]
        assert not conn.execute(
            "SELECT has_function_privilege(%s, 'rapport_decide_override(int, text, text, int)', "
            "'EXECUTE')",
            (old,),
        ).fetchone()[0]
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(old)))


def test_provisioning_needs_a_role_that_can_create_roles(
    pg_engine: Engine, pg_admin_url: str, new_roles: list[str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    plain = f"plain_{uuid.uuid4().hex[:8]}"
    new_roles.append(plain)
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(plain)))
    code, _out, err = _rapportctl(
        capsys, monkeypatch, "db", "provision-roles", "--db", _libpq(pg_engine, plain)
    )
    assert code == 2 and _one_line(err)
    assert f"{plain} cannot create roles" in err


def test_provisioning_wants_the_schema_first(
    pg_admin_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests import pg_cluster

    name = f"rapport_t_empty_{uuid.uuid4().hex[:6]}"
    url = pg_cluster.create_database(pg_admin_url, name)
    try:
        code, _out, err = _rapportctl(capsys, monkeypatch, "db", "provision-roles", "--db", url)
    finally:
        pg_cluster.drop_database(pg_admin_url, name)
    assert code == 2 and _one_line(err)
    assert "run 'rapportctl db upgrade' first" in err


def _groups_of(conn: psycopg.Connection[tuple[object, ...]], login: str) -> set[str]:
    rows = conn.execute(
        "SELECT r.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid "
        "JOIN pg_roles m ON m.oid = a.member WHERE m.rolname = %s",
        (login,),
    ).fetchall()
    return {str(row[0]) for row in rows}


def test_user_add_set_role_and_disable(
    provisioned: Engine, new_roles: list[str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    url = _libpq(provisioned)
    login = f"u{uuid.uuid4().hex[:8]}_maria"
    new_roles.append(login)

    def run(*args: str, stdin: str = "") -> str:
        code, out, err = _rapportctl(capsys, monkeypatch, "user", *args, "--db", url, stdin=stdin)
        assert code == 0, err
        return out

    added = run("add", login, "--role", "agent", "--password-stdin", "--name", "Maria Lopez",
                stdin="s3cret-Pass word\n")  # fmt: skip
    assert "login role created (scram-sha-256), member of rapport_agent" in added
    admin = psycopg.connect(url, autocommit=True)
    try:
        verifier, can_login = admin.execute(
            "SELECT rolpassword, rolcanlogin FROM pg_authid WHERE rolname = %s", (login,)
        ).fetchone()
        assert str(verifier).startswith("SCRAM-SHA-256$4096:") and can_login
        assert "s3cret" not in str(verifier)
        assert _groups_of(admin, login) == {"rapport_agent"}
        user = admin.execute(
            "SELECT display_name, role, active FROM users WHERE login = %s", (login,)
        ).fetchone()
        assert user == ("Maria Lopez", "agent", True)
        with psycopg.connect(_libpq(provisioned, login)) as as_maria:
            assert as_maria.execute("SELECT session_user").fetchone() == (login,)

        run("set-role", login, "--role", "supervisor")
        assert _groups_of(admin, login) == {"rapport_supervisor"}
        run("set-role", login, "--role", "senior_agent")
        assert _groups_of(admin, login) == {"rapport_agent"}
        updated = run("add", login, "--role", "manager", "--password-stdin", stdin="another-pass\n")
        assert "login role updated" in updated
        assert _groups_of(admin, login) == {"rapport_manager"}
        row = admin.execute("SELECT display_name, role FROM users WHERE login = %s", (login,))
        assert row.fetchone() == ("Maria Lopez", "manager")

        disabled = run("disable", login)
        assert "can no longer log in" in disabled
        assert admin.execute(
            "SELECT r.rolcanlogin, u.active FROM pg_roles r JOIN users u ON u.login = r.rolname "
            "WHERE r.rolname = %s",
            (login,),
        ).fetchone() == (False, False)
        with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
            psycopg.connect(_libpq(provisioned, login)).close()
        actions = [
            row[0]
            for row in admin.execute(
                "SELECT action FROM audit_log WHERE entity = 'user' ORDER BY id"
            ).fetchall()
        ]
        assert actions == [
            "user.add", "user.set_role", "user.set_role", "user.add", "user.disable",
        ]  # fmt: skip
    finally:
        admin.close()


def test_user_commands_refuse_in_one_line(
    provisioned: Engine, pg_admin_url: str, new_roles: list[str],
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    url = _libpq(provisioned)
    owner_member = f"own_{uuid.uuid4().hex[:8]}"
    privileged = f"priv_{uuid.uuid4().hex[:8]}"
    new_roles.extend([owner_member, privileged])
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE rapport_owner").format(
            sql.Identifier(owner_member)
        ))  # fmt: skip
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEROLE").format(sql.Identifier(privileged)))
    password = "long-enough-pw\n"
    cases = [
        (("add", "Bad;Name", "--role", "agent", "--password-stdin"), password, "not a valid login"),
        (("add", "rapport_owner", "--role", "agent", "--password-stdin"), password, "reserved"),
        (("add", "pg_monitor", "--role", "agent", "--password-stdin"), password, "reserved"),
        (("add", "newbie", "--role", "boss", "--password-stdin"), password, "unknown role"),
        (("add", "newbie", "--role", "agent", "--password-stdin"), "short\n", "at least 8"),
        (("add", privileged, "--role", "agent", "--password-stdin"), password, "privileged role"),
        (("add", owner_member, "--role", "agent", "--password-stdin"), password, "rapport_owner"),
        (("set-role", "nobody_here", "--role", "agent"), "", "no login role nobody_here"),
        (("disable", "nobody_here"), "", "no login role nobody_here"),
    ]
    for args, stdin, expected in cases:
        code, _out, err = _rapportctl(capsys, monkeypatch, "user", *args, "--db", url, stdin=stdin)
        assert code == 2 and _one_line(err), (args, err)
        assert expected in err, (args, err)
    code, _out, err = _rapportctl(
        capsys, monkeypatch, "user", "disable", "someone", "--db", "sqlite:///x.db"
    )
    assert code == 2 and "PostgreSQL only" in err
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_a_dba_with_createrole_provisions_what_it_migrated(
    pg_admin_url: str, new_roles: list[str]
) -> None:
    """Not only a superuser: a DBA role with CREATEDB and CREATEROLE that ran the
    migrations hands its tables to rapport_owner (becoming a member of it) and can
    still migrate afterwards."""
    from models.database import make_engine
    from models.migrate import upgrade
    from tests import pg_cluster

    dba = f"dba_{uuid.uuid4().hex[:8]}"
    name = f"rapport_t_dba_{uuid.uuid4().hex[:6]}"
    new_roles.append(dba)
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEDB CREATEROLE").format(sql.Identifier(dba))
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(dba))
        )
    url = pg_cluster.database_url(pg_admin_url, name)
    as_dba = make_url(url).set(username=dba, password=None).render_as_string(hide_password=False)
    try:
        engine = make_engine(as_dba)
        upgrade(engine)
        engine.dispose()
        with provisioning.connect(as_dba) as conn:
            summary = provisioning.provision_roles(conn)
        assert f"{dba} was made a member of rapport_owner to hand it the tables" in summary.notes
        with psycopg.connect(url) as conn:
            owners = conn.execute(
                "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S')"
            ).fetchall()
        assert owners == [("rapport_owner",)]
    finally:
        pg_cluster.drop_database(pg_admin_url, name)


def test_only_admins_write_the_mined_rules(
    provisioned: Engine, new_roles: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """An agent reads the rules (pop time) but cannot write them; `rules mine` runs as an
    admin login. offer_events (impressions) stays an agent's working table."""
    from app.services.rules import RuleService
    from models.database import Database, make_engine
    from models.enums import Role

    url = _libpq(provisioned)
    tag = uuid.uuid4().hex[:8]
    agent, admin = f"u{tag}_agent", f"u{tag}_admin"
    new_roles.extend([agent, admin])
    with provisioning.connect(url) as conn:
        provisioning.add_user(conn, agent, Role.AGENT, "agent-password-1", None)
        provisioning.add_user(conn, admin, Role.ADMIN, "admin-password-1", None)
    insert_run = (
        "INSERT INTO rule_runs (mined_at, mined_by, source, baskets, items, min_support, "
        "min_confidence, max_length, rule_count, seconds) "
        "VALUES (now(), session_user, 'test', 1, 1, 0.5, 0.5, 2, 1, 0) RETURNING id"
    )
    insert_rule = (
        "INSERT INTO association_rules (run_id, antecedent_key, consequent_key, "
        "antecedent_size, consequent_size, baskets, support, confidence, lift) "
        "VALUES (%s, '1', '2', 1, 1, 1, 0.5, 0.5, 1.0) RETURNING id"
    )
    with psycopg.connect(_libpq(provisioned, admin)) as as_admin:
        run_id = as_admin.execute(insert_run).fetchone()[0]
        rule_id = as_admin.execute(insert_rule, (run_id,)).fetchone()[0]
        as_admin.execute("UPDATE association_rules SET lift = 2.0 WHERE id = %s", (rule_id,))
    with psycopg.connect(_libpq(provisioned, agent)) as as_agent:
        assert as_agent.execute("SELECT count(*) FROM association_rules").fetchone() == (1,)
        for statement, args in [
            (insert_rule, (run_id,)),
            ("UPDATE association_rules SET lift = 9 WHERE id = %s", (rule_id,)),
            ("DELETE FROM association_rules WHERE id = %s", (rule_id,)),
            ("DELETE FROM association_rule_items", ()),
            (insert_run, ()),
            ("DELETE FROM offers", ()),
            ("DELETE FROM product_relations", ()),
        ]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                as_agent.execute(statement, args)
            as_agent.rollback()
        privileges = as_agent.execute(
            "SELECT has_table_privilege('offer_events', 'INSERT'), "
            "has_table_privilege('offer_events', 'UPDATE')"
        ).fetchone()
        assert privileges == (True, True)
    code = main(["rules", "mine", "--db", _libpq(provisioned, agent), "--min-support", "0.5"])
    assert code == 2  # read, mined, refused at the write, in one line (checked below)
    # The service as the admin login: the whole replacement, sequences included.
    as_admin_engine = make_engine(
        provisioned.url.set(username=admin, password=None).render_as_string(hide_password=False)
    )
    try:
        summary = RuleService(Database(as_admin_engine)).mine_and_store(0.5, 0.5, 2, admin)
        assert summary.mined_by == admin and summary.rules == 0
    finally:
        as_admin_engine.dispose()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM association_rules").fetchone() == (0,)
    err = capsys.readouterr().err.splitlines()
    assert err[-1].endswith("only rapport_admin may replace the rules: run rules mine as an "
                            "admin login or the DBA")  # fmt: skip


def test_only_supervisors_save_campaigns(provisioned: Engine, new_roles: list[str]) -> None:
    """A marketing list saved as a campaign (issue 14): supervisors, managers and admins
    write campaigns and their members; an agent reads them and cannot write them, even
    after a provisioning that had made them working tables."""
    from models.enums import Role

    url = _libpq(provisioned)
    with psycopg.connect(url) as conn:  # as an older provisioning left it
        conn.execute("GRANT INSERT, UPDATE, DELETE ON campaigns TO rapport_agent")
    with provisioning.connect(url) as conn:
        provisioning.provision_roles(conn)
    tag = uuid.uuid4().hex[:8]
    agent, supervisor = f"u{tag}_agent", f"u{tag}_super"
    new_roles.extend([agent, supervisor])
    with provisioning.connect(url) as conn:
        provisioning.add_user(conn, agent, Role.AGENT, "agent-password-1", None)
        provisioning.add_user(conn, supervisor, Role.SUPERVISOR, "super-password-1", None)
        customer = conn.execute("SELECT min(id) FROM customers").fetchone()
    insert = (
        "INSERT INTO campaigns (name, channel, criteria_json, left_out_json, member_count, "
        "return_days, created_by, created_at) "
        "VALUES ('S1', 'email', '{}', '{}', 1, 30, session_user, now()) RETURNING id"
    )
    with psycopg.connect(_libpq(provisioned, supervisor)) as as_super:
        campaign = as_super.execute(insert).fetchone()[0]
        if customer and customer[0] is not None:
            as_super.execute(
                "INSERT INTO campaign_members (campaign_id, customer_id) VALUES (%s, %s)",
                (campaign, customer[0]),
            )
    with psycopg.connect(_libpq(provisioned, agent)) as as_agent:
        assert as_agent.execute("SELECT count(*) FROM campaigns").fetchone() == (1,)
        for statement, args in [
            (insert, ()),
            ("UPDATE campaigns SET name = 'mine' WHERE id = %s", (campaign,)),
            ("DELETE FROM campaign_members", ()),
        ]:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                as_agent.execute(statement, args)
            as_agent.rollback()
