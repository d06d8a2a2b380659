"""A merge as an agent's own PostgreSQL login (migration 0014): the SECURITY DEFINER
functions move the merged customer's concessions and override requests, the agent
still cannot UPDATE those tables, a forged merge row moves nothing, and both moves are
in audit_log under the agent's login.

Fixtures: tests/pg_logins.py (a provisioned database with its own logins).
"""

from __future__ import annotations

import json

import psycopg
import pytest

from app.services.merge import MergeService
from tests.factories import agent_context
from tests.pg_logins import AuthorityDb


def _grant(db: AuthorityDb, customer: int, key: str) -> int:
    """A concession of `customer`, written by the superuser (the setup, not the test)."""
    row = (
        db.admin()
        .execute(
            "INSERT INTO concessions (idempotency_key, customer_id, type, amount_cents, reason, "
            "granted_by_id, currency, granted_at) VALUES (%s, %s, 'goodwill_gift', 1500, "
            "'late parcel', %s, 'USD', now()) RETURNING id",
            (key, customer, db.user_id("agent01")),
        )
        .fetchone()
    )
    assert row is not None
    return int(row[0])


def _owner(db: AuthorityDb, concession: int) -> int:
    row = (
        db.admin()
        .execute("SELECT customer_id FROM concessions WHERE id = %s", (concession,))
        .fetchone()
    )
    assert row is not None
    return int(row[0])


def _versions(db: AuthorityDb, *ids: int) -> dict[int, int]:
    rows = db.admin().execute("SELECT id, version FROM customers WHERE id = ANY(%s)", (list(ids),))
    return {int(i): int(v) for i, v in rows.fetchall()}


def test_an_agent_merges_and_unmerges_a_customer_with_concessions(
    authority_db: AuthorityDb,
) -> None:
    db = authority_db
    survivor, merged = db.ref.dorothy, db.ref.bob
    concession = _grant(db, merged, "merge-test-1")
    engine = db.engine("agent01")
    service = MergeService(db.database("agent01"), agent=agent_context(engine, db.login("agent01")))

    result = service.merge(survivor, merged, {}, _versions(db, survivor, merged))

    assert result.moved["concessions.customer_id"] == 1
    assert _owner(db, concession) == survivor
    # The function did it; the agent still may not.
    conn = db.connect("agent01")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE concessions SET customer_id = %s WHERE id = %s", (merged, concession))
    audit = (
        db.admin()
        .execute(
            "SELECT actor, detail::text FROM audit_log WHERE action = 'customer.merge.protected'"
        )
        .fetchall()
    )
    assert [a for a, _d in audit] == [db.login("agent01")]
    assert json.loads(audit[0][1])["concessions"] == [[concession]]

    service.unmerge(result.merge_id)

    assert _owner(db, concession) == merged
    actors = (
        db.admin()
        .execute("SELECT actor FROM audit_log WHERE action = 'customer.unmerge.protected'")
        .fetchall()
    )
    assert actors == [(db.login("agent01"),)]


def test_a_forged_merge_row_moves_nothing(authority_db: AuthorityDb) -> None:
    """An agent may write customer_merges (a working table), but the function moves
    rows only from a customer the same transaction marked merged into the survivor."""
    db = authority_db
    concession = _grant(db, db.ref.bob, "merge-test-2")
    conn = db.connect("agent01", autocommit=False)
    row = conn.execute(
        "INSERT INTO customer_merges (survivor_id, merged_id, merged_by, merged_at, log_json) "
        "VALUES (%s, %s, 'x', now(), '{\"moved\": []}') RETURNING id",
        (db.ref.dorothy, db.ref.bob),
    ).fetchone()
    assert row is not None
    with pytest.raises(psycopg.errors.RaiseException, match="is not merged into"):
        conn.execute("SELECT rapport_merge_move_protected(%s)", (row[0],))
    conn.rollback()
    assert _owner(db, concession) == db.ref.bob


def test_public_cannot_call_the_functions(authority_db: AuthorityDb) -> None:
    rows = (
        authority_db.admin()
        .execute(
            "SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE'), "
            "has_function_privilege('rapport_agent', p.oid, 'EXECUTE'), p.prosecdef, "
            "array_to_string(p.proconfig, ',') FROM pg_proc p "
            "WHERE p.proname LIKE 'rapport\\_%%merge\\_move\\_protected' ORDER BY 1"
        )
        .fetchall()
    )
    assert [r[0] for r in rows] == [
        "rapport_merge_move_protected",
        "rapport_unmerge_move_protected",
    ]
    for _name, public, agent, definer, config in rows:
        assert (public, agent, definer) == (False, True, True)
        assert "search_path=" in config and "pg_temp" in config
