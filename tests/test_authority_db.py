"""What PostgreSQL itself enforces, proved with raw SQL as each person's own login.

Not through the app: a desktop is only a client, so these tests connect as the agent
(`t…_agent01`, a member of rapport_agent) or the supervisor exactly as any program on
their PC could, and try what the issue measured before: approve, write the protected
tables, raise a limit, promote oneself, rewrite the audit log, race a second approver,
overspend a budget. Every test runs twice: straight to the server, and through a real
PgBouncer in transaction pooling (tests/pgbouncer.py), where each statement may land
on another server connection.

Fixtures: tests/pg_logins.py (the provisioned database and its logins).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import TupleRow

from tests.pg_logins import AuthorityDb
from tests.pgbouncer import LazyBouncer

Conn = psycopg.Connection[TupleRow]
# The 11 parameters of rapport_grant_concession and rapport_request_override, typed:
# psycopg sends a Python int as the smallest integer type that holds it.
ASK = ", ".join(f"%s::{t}" for t in "text int text int text text int int int numeric int".split())
PROTECTED = {
    # table -> a column to "update"
    "concessions": "amount_cents",
    "override_requests": "status",
    "override_decisions": "comment",
    "authority_limits": "max_amount_cents",
    "authority_settings": "request_ttl_seconds",
    "users": "role",
    "concession_budgets": "spent_cents",
    "authority_actions": "outcome",
    "staff_presence": "available",
    "policies": "active",
    "departments": "name",
    "alembic_version": "version_num",
}
REASON = "Parcel arrived a week late"
# 1,000 rounds straight to the server; through PgBouncer as many (each decide is one
# transaction on whichever server connection is free, which is what is tested there).
ROUNDS = 1000


@pytest.fixture(params=["direct", "pgbouncer"])
def db(
    request: pytest.FixtureRequest, authority_db: AuthorityDb, pgbouncer: LazyBouncer
) -> AuthorityDb:
    return authority_db if request.param == "direct" else authority_db.through(pgbouncer)


# -- calling the functions as a client would ----------------------------------------


def _one(conn: Conn, query: Any, params: tuple[object, ...] = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def ask(
    customer: int,
    kind: str = "goodwill_gift",
    amount: int = 1000,
    *,
    reason: str = REASON,
    currency: str = "USD",
    case: int | None = None,
    order: int | None = None,
    line: int | None = None,
    percent: Decimal | str | None = None,
    policy: int | None = None,
) -> tuple[object, ...]:
    return (customer, kind, amount, reason, currency, case, order, line, percent, policy)


def grant(conn: Conn, key: str, the_ask: tuple[object, ...]) -> dict[str, Any]:
    return _one(conn, f"SELECT rapport_grant_concession({ASK})", (key, *the_ask))


def request_override(conn: Conn, key: str, the_ask: tuple[object, ...]) -> dict[str, Any]:
    return _one(conn, f"SELECT rapport_request_override({ASK})", (key, *the_ask))


def decide(
    conn: Conn,
    request_id: int,
    decision: str,
    comment: str | None = None,
    counter: int | None = None,
) -> dict[str, Any]:
    return _one(
        conn,
        "SELECT rapport_decide_override(%s::int, %s::text, %s::text, %s::int)",
        (request_id, decision, comment, counter),
    )


def set_limit(
    conn: Conn, key: str, role: str | None, user_id: int | None, **values: Any
) -> dict[str, Any]:
    row = {
        "type": "goodwill_gift",
        "allowed": True,
        "max_amount": 3000,
        "max_percent": None,
        "budget": None,
        "period": 30,
        "max_total": None,
        "valid_from": None,
        "valid_until": None,
        **values,
    }
    return _one(
        conn,
        "SELECT rapport_set_limit(%s::text, %s::text, %s::int, %s::text, %s::bool, %s::int, "
        "%s::numeric, %s::int, %s::int, %s::int, %s::date, %s::date)",
        (key, role, user_id, row["type"], row["allowed"], row["max_amount"], row["max_percent"],
         row["budget"], row["period"], row["max_total"], row["valid_from"], row["valid_until"]),
    )  # fmt: skip


def denied(outcome: dict[str, Any], reason: str) -> bool:
    return outcome["status"] == "denied" and outcome["reason"] == reason


def refused(conn: Conn, query: Any, params: tuple[object, ...] = ()) -> bool:
    """True when the server refuses the statement for lack of privilege (42501)."""
    try:
        conn.execute(query, params)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def audits(db: AuthorityDb, action: str) -> list[dict[str, Any]]:
    rows = (
        db.admin()
        .execute(
            "SELECT actor, entity, entity_id, detail::jsonb, before::jsonb, after::jsonb, at "
            "FROM audit_log WHERE action = %s ORDER BY id",
            (action,),
        )
        .fetchall()
    )
    keys = ("actor", "entity", "entity_id", "detail", "before", "after", "at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def count(db: AuthorityDb, query: Any, params: tuple[object, ...] = ()) -> int:
    return int(_one(db.admin(), query, params))


def new_request(db: AuthorityDb, key: str, amount: int = 5000, login: str = "agent01") -> int:
    """A pending goodwill request of `login` for Dorothy (approvers are present)."""
    outcome = request_override(db.connect(login), key, ask(db.ref.dorothy, amount=amount))
    assert outcome["status"] == "pending", outcome
    return int(outcome["request_id"])


def in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..n-1) in n threads at once; their results, or raise the first error."""
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            results[i] = work(i)
        except BaseException as exc:  # re-raised below, on the test's thread
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(i,), name=f"authority-test-{i}") for i in range(n)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    if errors:
        raise errors[0]
    return results


# -- the agent cannot take authority they do not have --------------------------------


def test_an_agent_cannot_approve_an_override(db: AuthorityDb) -> None:
    request_id = new_request(db, "req-1")
    agent = db.connect("agent01")
    assert refused(
        agent, "SELECT rapport_decide_override(%s::int, 'approve', NULL, NULL)", (request_id,)
    )
    assert refused(
        db.connect("senior01"),
        "SELECT rapport_decide_override(%s::int, 'approve', NULL, NULL)",
        (request_id,),
    )
    # Were EXECUTE granted by mistake, the function itself still refuses (and audits):
    # authority is the users row's role AND membership of that role's group.
    admin = db.admin()
    admin.execute(
        sql.SQL(
            "GRANT EXECUTE ON FUNCTION rapport_decide_override(int, text, text, int) TO {}"
        ).format(sql.Identifier(db.login("agent01")))
    )
    assert denied(decide(agent, request_id, "approve"), "not_approver")
    admin.execute(
        sql.SQL("GRANT rapport_supervisor TO {}").format(sql.Identifier(db.login("agent02")))
    )
    assert denied(decide(db.connect("agent02"), request_id, "approve"), "not_approver")
    tried = audits(db, "override.denied")
    assert [(a["actor"], a["detail"]["reason"], a["entity_id"]) for a in tried] == [
        (db.login("agent01"), "not_approver", request_id),
        (db.login("agent02"), "not_approver", request_id),
    ]
    assert count(db, "SELECT count(*) FROM override_decisions") == 0
    assert count(db, "SELECT count(*) FROM override_requests WHERE status = 'pending'") == 1


@pytest.mark.parametrize("login", ["agent01", "super01"])
def test_nobody_writes_the_protected_tables(db: AuthorityDb, login: str) -> None:
    conn = db.connect(login)
    for table, column in PROTECTED.items():
        name, col = sql.Identifier(table), sql.Identifier(column)
        assert conn.execute(sql.SQL("SELECT count(*) FROM {}").format(name)).fetchone() is not None
        attempts = [
            sql.SQL("INSERT INTO {} DEFAULT VALUES").format(name),
            sql.SQL("UPDATE {} SET {} = {}").format(name, col, col),
            sql.SQL("DELETE FROM {}").format(name),
            sql.SQL("TRUNCATE {}").format(name),
        ]
        for attempt in attempts:
            assert refused(conn, attempt), f"{login} may: {attempt.as_string(conn)}"
    # The concession the issue saw inserted by hand, $9,999.99 with no override:
    assert refused(
        conn,
        "INSERT INTO concessions (idempotency_key, customer_id, type, amount_cents, currency, "
        "reason, granted_by_id, granted_at) VALUES ('x', %s, 'goodwill_gift', 999999, 'USD', "
        "'because', %s, now())",
        (db.ref.dorothy, db.user_id(login)),
    )
    assert count(db, "SELECT count(*) FROM concessions") == 0


def test_an_agent_cannot_raise_their_own_limit(db: AuthorityDb) -> None:
    agent = db.connect("agent01")
    assert refused(
        agent, "UPDATE authority_limits SET max_amount_cents = 100000000 WHERE role = 'agent'"
    )
    assert refused(
        agent,
        "INSERT INTO authority_limits (user_id, concession_type, max_amount_cents, period_days, "
        "allowed) VALUES (%s, 'goodwill_gift', 100000000, 30, true)",
        (db.user_id("agent01"),),
    )
    assert refused(
        agent,
        "SELECT rapport_set_limit('k', NULL, %s::int, 'goodwill_gift', true, 100000000, NULL, "
        "NULL, 30, NULL, NULL, NULL)",
        (db.user_id("agent01"),),
    )
    # EXECUTE granted by mistake: the function still wants an admin (role and group).
    signature = (
        "rapport_set_limit(text, text, int, text, bool, int, numeric, int, int, int, date, date)"
    )
    db.admin().execute(
        sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(
            sql.SQL(signature), sql.Identifier(db.login("agent01"))
        )
    )
    outcome = set_limit(agent, "lim-1", None, db.user_id("agent01"), max_amount=100_000_000)
    assert denied(outcome, "not_admin")
    assert audits(db, "authority.denied")[0]["actor"] == db.login("agent01")
    assert denied(grant(agent, "g-1", ask(db.ref.dorothy, amount=3001)), "above_limit")
    # The admin may, and the change is audited with before and after.
    admin = db.connect("admin01")
    assert (
        set_limit(admin, "lim-2", "agent", None, max_amount=3500, budget=10000, max_total=35000)[
            "status"
        ]
        == "saved"
    )
    (change,) = audits(db, "authority.limit")
    assert change["actor"] == db.login("admin01")
    assert (change["before"]["max_amount_cents"], change["after"]["max_amount_cents"]) == (
        3000,
        3500,
    )
    assert grant(agent, "g-2", ask(db.ref.dorothy, amount=3001))["status"] == "granted"


def test_an_agent_cannot_promote_themselves(db: AuthorityDb) -> None:
    agent = db.connect("agent01")
    me = sql.Identifier(db.login("agent01"))
    assert refused(agent, "UPDATE users SET role = 'manager' WHERE login = session_user")
    for group in ("rapport_supervisor", "rapport_manager", "rapport_admin", "rapport_owner"):
        assert refused(agent, sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), me))
        assert refused(agent, sql.SQL("SET ROLE {}").format(sql.Identifier(group)))
    assert refused(agent, sql.SQL("ALTER ROLE {} SUPERUSER").format(me))
    assert refused(agent, sql.SQL("ALTER ROLE {} CREATEROLE").format(me))
    assert refused(agent, "CREATE ROLE someone_else LOGIN")
    role = _one(db.admin(), "SELECT role FROM users WHERE id = %s", (db.user_id("agent01"),))
    assert role == "agent"
    assert not _one(
        db.admin(),
        "SELECT pg_has_role(%s, 'rapport_supervisor', 'MEMBER')",
        (db.login("agent01"),),
    )


def test_the_audit_log_is_append_only_for_everyone(db: AuthorityDb) -> None:
    agent = db.connect("agent01")
    grant(agent, "g-1", ask(db.ref.dorothy))
    before = count(db, "SELECT count(*) FROM audit_log")
    for login in ("agent01", "super01", "admin01"):
        conn = db.connect(login)
        for attempt in (
            "UPDATE audit_log SET actor = 'nobody'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "ALTER TABLE audit_log DISABLE TRIGGER ALL",
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
            "DROP TABLE audit_log",
            "DROP TRIGGER audit_log_server_actor ON audit_log",
        ):
            assert refused(conn, attempt), f"{login} may: {attempt}"
    # Not even the superuser, short of dropping the triggers: they refuse.
    admin = db.admin()
    for attempt in (
        "UPDATE audit_log SET actor = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            admin.execute(attempt)
    assert count(db, "SELECT count(*) FROM audit_log") == before


def test_the_audit_actor_is_the_login_whatever_the_client_claims(db: AuthorityDb) -> None:
    agent = db.connect("agent01")
    actor, at, server_now = agent.execute(
        "INSERT INTO audit_log (at, actor, action, entity, entity_id) "
        "VALUES ('2000-01-01T00:00:00Z', %s, 'note.add', 'note', 1) RETURNING actor, at, now()",
        (db.login("super01"),),
    ).fetchone()
    assert actor == db.login("agent01")
    assert abs((at - server_now).total_seconds()) < 60
    grant(agent, "g-1", ask(db.ref.dorothy))
    assert [a["actor"] for a in audits(db, "concession.grant")] == [db.login("agent01")]


def test_a_supervisor_cannot_approve_their_own_request(db: AuthorityDb) -> None:
    sup = db.connect("super01")
    # Above a supervisor's own goodwill limit ($150): a manager must approve.
    outcome = request_override(sup, "own-1", ask(db.ref.dorothy, amount=20000))
    assert (outcome["status"], outcome["required_role"]) == ("pending", "manager")
    assert denied(decide(sup, outcome["request_id"], "approve"), "own_request")
    # A supervisor with a personal limit below the ask: another supervisor approves.
    db.admin().execute(
        "INSERT INTO authority_limits (user_id, concession_type, max_amount_cents, period_days, "
        "allowed) VALUES (%s, 'goodwill_gift', 1000, 30, true)",
        (db.user_id("super01"),),
    )
    second = request_override(sup, "own-2", ask(db.ref.dorothy, amount=5000))
    assert (second["status"], second["required_role"]) == ("pending", "supervisor")
    assert denied(decide(sup, second["request_id"], "approve"), "own_request")
    approved = decide(db.connect("super02"), second["request_id"], "approve", "fine")
    assert approved["status"] == "approved"
    by, approver = (
        db.admin()
        .execute(
            "SELECT granted_by_id, approved_by_id FROM concessions WHERE id = %s",
            (approved["concession_id"],),
        )
        .fetchone()
    )
    assert (by, approver) == (db.user_id("super01"), db.user_id("super02"))
    own = [a for a in audits(db, "override.denied") if a["detail"]["reason"] == "own_request"]
    assert [a["actor"] for a in own] == [db.login("super01")] * 2


def test_grants_beyond_authority_are_refused_and_audited(db: AuthorityDb) -> None:
    agent = db.connect("agent01")
    ref = db.ref
    above = grant(agent, "a-1", ask(ref.dorothy, amount=3001))
    assert denied(above, "above_limit")
    assert (above["limit_cents"], above["required_role"]) == (3000, "senior_agent")
    percent = grant(
        agent, "a-2", ask(ref.dorothy, "discount", 1500, percent="12", order=ref.dorothy_order)
    )
    assert denied(percent, "above_limit") and percent["required_role"] == "senior_agent"
    not_allowed = grant(agent, "a-3", ask(ref.dorothy, "fee_waiver", 500))
    assert (
        denied(not_allowed, "type_not_allowed") and not_allowed["required_role"] == "senior_agent"
    )
    # The daily budget ($100 of goodwill): $30 + $30 + $30 leaves $10.
    for i, customer in enumerate((ref.dorothy, ref.ada, ref.bob)):
        assert grant(agent, f"b-{i}", ask(customer, amount=3000))["status"] == "granted"
    over = grant(agent, "b-3", ask(ref.ada, amount=1500))
    assert denied(over, "over_budget")
    assert (over["limit_cents"], over["remaining_budget_cents"]) == (10000, 1000)
    last = grant(agent, "b-4", ask(ref.ada, amount=1000))
    assert (last["status"], last["remaining_budget_cents"]) == ("granted", 0)
    # What a customer may receive over 30 days, from everyone ($300 of goodwill).
    admin = db.admin()
    for customer, days in ((ref.bob, 5), (ref.dorothy, 31)):
        admin.execute(
            "INSERT INTO concessions (idempotency_key, customer_id, type, amount_cents, currency, "
            "reason, granted_by_id, granted_at) VALUES (%s, %s, 'goodwill_gift', 27000, 'USD', "
            "'earlier', %s, now() - make_interval(days => %s))",
            (f"past-{customer}", customer, db.user_id("manager01"), days),
        )
    other = db.connect("agent02")
    limit = grant(other, "c-1", ask(ref.bob, amount=2500))
    assert denied(limit, "customer_limit") and limit["limit_cents"] == 30000
    assert grant(other, "c-2", ask(ref.dorothy, amount=2500))["status"] == "granted"  # 31 days ago
    reasons = Counter(a["detail"]["reason"] for a in audits(db, "concession.denied"))
    assert reasons == {
        "above_limit": 2,
        "type_not_allowed": 1,
        "over_budget": 1,
        "customer_limit": 1,
    }
    assert {a["actor"] for a in audits(db, "concession.denied")} == {
        db.login("agent01"),
        db.login("agent02"),
    }
    granted = count(db, "SELECT count(*) FROM concessions WHERE idempotency_key NOT LIKE 'past-%%'")
    assert granted == 5


def test_bad_asks_are_refused_as_invalid(db: AuthorityDb) -> None:
    agent = db.connect("agent01")
    ref = db.ref
    bad = {
        "blank reason": ask(ref.dorothy, reason=" \t\n "),
        "long reason": ask(ref.dorothy, reason="x" * 2001),
        "currency": ask(ref.dorothy, currency="usd"),
        "negative": ask(ref.dorothy, amount=-1),
        "zero percent": ask(ref.dorothy, "discount", 100, percent="0.004"),
        "over 100%": ask(ref.dorothy, "discount", 100, percent="100.01"),
        "no such customer": ask(999999),
        "someone else's case": ask(ref.dorothy, case=ref.bob_case),
        "someone else's order": ask(ref.dorothy, order=ref.bob_order),
        "line of another order": ask(ref.dorothy, order=ref.bob_order, line=ref.dorothy_line),
        "no such policy": ask(ref.dorothy, policy=999999),
        "no such type": ask(ref.dorothy, "voucher"),
    }
    for i, (what, the_ask) in enumerate(bad.items()):
        assert denied(grant(agent, f"bad-{i}", the_ask), "invalid"), what
    for key in ("", "   ", "k" * 65, "override-1"):
        assert denied(grant(agent, key, ask(ref.dorothy)), "invalid"), key
    good = ask(ref.dorothy, case=ref.dorothy_case, order=ref.dorothy_order, line=ref.dorothy_line,
               policy=ref.policy)  # fmt: skip
    assert grant(agent, "good", good)["status"] == "granted"
    assert denied(grant(db.connect("ghost"), "ghost-1", ask(ref.dorothy)), "not_staff")
    db.admin().execute("UPDATE users SET active = false WHERE id = %s", (db.user_id("agent02"),))
    assert denied(grant(db.connect("agent02"), "gone-1", ask(ref.dorothy)), "not_staff")
    assert len(audits(db, "concession.denied")) == len(bad) + 4 + 2
    assert count(db, "SELECT count(*) FROM concessions") == 1


def test_a_retried_grant_is_recorded_once(db: AuthorityDb) -> None:
    agent = db.connect("agent01")
    the_ask = ask(db.ref.dorothy, amount=1200)
    first, again, third = (grant(agent, "same-key", the_ask) for _ in range(3))
    assert (first["status"], first["replayed"], again["replayed"], third["replayed"]) == (
        "granted", False, True, True,
    )  # fmt: skip
    assert first["concession_id"] == again["concession_id"] == third["concession_id"]
    # The same click retried from 8 connections at the same moment.
    conns = [db.connect("agent01") for _ in range(8)]
    barrier = threading.Barrier(len(conns))

    def retry(i: int) -> dict[str, Any]:
        barrier.wait(timeout=30)
        return grant(conns[i], "raced-key", the_ask)

    raced = in_threads(len(conns), retry)
    assert {o["status"] for o in raced} == {"granted"}
    assert len({o["concession_id"] for o in raced}) == 1
    assert sum(not o["replayed"] for o in raced) == 1
    assert count(db, "SELECT count(*) FROM concessions") == 2
    assert count(db, "SELECT spent_cents FROM concession_budgets") == 2400
    # The same key with other parameters, or from another login, is refused.
    assert denied(grant(agent, "same-key", ask(db.ref.dorothy, amount=1300)), "key_reused")
    assert denied(grant(db.connect("agent02"), "same-key", the_ask), "key_reused")
    assert denied(request_override(agent, "same-key", the_ask), "key_reused")
    assert [a["detail"]["reason"] for a in audits(db, "concession.denied")] == ["key_reused"] * 2
    assert count(db, "SELECT count(*) FROM concessions") == 2


def test_two_supervisors_deciding_at_once_make_one_decision(db: AuthorityDb) -> None:
    admin = db.admin()
    ids = [
        int(row[0])
        for row in admin.execute(
            "INSERT INTO override_requests (idempotency_key, customer_id, concession_type, "
            "amount_cents, reason, requested_by_id, required_role, requested_at, status, version, "
            "currency, expires_at) SELECT 'race-' || i, %s, 'goodwill_gift', 5000, 'race', %s, "
            "'supervisor', now(), 'pending', 1, 'USD', now() + interval '1 hour' "
            "FROM generate_series(1, %s) AS i RETURNING id",
            (db.ref.dorothy, db.user_id("agent01"), ROUNDS),
        ).fetchall()
    ]
    deciders = [db.connect("super01"), db.connect("super02")]
    barrier = threading.Barrier(2)
    started = time.perf_counter()

    def approve_all(i: int) -> list[dict[str, Any]]:
        outcomes = []
        for request_id in ids:
            barrier.wait(timeout=30)
            outcomes.append(decide(deciders[i], request_id, "approve", "ok"))
        return outcomes

    first, second = in_threads(2, approve_all)
    elapsed = time.perf_counter() - started
    for a, b in zip(first, second, strict=True):
        statuses = sorted((a["status"], b["status"]))
        assert statuses == ["approved", "denied"], (a, b)
        loser = a if a["status"] == "denied" else b
        assert (loser["reason"], loser["request_status"]) == ("already_decided", "approved")
    assert count(db, "SELECT count(*) FROM override_decisions") == ROUNDS
    assert count(db, "SELECT count(*) FROM (SELECT request_id FROM override_decisions "
                     "GROUP BY request_id HAVING count(*) > 1) AS twice") == 0  # fmt: skip
    assert (
        count(db, "SELECT count(*) FROM concessions WHERE override_request_id IS NOT NULL")
        == ROUNDS
    )
    assert (
        count(db, "SELECT count(*) FROM audit_log WHERE action = 'override.decide_again'") == ROUNDS
    )
    wins = Counter(o["status"] for o in first)
    print(f"{db.route_name}: {ROUNDS} rounds in {elapsed:.1f} s; super01 won {wins['approved']}")


def test_concurrent_grants_never_overspend_a_daily_budget(db: AuthorityDb) -> None:
    budget, amount, n = 10000, 300, 50
    conns = [db.connect("agent01") for _ in range(n)]
    barrier = threading.Barrier(n)

    def spend(i: int) -> dict[str, Any]:
        barrier.wait(timeout=60)
        return grant(conns[i], f"spend-{i}", ask(db.ref.dorothy, amount=amount))

    outcomes = in_threads(n, spend)
    statuses = Counter(o["status"] for o in outcomes)
    assert statuses == {"granted": budget // amount, "denied": n - budget // amount}
    assert all(o["reason"] == "over_budget" for o in outcomes if o["status"] == "denied")
    spent = count(
        db,
        "SELECT spent_cents FROM concession_budgets WHERE user_id = %s",
        (db.user_id("agent01"),),
    )
    assert spent == count(db, "SELECT sum(amount_cents) FROM concessions") == 33 * amount <= budget
    assert len(audits(db, "concession.denied")) == n - budget // amount


# -- the override flow -----------------------------------------------------------------


def test_with_no_approver_available_the_agent_is_told_at_once(db: AuthorityDb) -> None:
    db.present("super01", age_seconds=31)  # stale heartbeat
    db.present("super02", available=False)
    db.admin().execute("DELETE FROM staff_presence WHERE user_id = %s", (db.user_id("manager01"),))
    agent = db.connect("agent01")
    outcome = request_override(agent, "nobody-1", ask(db.ref.dorothy, amount=5000))
    assert (outcome["status"], outcome["required_role"], outcome["approvers"]) == (
        "no_approver", "supervisor", 0,
    )  # fmt: skip
    assert request_override(agent, "nobody-1", ask(db.ref.dorothy, amount=5000))["replayed"] is True
    assert count(db, "SELECT count(*) FROM override_requests") == 0
    assert [a["actor"] for a in audits(db, "override.no_approver")] == [db.login("agent01")]
    # Supervisors are about, but this one needs a manager.
    db.present("super02")
    needs_manager = request_override(agent, "nobody-2", ask(db.ref.dorothy, amount=20000))
    assert (needs_manager["status"], needs_manager["required_role"]) == ("no_approver", "manager")
    pending = request_override(agent, "somebody", ask(db.ref.dorothy, amount=5000))
    assert (pending["status"], pending["approvers"]) == ("pending", 1)
    # Within the agent's own authority there is nothing to ask.
    assert (
        request_override(agent, "small", ask(db.ref.dorothy, amount=500))["status"] == "not_needed"
    )


def test_a_request_expires(db: AuthorityDb) -> None:
    first, second, third = (new_request(db, f"exp-{i}") for i in range(3))
    admin = db.admin()
    ttl = _one(
        admin, "SELECT expires_at - requested_at FROM override_requests WHERE id = %s", (first,)
    )
    assert ttl.total_seconds() == 300
    admin.execute(
        "UPDATE override_requests SET expires_at = now() - interval '1 second' WHERE id = ANY(%s)",
        ([first, second],),
    )
    late = decide(db.connect("super01"), first, "approve")
    assert (late["status"], late["request_status"]) == ("expired", "expired")
    agent = db.connect("agent01")
    assert _one(agent, "SELECT rapport_expire_overrides()") == 1  # the second
    assert _one(agent, "SELECT rapport_expire_overrides()") == 0
    assert denied(
        _one(agent, "SELECT rapport_withdraw_override(%s::int)", (second,)), "not_pending"
    )
    assert [a["entity_id"] for a in audits(db, "override.expire")] == [first, second]
    assert count(db, "SELECT count(*) FROM override_decisions") == 0
    # Withdrawn by the requester only, then nobody can decide it.
    assert denied(
        _one(db.connect("agent02"), "SELECT rapport_withdraw_override(%s::int)", (third,)),
        "not_yours",
    )
    assert (
        _one(agent, "SELECT rapport_withdraw_override(%s::int)", (third,))["status"] == "withdrawn"
    )
    again = decide(db.connect("super02"), third, "approve")
    assert denied(again, "already_decided") and again["request_status"] == "withdrawn"


def test_a_counter_offer_is_accepted_once(db: AuthorityDb) -> None:
    request_id = new_request(db, "counter-1", amount=5000)
    sup = db.connect("super01")
    assert denied(decide(sup, request_id, "counter", None, 3500), "invalid")  # no comment
    assert denied(decide(sup, request_id, "counter", "half?", 5000), "invalid")  # not less
    assert denied(decide(sup, request_id, "reject", "  "), "invalid")
    countered = decide(sup, request_id, "counter", "We can do $35", 3500)
    assert (countered["status"], countered["counter_amount_cents"]) == ("countered", 3500)
    assert denied(decide(db.connect("super02"), request_id, "approve"), "already_decided")
    accept = "SELECT rapport_accept_counter(%s::int, %s::text)"
    assert denied(_one(db.connect("agent02"), accept, (request_id, "acc-x")), "not_yours")
    agent = db.connect("agent01")
    taken = _one(agent, accept, (request_id, "acc-1"))
    assert (taken["status"], taken["counter_amount_cents"], taken["replayed"]) == (
        "granted",
        3500,
        False,
    )
    assert _one(agent, accept, (request_id, "acc-1"))["replayed"] is True
    other_key = _one(agent, accept, (request_id, "acc-2"))
    assert (other_key["concession_id"], other_key["replayed"]) == (taken["concession_id"], True)
    row = (
        db.admin()
        .execute(
            "SELECT amount_cents, granted_by_id, approved_by_id, override_request_id "
            "FROM concessions"
        )
        .fetchall()
    )
    assert row == [(3500, db.user_id("agent01"), db.user_id("super01"), request_id)]
    assert [a["actor"] for a in audits(db, "override.counter")] == [db.login("super01")]
    assert [a["actor"] for a in audits(db, "override.accept_counter")] == [db.login("agent01")]


def test_a_request_above_a_supervisors_limit_goes_to_a_manager(db: AuthorityDb) -> None:
    agent = db.connect("agent01")
    big = request_override(agent, "big", ask(db.ref.dorothy, amount=20000))
    assert (big["status"], big["required_role"]) == ("pending", "manager")
    refused_by_rank = decide(db.connect("super01"), big["request_id"], "approve")
    assert denied(refused_by_rank, "not_approver") and refused_by_rank["required_role"] == "manager"
    approved = decide(db.connect("manager01"), big["request_id"], "approve", "Loyal since 1997")
    assert approved["status"] == "approved"
    # A supervisor whose own limit is lower than the ask passes it on.
    db.admin().execute(
        "INSERT INTO authority_limits (user_id, concession_type, max_amount_cents, period_days, "
        "allowed) VALUES (%s, 'goodwill_gift', 4000, 30, true)",
        (db.user_id("super02"),),
    )
    mid = request_override(agent, "mid", ask(db.ref.dorothy, amount=5000))
    mine = decide(db.connect("super02"), mid["request_id"], "approve")
    assert denied(mine, "above_your_limit")
    assert (mine["limit_cents"], mine["required_role"]) == (4000, "manager")
    assert decide(db.connect("super01"), mid["request_id"], "approve")["status"] == "approved"
    # Above every limit, nobody can be asked.
    assert denied(
        request_override(agent, "huge", ask(db.ref.dorothy, amount=60000)), "above_every_limit"
    )
    approvers = (
        db.admin().execute("SELECT c.approved_by_id FROM concessions c ORDER BY c.id").fetchall()
    )
    assert approvers == [(db.user_id("manager01"),), (db.user_id("super01"),)]


def test_a_temporary_table_cannot_stand_in_for_the_staff_table(db: AuthorityDb) -> None:
    """search_path is pinned with pg_temp last: a caller's temporary `users` or
    `authority_limits` is never what the functions read."""
    agent = db.connect("agent01", autocommit=False)
    with agent.transaction():
        agent.execute("CREATE TEMP TABLE users (LIKE public.users INCLUDING ALL) ON COMMIT DROP")
        agent.execute(
            "INSERT INTO users (id, login, display_name, role, active, created_at) "
            "VALUES (%s, session_user, 'Me', 'manager', true, now())",
            (db.user_id("agent01"),),
        )
        agent.execute(
            "CREATE TEMP TABLE authority_limits (LIKE public.authority_limits) ON COMMIT DROP"
        )
        outcome = grant(agent, "temp-1", ask(db.ref.dorothy, amount=40000))
    assert denied(outcome, "above_limit")
    agent.close()


def test_app_engines_work_through_pgbouncer(db: AuthorityDb) -> None:
    """The app's engine (models.database.make_engine) runs the same statement many
    times: psycopg would prepare it on the fifth, which PgBouncer 1.18 cannot follow."""
    from sqlalchemy import text

    engine = db.engine("agent01")
    for _ in range(3):
        with engine.connect() as conn:
            for customer in (db.ref.dorothy, db.ref.ada, db.ref.bob) * 4:
                name = conn.execute(
                    text("SELECT first_name FROM customers WHERE id = :id"), {"id": customer}
                ).scalar()
                assert name
            assert conn.execute(text("SELECT session_user")).scalar() == db.login("agent01")


# -- how the functions are declared -------------------------------------------------


def test_the_functions_are_locked_down(authority_db: AuthorityDb) -> None:
    db = authority_db
    rows = (
        db.admin()
        .execute(
            "SELECT p.proname, p.prosecdef, p.proconfig, pg_get_userbyid(p.proowner), "
            "p.proacl IS NOT NULL AND NOT EXISTS (SELECT 1 FROM aclexplode(p.proacl) a "
            "WHERE a.grantee = 0), "
            "ARRAY(SELECT pg_get_userbyid(a.grantee) FROM aclexplode(p.proacl) a "
            "WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner ORDER BY 1) "
            "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.proname LIKE 'rapport\\_%%' "
            "AND p.proname NOT LIKE 'rapport\\_changes\\_%%' ORDER BY 1"
        )
        .fetchall()
    )
    names = {row[0] for row in rows}
    assert {"rapport_grant_concession", "rapport_decide_override", "rapport_set_limit"} <= names
    executors = {}
    for name, secdef, config, owner, no_public, grantees in rows:
        assert secdef, name
        assert "search_path=public, pg_temp" in config, (name, config)
        assert owner == "rapport_owner", name
        assert no_public, name
        executors[name] = grantees
    assert executors["rapport_decide_override"] == ["rapport_manager", "rapport_supervisor"]
    assert executors["rapport_set_limit"] == executors["rapport_delete_limit"] == ["rapport_admin"]
    for name in ("grant_concession", "request_override", "withdraw_override", "accept_counter",
                 "expire_overrides", "set_presence", "my_authority"):  # fmt: skip
        assert executors[f"rapport_{name}"] == ["rapport_agent"], name
    assert all(not grantees for name, grantees in executors.items() if name.startswith("rapport__"))


def test_the_migration_revokes_the_functions_from_public(pg_engine: Any) -> None:
    """Before any provisioning: PUBLIC cannot execute them and search_path is pinned."""
    url = pg_engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT p.proname, p.proacl IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
            "aclexplode(p.proacl) a WHERE a.grantee = 0), p.prosecdef, "
            "'search_path=public, pg_temp' = ANY(p.proconfig) FROM pg_proc p "
            "WHERE p.proname LIKE 'rapport\\_%%' AND p.proname NOT LIKE 'rapport\\_changes\\_%%'"
        ).fetchall()
    assert len(rows) > 20
    assert all(no_public and secdef and pinned for _name, no_public, secdef, pinned in rows), rows


def test_my_authority_reads_the_callers_own_rows(db: AuthorityDb) -> None:
    agent = db.connect("agent01")
    grant(agent, "mine-1", ask(db.ref.dorothy, amount=2500))
    rows = {
        row[0]: row[1:] for row in agent.execute("SELECT * FROM rapport_my_authority()").fetchall()
    }
    assert list(rows) == [
        "discount",
        "credit",
        "sample",
        "goodwill_gift",
        "fee_waiver",
        "policy_exception",
    ]
    assert rows["goodwill_gift"] == (True, 3000, None, 10000, 2500, 30, 30000)
    assert rows["discount"][:3] == (True, 2000, Decimal("10.00"))
    assert rows["fee_waiver"][0] is False
    assert list(db.connect("ghost").execute("SELECT * FROM rapport_my_authority()")) == []
    _one(db.connect("super01"), "SELECT rapport_set_presence(false)")
    available = _one(
        db.admin(),
        "SELECT available FROM staff_presence WHERE user_id = %s",
        (db.user_id("super01"),),
    )
    assert available is False
