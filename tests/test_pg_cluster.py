"""The throwaway PostgreSQL cluster used by the database tests."""

from __future__ import annotations

import os
import re
from pathlib import Path

import psycopg
import pytest

from tests.pg_cluster import (
    ENV_URL,
    MIN_MAJOR,
    create_database,
    database_url,
    drop_database,
    postgres_server,
)


def test_throwaway_cluster_lifecycle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_URL, raising=False)
    with postgres_server() as admin_url:
        assert re.fullmatch(r"postgresql://rapport_test@127\.0\.0\.1:\d+/postgres", admin_url)
        assert not admin_url.endswith(":5432/postgres")

        url = create_database(admin_url, "rapport_cluster_check")
        assert url == database_url(admin_url, "rapport_cluster_check")
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT version(), current_setting('server_version_num')::int,"
                " current_setting('data_directory'), current_database(),"
                " pg_encoding_to_char(encoding) FROM pg_database"
                " WHERE datname = current_database()"
            ).fetchone()
        assert row is not None
        version, version_num, data_directory, dbname, encoding = row
        assert version.startswith("PostgreSQL ")
        assert version_num // 10000 >= MIN_MAJOR
        assert dbname == "rapport_cluster_check"
        assert encoding == "UTF8"

        cluster_dir = Path(data_directory).parent
        assert cluster_dir.name.startswith("rapport-pg-")
        if os.geteuid() == 0:  # PostgreSQL must run as an unprivileged user
            assert Path(data_directory).stat().st_uid != 0

        # An open connection must not prevent the drop.
        with psycopg.connect(url) as _held:
            drop_database(admin_url, "rapport_cluster_check")
            drop_database(admin_url, "rapport_cluster_check")  # IF EXISTS: idempotent
        with psycopg.connect(admin_url) as conn:
            gone = conn.execute(
                "SELECT count(*) FROM pg_database WHERE datname = 'rapport_cluster_check'"
            ).fetchone()
        assert gone == (0,)

    assert not cluster_dir.exists()


def test_external_url_is_used_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_URL, "postgresql://someone@db.example:6543/admin")
    with postgres_server() as admin_url:
        assert admin_url == "postgresql://someone@db.example:6543/admin"


def test_database_url() -> None:
    base = "postgresql://u:p@127.0.0.1:5555/postgres?sslmode=disable"
    assert database_url(base, "x") == "postgresql://u:p@127.0.0.1:5555/x?sslmode=disable"
