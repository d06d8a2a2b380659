"""What an agent types is checked once, in app/validation.py, the same on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from app import validation
from app.errors import UserError
from app.services.calls import CallService
from app.services.contacts import ContactDetails, ContactService, PhoneEdit
from app.services.customers import CustomerService
from app.services.notes import NoteService
from models import limits
from models.database import Database
from models.people import Customer, CustomerNote
from models.service import Commitment, Interaction
from tests.factories import add_ada, add_answered_call, agent_context

RLO = "\u202e"


@pytest.fixture
def customer_id(engine: Engine) -> int:
    return add_ada(engine)


@pytest.fixture
def interaction_id(engine: Engine, customer_id: int) -> int:
    return add_answered_call(engine, customer_id, "v-1")


def _details(first: str = "Ada", last: str = "Lovelace", **more: object) -> ContactDetails:
    return ContactDetails(first_name=first, last_name=last, preferred_language="en", **more)  # type: ignore[arg-type]


def _customers(engine: Engine) -> int:
    with Database(engine).read() as session:
        return int(session.scalar(select(func.count()).select_from(Customer)) or 0)


# -- the rules, without a database ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Ada\x00", "NUL"),
        ("Ada\ud800", "surrogate"),
        ("Ada\x1b[31m", "control character U+001B"),
        (f"Ada{RLO}ecalovol", "direction"),
        ("Ada\u2066x", "direction"),
        ("Ada\u200b", "invisible character U+200B"),
        ("Ada\nLovelace", "one line"),
        ("x" * 81, "too long (81 characters, at most 80)"),
    ],
)
def test_a_name_is_refused_with_one_line_naming_the_field(value: str, problem: str) -> None:
    with pytest.raises(validation.InvalidInput) as caught:
        validation.check_text(value, "first name", limits.NAME_LENGTH)
    message = str(caught.value)
    assert message.startswith("first name: ") and problem in message
    assert "\n" not in message and isinstance(caught.value, UserError)
    assert caught.value.problems[0].field == "first name"


def test_free_text_keeps_lines_and_tabs_but_not_controls() -> None:
    note = validation.check_text("line 1\r\n\tline 2  ", "note", 100, multiline=True)
    assert note == "line 1\n\tline 2"
    # Emoji with tag sequences and joiners are ordinary text in a note.
    flag = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
    assert validation.check_text(f"ok {flag} 👩‍👩‍👧", "note", 100, multiline=True)
    with pytest.raises(validation.InvalidInput, match="note: .*direction"):
        validation.check_text(f"pay {RLO}0001", "note", 100, multiline=True)
    with pytest.raises(validation.InvalidInput, match="note: .*NUL"):
        validation.check_text("a\x00b", "note", 100, multiline=True)


def test_names_in_other_scripts_pass() -> None:
    # The Persian word carries a ZERO WIDTH NON-JOINER, which its spelling needs.
    names = ("José", "Zoë", "Nguyễn", "محمد", "שרה", "田中", "Ольга", "O'Brien-Smith")
    names += ("می\u200cخواهم",)
    for name in names:
        assert validation.check_text(name, "first name", limits.NAME_LENGTH) == name


def test_note_limit_is_exported_for_the_editor() -> None:
    assert validation.NOTE_MAX_CHARS == limits.NOTE_LENGTH


def test_an_address_is_checked_field_by_field() -> None:
    checked = validation.check_address(
        line1=" 1 Main St ",
        line2="",
        city="Springfield",
        region="IL",
        postal_code="62701",
        country="us",
    )
    assert checked.line1 == "1 Main St" and checked.line2 is None and checked.country == "US"
    with pytest.raises(validation.InvalidInput) as caught:
        validation.check_address(
            line1="x" * 121, line2=None, city="", region=None, postal_code="1\x00", country="USA"
        )
    fields = [p.field for p in caught.value.problems]
    assert fields == ["address line 1", "city", "postal code", "country"]


# -- the services, on both databases ------------------------------------------------------


def test_a_5000_character_name_is_refused_with_a_message(engine: Engine, customer_id: int) -> None:
    contacts = ContactService(Database(engine), "US", agent=agent_context(engine))
    loaded = contacts.load(customer_id)
    with pytest.raises(validation.InvalidInput, match=r"^last name: is too long \(5000"):
        contacts.save(customer_id, loaded.version, _details(last="x" * 5000))
    with pytest.raises(validation.InvalidInput, match="first name: is too long"):
        contacts.create(_details(first="y" * 5000))
    assert contacts.load(customer_id) == loaded and _customers(engine) == 1


def test_a_direction_override_is_refused_in_customer_names(
    engine: Engine, customer_id: int
) -> None:
    contacts = ContactService(Database(engine), "US", agent=agent_context(engine))
    loaded = contacts.load(customer_id)
    with pytest.raises(validation.InvalidInput, match="last name: .*direction"):
        contacts.save(customer_id, loaded.version, _details(last=f"Love{RLO}ecal"))
    with pytest.raises(validation.InvalidInput, match="first name: .*NUL"):
        contacts.create(_details(first="Gr\x00ace"))
    with pytest.raises(validation.InvalidInput, match="first name: .*surrogate"):
        contacts.create(_details(first="Gr\udc00ace"))
    assert contacts.load(customer_id) == loaded and _customers(engine) == 1


def test_a_name_that_grows_when_folded_still_fits_search(engine: Engine) -> None:
    # U+FDFA is one character that NFKD (the search fold) turns into eighteen.
    contacts = ContactService(Database(engine), "US", agent=agent_context(engine))
    with pytest.raises(validation.InvalidInput, match="name: is too long"):
        contacts.create(_details(first="\ufdfa" * 60, last="\ufdfa" * 60))
    assert _customers(engine) == 0


def test_phones_emails_and_language_are_checked_before_the_database(
    engine: Engine, customer_id: int
) -> None:
    contacts = ContactService(Database(engine), "US", agent=agent_context(engine))
    loaded = contacts.load(customer_id)
    bad = ContactDetails(
        first_name="Ada",
        last_name="Lovelace",
        preferred_language="english!!",
        phones=(PhoneEdit("+1 415 555 0134" + " " * 30 + "x" * 20),),
        emails=("ada\x00@example.com", f"{'a' * 300}@example.com"),
    )
    with pytest.raises(UserError) as caught:
        contacts.save(customer_id, loaded.version, bad)
    fields = {line.split(":")[0] for line in str(caught.value).splitlines()}
    assert {"language", "phone", "e-mail"} <= fields
    assert contacts.load(customer_id) == loaded


def test_notes_are_checked_the_same_on_both_databases(engine: Engine, customer_id: int) -> None:
    notes = NoteService(Database(engine), agent=agent_context(engine))
    for body, problem in (
        ("   ", "note: is required"),
        ("x" * (validation.NOTE_MAX_CHARS + 1), "note: is too long"),
        ("call\x00back", "note: .*NUL"),
        (f"refund {RLO}001", "note: .*direction"),
        ("bad \udfff", "note: .*surrogate"),
    ):
        with pytest.raises(validation.InvalidInput, match=problem):
            notes.add_note(customer_id, body)
    saved = notes.add_note(customer_id, "x" * validation.NOTE_MAX_CHARS)
    assert len(saved.body) == validation.NOTE_MAX_CHARS
    with Database(engine).read() as session:
        assert session.scalar(select(func.count()).select_from(CustomerNote)) == 1


def test_wrap_up_fields_are_checked_not_cut(engine: Engine, interaction_id: int) -> None:
    db = Database(engine)
    calls = CallService(db, CustomerService(db, "US"), "US", agent=agent_context(engine))
    with pytest.raises(UserError, match="choose a disposition code"):
        calls.wrap_up(interaction_id, " ", "summary", None)
    with pytest.raises(validation.InvalidInput, match="summary: is too long"):
        calls.wrap_up(interaction_id, "resolved", "s" * (limits.SUMMARY_LENGTH + 1), None)
    with pytest.raises(validation.InvalidInput, match="summary: .*NUL"):
        calls.wrap_up(interaction_id, "resolved", "a\x00b", None)
    with pytest.raises(validation.InvalidInput, match="follow-up: is too long"):
        calls.wrap_up(interaction_id, "resolved", "ok", "f" * (limits.FOLLOW_UP_LENGTH + 1))
    with pytest.raises(validation.InvalidInput, match="disposition code: is too long"):
        calls.wrap_up(interaction_id, "c" * (limits.WRAP_UP_CODE_LENGTH + 1), "ok", None)
    calls.wrap_up(interaction_id, "resolved", "Sorted\r\nout", "Call back Friday")
    with db.read() as session:
        call = session.get(Interaction, interaction_id)
        assert call is not None and call.summary == "Sorted\nout"
        assert session.scalars(select(Commitment.description)).all() == ["Call back Friday"]
