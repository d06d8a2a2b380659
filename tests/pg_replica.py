"""A throwaway primary with a streaming hot standby, both on loopback, for the tests
that read from a replica (tests/test_dashboards_replica.py).

Always private clusters (tests/pg_cluster.py's `_Cluster`), even when
RAPPORT_TEST_PG_URL names a server: replication needs a primary whose settings and
pg_hba.conf are ours. initdb's defaults already allow it (wal_level replica,
max_wal_senders 10, "host replication all 127.0.0.1/32 trust"); the standby is a
`pg_basebackup -R` of the primary (streaming, standby.signal written), started on
its own port.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from tests.pg_cluster import (
    SUPERUSER,
    PostgresUnavailable,
    _Cluster,
    _log_tail,
    _run,
    reap_stale_clusters,
)

CATCH_UP_TIMEOUT = 30.0


@contextmanager
def primary_and_standby() -> Iterator[tuple[str, str]]:
    """Yield the admin URLs (database `postgres`) of a primary and its hot standby."""
    reap_stale_clusters()
    primary = _Cluster()
    standby: _Cluster | None = None
    try:
        primary.initdb()
        primary.start()
        standby = _Cluster()
        proc = _run(
            [
                standby._tool("pg_basebackup"),
                "-D", str(standby.datadir),
                "-h", "127.0.0.1",
                "-p", str(primary.port),
                "-U", SUPERUSER,
                "-X", "stream",
                "-R",
                "--no-sync",
            ],
            standby.user,
            standby.root,
            timeout=120,
        )  # fmt: skip
        if proc.returncode != 0:
            raise PostgresUnavailable(f"pg_basebackup failed ({proc.returncode}):\n{proc.stdout}")
        standby.start()
        with psycopg.connect(standby.url, connect_timeout=5) as conn:
            in_recovery = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        if not in_recovery or not in_recovery[0]:
            raise PostgresUnavailable(
                f"the standby is not in recovery:\n{_log_tail(standby.logfile)}"
            )
        yield primary.url, standby.url
    finally:
        if standby is not None:
            standby.cleanup()
        primary.cleanup()


def wait_caught_up(primary_url: str, standby_url: str) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    with psycopg.connect(primary_url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    target = row[0]
    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    with psycopg.connect(standby_url, autocommit=True) as conn:
        while True:
            done = conn.execute(
                "SELECT pg_is_in_recovery() AND pg_last_wal_replay_lsn() >= %s::pg_lsn",
                (target,),
            ).fetchone()
            if done and done[0]:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the standby did not reach {target} in {CATCH_UP_TIMEOUT} s")
            time.sleep(0.05)
