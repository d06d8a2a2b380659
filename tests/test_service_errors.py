"""Services hand the UI the project's errors, never a driver's, and never customer data.

A connection that drops mid-call (here: a real `pg_terminate_backend`) reaches the
caller as `DatabaseError(kind="unreachable")`; a database error's text and the
crash dialog's diagnostics carry no SQL parameters; notes and wrap-ups carry a
client-made key, so a retry after a lost reply (the first commit went through)
never makes a second row, on both databases and from concurrent threads.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, event, func, insert, select, text
from sqlalchemy.exc import DBAPIError

from app.errors import UserError, is_connection_error
from app.services.calls import CallService
from app.services.contacts import ContactDetails, ContactService
from app.services.customers import CustomerService
from app.services.notes import NoteService
from models.database import Database, DatabaseError
from models.people import Customer, CustomerNote
from models.service import Commitment, Interaction
from tests.factories import add_ada, add_answered_call, agent_context

SECRET = "Zebulon-Secret-4417"


@pytest.fixture
def customer_id(engine: Engine) -> int:
    return _customer(engine)


def _customer(engine: Engine) -> int:
    return add_ada(engine)


def _interaction(engine: Engine, customer_id: int) -> int:
    return add_answered_call(engine, customer_id, "k-1")


def _count(engine: Engine, model: Any) -> int:
    with Database(engine).read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# -- no parameters in error texts --------------------------------------------------------


def test_engines_hide_sql_parameters(engine: Engine) -> None:
    with pytest.raises(DBAPIError) as caught, engine.connect() as conn:
        conn.execute(text("INSERT INTO customers (first_name) VALUES (:name)"), {"name": SECRET})
    assert SECRET not in str(caught.value).split("DETAIL")[0]
    assert "parameters hidden" in str(caught.value)


def test_a_database_error_reaches_the_agent_without_customer_data(
    engine: Engine, customer_id: int, qapp: Any
) -> None:
    from ui.crash_dialog import CrashDialog, CrashReporter

    db = Database(engine)
    # A NOT NULL violation: PostgreSQL's DETAIL line would quote the failing row.
    with pytest.raises(DatabaseError) as caught, db.write() as session:
        session.execute(insert(Customer).values(first_name=SECRET, last_name=SECRET))
    error = caught.value
    assert error.kind == "other" and SECRET not in str(error) and "\n" not in str(error)
    assert "INSERT" not in str(error)  # no SQL either: one line for a person

    reporter = CrashReporter(None, None)
    shown: list[tuple[str, str]] = []
    reporter.reported.connect(lambda summary, trace: shown.append((summary, trace)))
    reporter.report(error)
    # A raw driver error that escaped some other way is scrubbed too.
    try:
        with engine.connect() as conn:
            conn.execute(
                text("INSERT INTO customers (first_name, last_name) VALUES (:a, :b)"),
                {"a": SECRET, "b": SECRET},
            )
    except DBAPIError as raw:
        reporter.report(raw)
    assert len(shown) == 2
    dialog = CrashDialog(None, None)
    try:
        for summary, trace in shown:
            dialog.add(summary, trace)
        assert SECRET not in dialog.diagnostics()
        assert SECRET not in dialog.summary.text()
    finally:
        dialog.deleteLater()


# -- a connection lost mid-call ------------------------------------------------------------


@pytest.fixture
def terminate_on_statement(pg_engine: Engine, pg_admin_url: str) -> Iterator[Any]:
    """Arm it with the SQL text to wait for: that statement's backend is terminated first."""
    armed: dict[str, str | None] = {"match": None}

    def before_execute(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        match = armed["match"]
        if match is None or match not in statement:
            return
        armed["match"] = None
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            # The timeout makes it wait until the backend is really gone.
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))

    event.listen(pg_engine, "before_cursor_execute", before_execute)
    yield armed
    event.remove(pg_engine, "before_cursor_execute", before_execute)


def test_a_connection_lost_mid_read_is_a_database_error(
    pg_engine: Engine, terminate_on_statement: dict[str, str | None]
) -> None:
    customer_id = _customer(pg_engine)
    customers = CustomerService(Database(pg_engine), "US")
    terminate_on_statement["match"] = "FROM customer_notes"
    with pytest.raises(DatabaseError) as caught:
        customers.load_customer(customer_id)
    assert caught.value.kind == "unreachable" and is_connection_error(caught.value)
    assert "psycopg" not in str(caught.value) and "server" not in str(caught.value).lower()
    assert caught.value.__cause__ is None  # the driver's text stays out of the traceback
    # The pool dropped the dead connection: the next call works.
    assert customers.load_customer(customer_id).header.id == customer_id


def test_a_connection_lost_mid_write_is_a_database_error_and_the_retry_saves_once(
    pg_engine: Engine, terminate_on_statement: dict[str, str | None]
) -> None:
    customer_id = _customer(pg_engine)
    notes = NoteService(Database(pg_engine), agent=agent_context(pg_engine))
    key = str(uuid.uuid4())
    terminate_on_statement["match"] = "INSERT INTO audit_log"
    with pytest.raises(DatabaseError) as caught:
        notes.add_note(customer_id, "Prefers e-mail", client_key=key)
    assert caught.value.kind == "unreachable"
    assert _count(pg_engine, CustomerNote) == 0  # rolled back with the connection
    saved = notes.add_note(customer_id, "Prefers e-mail", client_key=key)
    again = notes.add_note(customer_id, "Prefers e-mail", client_key=key)
    assert again == saved and _count(pg_engine, CustomerNote) == 1


def test_a_pooled_connection_killed_while_idle_is_replaced_quietly(
    pg_engine: Engine, pg_admin_url: str
) -> None:
    customer_id = _customer(pg_engine)
    customers = CustomerService(Database(pg_engine), "US")
    with pg_engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone() == (True,)
    # pool_pre_ping finds the dead connection before the service uses it.
    assert customers.load_customer(customer_id).header.id == customer_id


def test_a_server_that_is_gone_is_a_database_error() -> None:
    import socket

    from models.database import make_engine

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gone = make_engine(f"postgresql://nobody@127.0.0.1:{port}/rapport")
    try:
        with pytest.raises(DatabaseError) as caught:
            CustomerService(Database(gone), "US").find_by_email("ada@example.com")
    finally:
        gone.dispose()
    assert caught.value.kind == "unreachable" and "psycopg" not in str(caught.value)


def test_a_contact_save_that_loses_its_connection_is_a_database_error(
    pg_engine: Engine, terminate_on_statement: dict[str, str | None]
) -> None:
    customer_id = _customer(pg_engine)
    contacts = ContactService(Database(pg_engine), "US", agent=agent_context(pg_engine))
    loaded = contacts.load(customer_id)
    terminate_on_statement["match"] = "UPDATE customers"
    details = ContactDetails(first_name="Ada", last_name="King", preferred_language="en")
    with pytest.raises(DatabaseError) as caught:
        contacts.save(customer_id, loaded.version, details)
    assert caught.value.kind == "unreachable"
    assert contacts.save(customer_id, loaded.version, details).details.last_name == "King"


# -- idempotency keys ------------------------------------------------------------------


def test_a_note_retried_after_a_lost_reply_is_saved_once(engine: Engine, customer_id: int) -> None:
    notes = NoteService(Database(engine), agent=agent_context(engine))
    key = str(uuid.uuid4())
    first = notes.add_note(customer_id, "Wants a call on Friday", client_key=key)
    # The reply of the first call was lost: the UI retries with the same key.
    retried = notes.add_note(customer_id, "Wants a call on Friday", client_key=key)
    assert retried == first and _count(engine, CustomerNote) == 1
    # The same key with other text is refused, not saved as a second note.
    with pytest.raises(UserError, match="already saved with different text"):
        notes.add_note(customer_id, "Wants a call on Monday", client_key=key)
    # Without a key, or with a new one, a note is a new note.
    notes.add_note(customer_id, "Wants a call on Friday")
    notes.add_note(customer_id, "Wants a call on Friday", client_key=str(uuid.uuid4()))
    assert _count(engine, CustomerNote) == 3


def _race(workers: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(workers)
    results: list[Any] = [None] * workers

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work()
        except Exception as exc:  # collected and asserted on below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_concurrent_retries_of_one_note_leave_one_row(engine: Engine, customer_id: int) -> None:
    notes = NoteService(Database(engine), agent=agent_context(engine))
    key = str(uuid.uuid4())
    results = _race(6, lambda: notes.add_note(customer_id, "Same note", client_key=key))
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({r.id for r in results}) == 1
    assert _count(engine, CustomerNote) == 1


def test_a_wrap_up_retried_makes_one_follow_up(engine: Engine, customer_id: int) -> None:
    interaction_id = _interaction(engine, customer_id)
    db = Database(engine)
    calls = CallService(db, CustomerService(db, "US"), "US", agent=agent_context(engine))
    key = str(uuid.uuid4())
    results = _race(
        4,
        lambda: calls.wrap_up(interaction_id, "resolved", "Sorted", "Call back", client_key=key),
    )
    assert all(not isinstance(r, Exception) for r in results), results
    calls.wrap_up(interaction_id, "resolved", "Sorted", "Call back", client_key=key)
    assert _count(engine, Commitment) == 1
    with pytest.raises(UserError, match="already saved with a different"):
        calls.wrap_up(interaction_id, "complaint", "Not sorted", "Call back", client_key=key)
    # A new wrap-up of the same call (a new key) is a correction and is saved.
    calls.wrap_up(interaction_id, "complaint", "Not sorted after all", None, client_key="k2")
    with db.read() as session:
        call = session.get(Interaction, interaction_id)
        assert call is not None and call.wrap_up_code == "complaint"
    assert _count(engine, Commitment) == 1


def test_the_log_file_keeps_no_row_values(engine: Engine, tmp_path: Any) -> None:
    import logging

    from app.logs import RedactingFormatter

    handler = logging.FileHandler(tmp_path / "rapport.log", encoding="utf-8")
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("rapport.test.redaction")
    logger.addHandler(handler)
    try:
        with engine.connect() as conn:
            conn.execute(
                text("INSERT INTO customers (first_name, last_name) VALUES (:a, :b)"),
                {"a": SECRET, "b": SECRET},
            )
    except DBAPIError:
        logger.exception("an insert failed")
    finally:
        logger.removeHandler(handler)
        handler.close()
    written = (tmp_path / "rapport.log").read_text(encoding="utf-8")
    assert "an insert failed" in written and "IntegrityError" in written
    assert SECRET not in written
