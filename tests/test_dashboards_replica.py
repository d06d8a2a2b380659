"""The dashboards read from a real streaming replica (`analytics_db_url`): a primary
and a `pg_basebackup -R` hot standby on loopback (tests/pg_replica.py). The figures
read through the replica equal the primary's, and the replica refuses writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, insert, make_url
from sqlalchemy.exc import DBAPIError

from app.bootstrap import build_services
from app.config import Settings
from app.errors import UserError
from app.services.dashboard_sql import Slice
from app.services.dashboards import DashboardService
from models.database import Database, DatabaseError, make_engine
from models.migrate import upgrade
from models.people import Department
from tests import pg_cluster
from tests.factories import dashboard_dataset
from tests.pg_replica import primary_and_standby, wait_caught_up

Q4 = Slice(dt.datetime(2026, 10, 1, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=dt.UTC))


@pytest.fixture(scope="module")
def replicated() -> Iterator[tuple[str, str]]:
    """(primary database URL, standby admin URL) with the dashboards' world on both."""
    try:
        with primary_and_standby() as (primary_admin, standby_admin):
            url = pg_cluster.create_database(primary_admin, "rapport_replicated")
            engine = make_engine(url)
            upgrade(engine)
            dashboard_dataset(engine)
            engine.dispose()
            wait_caught_up(primary_admin, standby_admin)
            yield url, standby_admin
    except pg_cluster.PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


def settings(primary: str, analytics: str | None) -> Settings:
    values = {"db_url": primary, "default_region": "US", "demo_customers": 0}
    if analytics is not None:
        values["analytics_db_url"] = analytics
    return Settings(values=values)


def test_dashboards_read_the_replica_and_match_the_primary(
    replicated: tuple[str, str],
) -> None:
    primary_url, standby_admin = replicated
    standby = make_url(standby_admin)
    # Host and port only: the login and the database are db_url's.
    analytics = f"postgresql://{standby.host}:{standby.port}"
    main = make_engine(primary_url)
    services = build_services(settings(primary_url, analytics), main)
    try:
        assert services.analytics_engine is not None
        assert services.analytics_engine.url.port == standby.port
        assert services.analytics_engine.url.database == "rapport_replicated"
        on_primary = DashboardService(Database(main))
        for key in ("concessions", "suggestions", "cases", "contact"):
            assert services.dashboards.open(key, Q4) == on_primary.open(key, Q4), key
        assert len(services.dashboards.drill("cases.opened", Q4).rows) == 3
        with services.analytics_engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT pg_is_in_recovery()").scalar() is True
        refuse_writes(services.analytics_engine)
    finally:
        services.close()


def refuse_writes(replica: Engine) -> None:
    with pytest.raises(DatabaseError), Database(replica).write() as session:
        session.execute(insert(Department).values(code="x", name="Written on a replica"))
    # SQLSTATE 25006, read_only_sql_transaction: the standby itself refuses.
    with replica.connect() as conn, pytest.raises(DBAPIError) as raw:
        conn.exec_driver_sql("INSERT INTO departments (code, name) VALUES ('y', 'raw')")
    assert raw.value.orig is not None
    assert raw.value.orig.sqlstate == "25006"  # type: ignore[attr-defined]


def test_without_analytics_db_url_the_dashboards_read_the_main_database(
    replicated: tuple[str, str],
) -> None:
    primary_url, _ = replicated
    services = build_services(settings(primary_url, None), make_engine(primary_url))
    try:
        assert services.analytics_engine is None
        assert services.dashboards.open("cases", Q4).figures[0].current == 3
    finally:
        services.close()


def test_an_analytics_url_that_is_not_postgresql_is_refused(
    replicated: tuple[str, str],
) -> None:
    primary_url, _ = replicated
    with pytest.raises(UserError, match="analytics_db_url must be a postgresql"):
        build_services(settings(primary_url, "sqlite:///x.db"), make_engine(primary_url))
