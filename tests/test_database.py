"""Both databases: migrations, constraints, locking, append-only audit, bad URLs."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models.authority import AuditEntry
from models.database import (
    SCHEMA_HEAD,
    DatabaseError,
    check_connection,
    make_engine,
    normalize_url,
    stored_revision,
)
from models.enums import Tier
from models.migrate import current_revision, ensure_schema, head_revision
from models.people import Customer


def _customer(**overrides: object) -> Customer:
    values: dict[str, object] = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "search_name": "ada lovelace",
        "customer_since": dt.date(2001, 5, 1),
    }
    values.update(overrides)
    return Customer(**values)


def test_schema_is_at_head_with_every_table(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    for table in (
        "customers",
        "customer_phones",
        "customer_emails",
        "customer_addresses",
        "contact_preferences",
        "customer_relations",
        "key_dates",
        "households",
        "products",
        "stores",
        "store_stock",
        "orders",
        "order_lines",
        "shipments",
        "contracts",
        "bundles",
        "cases",
        "case_events",
        "tasks",
        "commitments",
        "interactions",
        "feedback",
        "concessions",
        "override_requests",
        "override_decisions",
        "authority_limits",
        "policies",
        "users",
        "departments",
        "audit_log",
        "customer_notes",
        "offer_events",
        "import_runs",
        "import_mappings",
        "source_records",
        "duplicate_candidates",
        "customer_merges",
        "customer_values",
        "campaigns",
        "campaign_members",
    ):
        assert table in tables, table


def test_lookup_columns_are_indexed(engine: Engine) -> None:
    inspector = inspect(engine)

    def indexed(table: str, column: str) -> bool:
        unique = [u["column_names"] for u in inspector.get_unique_constraints(table)]
        indexes = [i["column_names"] for i in inspector.get_indexes(table)]
        return any(cols and cols[0] == column for cols in unique + indexes)

    assert indexed("customer_phones", "e164")
    assert indexed("customer_phones", "digits_tail")
    assert indexed("customer_emails", "address_normalized")
    assert indexed("orders", "number")
    assert indexed("cases", "reference")


def test_name_search_index_exists(engine: Engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            found = conn.scalar(
                text(
                    "SELECT count(*) FROM pg_indexes WHERE indexname = "
                    "'ix_customers_search_name_trgm'"
                )
            )
        else:
            found = conn.scalar(
                text("SELECT count(*) FROM sqlite_master WHERE name = 'customer_name_fts'")
            )
    assert found == 1


def test_timestamps_come_back_aware_utc(engine: Engine) -> None:
    with Session(engine) as session:
        customer = _customer()
        session.add(customer)
        session.commit()
        session.expire_all()
        created = session.get(Customer, customer.id).created_at  # type: ignore[union-attr]
    assert created.tzinfo is not None
    assert abs(created - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(_customer(created_at=dt.datetime(2020, 1, 1)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()


def test_check_constraints_hold(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(IntegrityError):
        conn.execute(
            text(
                "INSERT INTO customers (first_name, last_name, search_name, preferred_language,"
                " tier, customer_since, do_not_call, do_not_email, do_not_sms, do_not_mail,"
                " status, created_at, updated_at, version) VALUES ('a','b','a b','en',"
                " 'diamond', '2020-01-01', false, false, false, false, 'active',"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
            )
        )


def test_concurrent_edit_is_detected_not_overwritten(engine: Engine) -> None:
    with Session(engine) as session:
        customer = _customer()
        session.add(customer)
        session.commit()
        customer_id = customer.id
    # Loaded by two agents; each read ends its transaction, as the app's do.
    first = Session(engine, expire_on_commit=False)
    second = Session(engine, expire_on_commit=False)
    try:
        mine = first.get(Customer, customer_id)
        first.commit()
        theirs = second.get(Customer, customer_id)
        assert mine is not None and theirs is not None
        theirs.tier = Tier.GOLD
        second.commit()
        mine.tier = Tier.SILVER
        with pytest.raises(StaleDataError):
            first.commit()
    finally:
        first.close()
        second.close()
    with Session(engine) as session:
        saved = session.get(Customer, customer_id)
        assert saved is not None
        assert saved.tier == Tier.GOLD and saved.version == 2


def test_audit_log_is_append_only(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(AuditEntry(actor="agent01", action="test", entity="customer", entity_id=1))
        session.commit()
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT actor FROM audit_log")) == "agent01"


def test_urls_as_people_type_them() -> None:
    assert normalize_url("postgresql://ann@db.example:5432/rapport").drivername == (
        "postgresql+psycopg"
    )
    assert normalize_url("postgres://ann@db/rapport").drivername == "postgresql+psycopg"
    sqlite = normalize_url("sqlite:///~/rapport.db")
    assert sqlite.drivername == "sqlite+pysqlite"
    assert "~" not in (sqlite.database or "")
    with pytest.raises(DatabaseError, match="not a database URL"):
        normalize_url("db.example:5432")
    with pytest.raises(DatabaseError, match="unsupported database"):
        normalize_url("mysql://root@localhost/x")


def test_unreachable_server_gives_one_line() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/rapport")
    with pytest.raises(DatabaseError) as caught:
        check_connection(engine)
    message = str(caught.value)
    assert message.startswith("the server is unreachable: postgresql+psycopg://nobody@127.0.0.1:1/")
    assert "\n" not in message


def test_wrong_database_name_is_explained(pg_admin_url: str) -> None:
    base = normalize_url(pg_admin_url)
    engine = make_engine(base.set(database="no_such_rapport_db"))
    with pytest.raises(DatabaseError, match="the database does not exist"):
        check_connection(engine)
    engine.dispose()


def test_shared_database_with_old_schema_is_refused(pg_engine: Engine) -> None:
    with pg_engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    with pytest.raises(DatabaseError, match="newer than this Rapport"):
        ensure_schema(pg_engine, migrate=False)


def test_empty_shared_database_is_refused_with_the_fix(pg_admin_url: str) -> None:
    from tests import pg_cluster

    url = pg_cluster.create_database(pg_admin_url, "rapport_t_empty")
    engine = make_engine(url)
    try:
        with pytest.raises(DatabaseError, match="rapportctl db upgrade"):
            ensure_schema(engine, migrate=False)
    finally:
        engine.dispose()
        pg_cluster.drop_database(pg_admin_url, "rapport_t_empty")


def test_embedded_database_migrates_itself(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/fresh.db")
    assert current_revision(engine) is None
    assert stored_revision(engine) is None
    ensure_schema(engine, migrate=True)
    assert current_revision(engine) == head_revision()
    assert stored_revision(engine) == SCHEMA_HEAD
    engine.dispose()


def test_schema_head_constant_is_the_newest_migration() -> None:
    # The app skips Alembic when the database is at SCHEMA_HEAD: a new revision in
    # models/migrations/versions/ must move SCHEMA_HEAD with it.
    assert head_revision() == SCHEMA_HEAD


@pytest.mark.parametrize(
    "revision",
    [
        "base",
        "0001",
        "0002",
        "0003",
        "0004",
        "0005",
        "0006",
        "0007",
        "0008",
        "0009",
        "0013",
        "0014",
        "0015",
    ],
)
def test_every_migration_downgrades_and_upgrades_keeping_what_the_code_needs(
    engine: Engine, revision: str
) -> None:
    from alembic import command

    from app.services.customers import CustomerService
    from app.services.search import SearchService
    from models.database import Database
    from models.migrate import alembic_config

    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
        command.upgrade(config, "head")
    assert current_revision(engine) == head_revision()
    inspector = inspect(engine)
    interaction_indexes = {i["name"]: i for i in inspector.get_indexes("interactions")}
    assert {"uq_interactions_call", "ix_interactions_workstation_started"} <= set(
        interaction_indexes
    )
    assert "workstation" in {c["name"] for c in inspector.get_columns("interactions")}
    # The idempotency keys of notes and wrap-ups, unique.
    assert interaction_indexes["uq_interactions_wrap_up_key"]["unique"]
    note_indexes = {i["name"]: i for i in inspector.get_indexes("customer_notes")}
    assert note_indexes["uq_customer_notes_client_key"]["unique"]
    extension = {c["name"]: c for c in inspector.get_columns("interactions")}["phone_extension"]
    assert extension["nullable"]
    assert "ix_orders_customer_totals" in {i["name"] for i in inspector.get_indexes("orders")}
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            triggers = set(
                conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            )
        assert {
            "customers_fts_insert",
            "customers_fts_update",
            "customers_fts_delete",
            "customers_name_words_insert",
            "customers_name_words_update",
        } <= triggers
    else:
        with engine.connect() as conn:
            assert conn.scalar(
                text("SELECT count(*) FROM pg_trigger WHERE tgname = 'customers_name_words'")
            )
            assert conn.scalar(
                text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_customers_name_words'")
            )
    # A customer inserted after the migrations is found by name.
    with Session(engine) as session, session.begin():
        session.add(_customer(first_name="Wilhelmina", search_name="wilhelmina lovelace"))
    db = Database(engine)
    hits = SearchService(db, CustomerService(db, "US")).search("Wilhelmina Lovelace")
    assert [h.name for h in hits][:1] == ["Wilhelmina Lovelace"]
    # ...and by a typo, through the table of name words its trigger filled.
    assert "customer_name_words" in set(inspector.get_table_names())
    with engine.connect() as conn:
        words = set(conn.scalars(text("SELECT word FROM customer_name_words")))
    assert {"wilhelmina", "lovelace"} <= words
    hits = SearchService(db, CustomerService(db, "US")).search("Wilhemina Lovelcae")
    assert [h.name for h in hits][:1] == ["Wilhelmina Lovelace"]
