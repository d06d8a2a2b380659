"""The customer header's figures and lists, on both databases (issue 9, item 6).

Phone types come from the number (or the agent's choice) and every phone reads in
one format; lifetime value never adds two currencies under one label; merged
customers are not listed as people of a household.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select, update

from app import phones
from app.clock import fixed_clock
from app.services.contacts import ContactDetails, ContactService, PhoneEdit
from app.services.customers import CustomerService
from models.commerce import Order
from models.database import Database
from models.enums import Channel, CustomerStatus, OrderStatus
from models.people import Customer, CustomerPhone
from models.seed import seed_database
from models.seed.story_customers import STORY_CUSTOMERS
from tests.factories import agent_context

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
CLOCK = fixed_clock(NOW)


def _story_id(engine: Engine, key: str) -> int:
    story = STORY_CUSTOMERS[key]
    with Database(engine).read() as session:
        found = session.scalar(
            select(Customer.id).where(
                Customer.first_name == story.first_name, Customer.last_name == story.last_name
            )
        )
        assert found is not None
        return found


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("+442079460018", "home"),  # London 020: a landline
        ("+61293744000", "home"),  # Sydney (02): a landline
        ("+447911123456", "mobile"),  # UK 07
        ("+61412345678", "mobile"),  # AU 04
    ],
)
def test_the_type_of_a_number_comes_from_the_number(number: str, kind: str) -> None:
    assert phones.kind_for(number) == kind
    assert phones.kind_for(number, chosen="work") == "work"  # the agent's choice wins


def test_ambiguous_numbers_keep_the_hint() -> None:
    # North American numbers do not say whether they are mobile.
    assert phones.kind_for("+14155550134", hint="mobile") == "mobile"
    assert phones.kind_for("+14155550134") == "other"
    # A hint that the number contradicts is not kept: 020 is no mobile.
    assert phones.kind_for("+442079460018", hint="mobile") == "home"
    assert phones.kind_for("+442079460018", hint="work") == "work"


def test_one_display_format_from_e164() -> None:
    # The default region's numbers read the national way; others with their country code.
    assert phones.display("+14155550134", "US") == "(415) 555-0134"
    assert phones.display("415.555.0134", "US") == "(415) 555-0134"
    assert phones.display("+442079460018", "US") == "+44 20 7946 0018"
    assert phones.display("+442079460018", "GB") == "020 7946 0018"
    assert phones.display("0415 555 0134", "US") == "0415 555 0134"  # not a number: as given
    assert phones.display("", "US") == ""


def test_story_landlines_are_not_labelled_mobile(engine: Engine) -> None:
    seed_database(engine, 5, now=NOW - dt.timedelta(minutes=1))
    customers = CustomerService(Database(engine), "US", CLOCK)
    priya = customers.load_customer(_story_id(engine, "S4")).header
    dorothy = customers.load_customer(_story_id(engine, "S7")).header
    assert [(p.kind, p.display) for p in priya.phones] == [("home", "+44 20 7946 0018")]
    assert [(p.kind, p.display) for p in dorothy.phones] == [("home", "+61 2 9374 4000")]
    eleanor = customers.load_customer(_story_id(engine, "S1")).header
    assert eleanor.phones[0].display == "(415) 555-0134"
    with Database(engine).read() as session:
        kinds = session.execute(select(CustomerPhone.e164, CustomerPhone.kind)).all()
    for e164, kind in kinds:  # no seeded landline anywhere is called a mobile
        assert not (kind.value == "mobile" and phones.line_type(e164) == "landline"), e164


def test_a_phone_saved_without_a_choice_takes_the_number_type(engine: Engine) -> None:
    contacts = ContactService(Database(engine), "US", CLOCK, agent=agent_context(engine))
    saved = contacts.create(
        ContactDetails(
            "Iris",
            "Holm",
            "en",
            phones=(
                PhoneEdit("+44 20 7946 0555", is_primary=True),
                PhoneEdit("+44 7911 123456", "work"),
            ),
        )
    )
    assert [(p.raw, p.kind) for p in saved.details.phones] == [
        ("+44 20 7946 0555", "home"),
        ("+44 7911 123456", "work"),
    ]


def test_search_results_show_the_number_in_the_display_format(engine: Engine) -> None:
    seed_database(engine, 5, now=NOW - dt.timedelta(minutes=1))
    customers = CustomerService(Database(engine), "US", CLOCK)
    (hit,) = customers.find_by_phone("+44 20 7946 0018")
    assert hit.matched_text == "+44 20 7946 0018"
    (sandra,) = customers.find_by_phone("617.555.0142")
    assert sandra.matched_text == "(617) 555-0142"


def _customer(session: object, first: str, household_id: int | None = None) -> Customer:
    customer = Customer(
        first_name=first,
        last_name="Okafor",
        search_name=f"{first.lower()} okafor",
        customer_since=dt.date(2020, 1, 1),
        household_id=household_id,
    )
    session.add(customer)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    return customer


def _order(customer_id: int, number: str, cents: int, currency: str) -> Order:
    return Order(
        number=number,
        customer_id=customer_id,
        channel=Channel.WEB,
        placed_at=NOW - dt.timedelta(days=10),
        status=OrderStatus.DELIVERED,
        currency=currency,
        subtotal_cents=cents,
        total_cents=cents,
    )


def test_lifetime_value_per_currency(engine: Engine) -> None:
    with Database(engine).write() as session:
        customer_id = _customer(session, "Ngozi").id
        session.add_all(
            [
                _order(customer_id, "T-1", 1_000_000, "USD"),
                _order(customer_id, "T-2", 234_000, "USD"),
                _order(customer_id, "T-3", 120_000, "GBP"),
            ]
        )
    header = CustomerService(Database(engine), "US", CLOCK).load_customer(customer_id).header
    assert [(t.currency, t.total_cents, t.order_count) for t in header.values_by_currency] == [
        ("USD", 1_234_000, 2),
        ("GBP", 120_000, 1),
    ]
    assert [t.average_cents for t in header.values_by_currency] == [617_000, 120_000]
    assert header.order_count == 3


def test_household_leaves_out_merged_customers(engine: Engine) -> None:
    from models.people import Household

    with Database(engine).write() as session:
        household = Household(name="Okafor household")
        session.add(household)
        session.flush()
        ada = _customer(session, "Ada", household.id)
        chidi = _customer(session, "Chidi", household.id)
        duplicate = _customer(session, "Chidi", household.id)  # the same man, entered twice
        session.flush()
        session.execute(
            update(Customer)
            .where(Customer.id == duplicate.id)
            .values(status=CustomerStatus.MERGED, merged_into_id=chidi.id)
        )
        ada_id, chidi_id = ada.id, chidi.id
    relations = CustomerService(Database(engine), "US", CLOCK).load_customer(ada_id).relations
    assert [(r.relation, r.name, r.customer_id) for r in relations] == [
        ("household", "Chidi Okafor", chidi_id)
    ]
