"""The search box's service on both databases: hostile input, and names that are not matches."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import re
import shutil
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import OperationalError

from app.changes import Change, Changes, Entity
from app.errors import is_connection_error
from app.operations import customers as customer_ops
from app.services.customers import CustomerService
from app.services.search import SearchService
from models.catalog import Product
from models.database import Database
from models.seed import seed_database
from models.seed.story_customers import STORY_CUSTOMERS

NOW = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)


def _search(engine: Engine) -> SearchService:
    db = Database(engine)
    return SearchService(db, CustomerService(db, "US"))


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed_database(engine, 40, seed=5, now=NOW)
    return engine


def _sent_parameters(engine: Engine, work: Any) -> list[Any]:
    """Every bound parameter value the driver was given while `work()` ran."""
    sent: list[Any] = []

    def record(_c: Any, _cur: Any, _sql: str, parameters: Any, *_: Any) -> None:
        values = parameters.values() if isinstance(parameters, dict) else parameters
        sent.extend(values)

    event.listen(engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sent


@pytest.mark.parametrize(
    "query",
    [
        "Kowal\x00ski",  # NUL: PostgreSQL refuses it, FTS5 reads it as the end of a string
        "\ud800Kowalski",  # a lone surrogate cannot be encoded for either driver
        "Kowalski\udfff",
        "\u202eKowalski",  # RIGHT-TO-LEFT OVERRIDE
        "Kowal\u200bski",  # zero width space
        "\ufeffKowalski\x1b",
    ],
)
def test_what_cannot_be_searched_is_removed_before_the_database_sees_it(
    seeded: Engine, query: str
) -> None:
    hits = _search(seeded).search(query)
    assert [h.name for h in hits][:1] == ["Sandra Kowalski"]


@pytest.mark.parametrize(
    "query", ['"unbalanced', 'name:"', "NEAR(a b)", "a* OR b", 'Kowalski"', "R1234567\x00"]
)
def test_full_text_syntax_in_a_query_is_searched_as_text(seeded: Engine, query: str) -> None:
    hits = _search(seeded).search(query)
    assert isinstance(hits, list)
    if query == 'Kowalski"':
        assert [h.name for h in hits][:1] == ["Sandra Kowalski"]


def test_a_10_mb_query_is_cut_to_the_cap_before_the_database_sees_it(seeded: Engine) -> None:
    from app.services.search import MAX_QUERY_CHARS

    search = _search(seeded)
    huge = "Kowalski " + "x" * 10_000_000
    sent = _sent_parameters(seeded, lambda: search.search(huge))
    assert sent, "the query reached the database"
    # What was typed reaches the database cut to the cap (quoted or with a "%" added).
    longest = max(len(run) for p in sent if isinstance(p, str) for run in re.findall("x+", p))
    assert longest <= MAX_QUERY_CHARS - len("Kowalski ")


def test_clean_query() -> None:
    from app.services.search import MAX_QUERY_CHARS, clean_query

    assert clean_query("  Jon\x00 \u202eSmtih\ud800 ") == "Jon Smtih"
    assert clean_query("a\tb\nc") == "a b c"
    assert clean_query("x" * 5000) == "x" * MAX_QUERY_CHARS
    assert clean_query("\x00\ud800\u2066") == ""
    assert clean_query("Zoë Ærøskøbing") == "Zoë Ærøskøbing"


def test_a_full_text_syntax_error_is_not_a_lost_connection(sqlite_engine: Engine) -> None:
    with pytest.raises(OperationalError) as caught, sqlite_engine.connect() as conn:
        conn.execute(
            text("SELECT rowid FROM customer_name_fts WHERE customer_name_fts MATCH :q"),
            {"q": '"unbalanced'},
        )
    assert not is_connection_error(caught.value)


def test_a_missing_database_file_is_still_a_lost_connection(tmp_path: Any) -> None:
    from models.database import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/gone/missing/x.db")
    shutil.rmtree(tmp_path / "gone")  # make_engine created the folder; take it away again
    with pytest.raises(OperationalError) as caught, engine.connect():
        pass
    assert is_connection_error(caught.value)


# -- names that are not matches --------------------------------------------------


@pytest.mark.parametrize("query", ["Oud Wood", "watch", "Espresso Machine", "gift card"])
def test_a_product_name_lists_no_people(seeded: Engine, query: str) -> None:
    assert _search(seeded).search(query) == []


def test_no_product_of_the_catalog_lists_people(seeded: Engine) -> None:
    with seeded.connect() as conn:
        names = list(conn.scalars(select(Product.name)))
    search = _search(seeded)
    listed = {name: [h.name for h in search.search(name)] for name in names}
    assert {name: people for name, people in listed.items() if people} == {}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Kowalsky", "Sandra Kowalski"),
        ("sandra kowalsky", "Sandra Kowalski"),
        ("Kowalski Sandra", "Sandra Kowalski"),
        ("Whitfeld", "Eleanor Whitfield"),
        ("Hargreves", "Dorothy Hargreaves"),
        ("Prya Raman", "Priya Raman"),
        ("dor", "Dorothy Hargreaves"),
    ],
)
def test_a_typo_or_a_prefix_still_finds_the_customer(
    seeded: Engine, query: str, expected: str
) -> None:
    names = [h.name for h in _search(seeded).search(query)]
    assert expected in names


def test_every_listed_name_is_a_match_worth_showing(seeded: Engine) -> None:
    s2 = STORY_CUSTOMERS["S2"]
    hits = _search(seeded).search("Kowalsky")
    assert [h.name for h in hits] == [f"{s2.first_name} {s2.last_name}"]
    assert hits[0].score >= 0.8


def test_the_search_box_takes_no_more_than_the_service_searches(qapp: Any) -> None:
    from app.services.search import MAX_QUERY_CHARS
    from ui.bridge import DatabaseBridge
    from ui.features.search.panel import SearchPanel

    bridge = DatabaseBridge()
    try:
        panel = SearchPanel(bridge)
        assert panel.box.maxLength() == MAX_QUERY_CHARS
        assert f"up to {MAX_QUERY_CHARS} characters" in panel.box.toolTip()
    finally:
        bridge.shutdown()


def _add_customers(engine: Engine, *names: tuple[str, str]) -> list[int]:
    from sqlalchemy.orm import Session

    from app.services.search import fold
    from models.people import Customer

    with Session(engine) as session, session.begin():
        added = [
            Customer(
                first_name=first,
                last_name=last,
                search_name=fold(f"{first} {last}"),
                customer_since=dt.date(2020, 1, 1),
            )
            for first, last in names
        ]
        session.add_all(added)
        session.flush()
        return [c.id for c in added]


def test_a_typo_in_a_common_surname_finds_the_customer(seeded: Engine) -> None:
    # More Smiths than the search fetches, so the typed first name must narrow it.
    firsts = [f"Person{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(260)]
    _add_customers(seeded, *((first, "Smith") for first in firsts), ("Zelda", "Smith"))
    search = _search(seeded)
    assert [h.name for h in search.search("Zelda Smiht")][:1] == ["Zelda Smith"]
    assert [h.name for h in search.search("Zleda Smith")][:1] == ["Zelda Smith"]
    assert all(h.name.endswith("Smith") for h in search.search("Smiht"))
    assert len(search.search("Smiht")) == 20


def test_a_customer_added_or_renamed_after_seeding_is_found_by_a_typo(seeded: Engine) -> None:
    from sqlalchemy.orm import Session

    from models.people import Customer

    search = _search(seeded)  # already searched once: its word list is read
    assert search.search("Quintavalle") == []
    [cid] = _add_customers(seeded, ("Ottoline", "Quintavalle"))
    assert [h.name for h in search.search("Ottoline Quintavale")] == ["Ottoline Quintavalle"]
    with Session(seeded) as session, session.begin():
        customer = session.get(Customer, cid)
        assert customer is not None
        customer.last_name, customer.search_name = "Brackenbury", "ottoline brackenbury"
    assert [h.name for h in search.search("Brakenbury")] == ["Ottoline Brackenbury"]
    assert [h.name for h in _search(seeded).search("Ottolnie")] == ["Ottoline Brackenbury"]


def test_the_results_follow_a_listed_customer_and_ignore_the_rest(
    window: Any, aloop: Any, qtbot: Any
) -> None:
    """A customer in the list renamed elsewhere is shown renamed, still selected; a
    change to someone not listed costs no query."""
    from tests.conftest import without_change_feed
    from ui.features.search.panel import SearchPanel

    without_change_feed(window, aloop)  # the changes come from this test alone
    services = window.services
    panel = SearchPanel(window.bridge)
    panel.set_service(services.search)
    window.bridge.changed.connect(panel.apply_changes)  # as the shell wires the search
    statements: list[int] = []

    def seen(*_args: Any) -> None:
        statements.append(1)

    try:
        qtbot.keyClicks(panel.box, "Whitfield")
        aloop.until(lambda: panel.model.rowCount() > 0)
        names = [h.name for h in panel.model.rows]
        eleanor = panel.model.rows[names.index("Eleanor Whitfield")]
        panel.results.selectRow(names.index("Eleanor Whitfield"))
        loaded = aloop.run(asyncio.to_thread(services.contacts.load, eleanor.customer_id))
        details = dataclasses.replace(loaded.details, first_name="Elinor")
        done = aloop.run(
            asyncio.to_thread(
                customer_ops.save_contact, services, eleanor.customer_id, loaded.version, details
            )
        )
        window.bridge.publish(done.changes)
        aloop.until(lambda: "Elinor Whitfield" in [h.name for h in panel.model.rows])
        current = panel.model.row_at(panel.results.currentIndex().row())
        assert current is not None and current.customer_id == eleanor.customer_id

        aloop.until(lambda: not window.bridge.running)
        event.listen(services.engine, "before_cursor_execute", seen)
        try:
            stranger = max(h.customer_id for h in panel.model.rows) + 1000
            window.bridge.publish(Changes.of(Change(Entity.CUSTOMER, stranger, stranger)))
            aloop.run(asyncio.sleep(0.2))
        finally:
            event.remove(services.engine, "before_cursor_execute", seen)
        assert statements == []
    finally:
        window.bridge.changed.disconnect(panel.apply_changes)
        aloop.until(lambda: not window.bridge.running)
        panel.deleteLater()
