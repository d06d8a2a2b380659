"""Macros: the sandbox refuses hostile templates; the service fills them from the database."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import Engine

from app.agent import AgentContext
from app.clock import fixed_clock
from app.errors import ConflictError
from app.macros import (
    MAX_OUTPUT_CHARS,
    MAX_TEMPLATE_CHARS,
    MacroContext,
    MacroError,
    check_template,
    placeholders_used,
    render,
)
from app.services.macros import MacroService
from models.database import Database
from models.enums import CommitmentStatus, MacroKind, Role
from models.seed.teamwork import SEED_MACROS
from models.service import Commitment
from models.teamwork import Macro
from tests.test_presence import add_case_and_agents

pytestmark = pytest.mark.clock  # the seed and the promise dates are relative to now

SANDRA = MacroContext(
    customer_name="Sandra Miller",
    customer_first_name="Sandra",
    case_reference="CS-26-000001",
    case_subject="Router keeps dropping",
    promise_due="Friday 4 December between 14:00 and 18:00",
    agent_name="Tom Baker",
)

HOSTILE = {
    "{{ ''.__class__.__mro__ }}": "private name",
    "{{ cycler.__init__.__globals__ }}": "private name",
    "{{ cycler }}": "unknown placeholder cycler",
    "{{ range(3) }}": "calling functions",
    "{% for x in range(10**9) %}x{% endfor %}": "loops",
    "{{ 'a' * 10**9 }}": "arithmetic",
    "{{ 9 ** 9 ** 9 }}": "arithmetic",
    "{{ customer._sa_instance_state }}": "private name",
    "{{ customer.name.__class__ }}": "private name",
    "{{ customer.name.upper() }}": "calling functions",
    "{{ customer['name'] }}": "[...] lookups",
    "{{ customer.name|attr('__class__') }}": "filter |attr",
    "{{ customer.name|replace('a', 'aaaa') }}": "filter |replace",
    "{% set x = customer %}{{ x }}": "{% set %}",
    "{% include 'secrets.txt' %}": "{% include %}",
    "{% import 'os' as os %}": "{% import %}",
    "{% macro m() %}{% endmacro %}": "{% macro %}",
    "{{ lipsum(10**6) }}": "calling functions",
    "{{ self }}": "unknown placeholder self",
    "{{ customer.password }}": "unknown placeholder customer.password",
}


def test_placeholders_are_filled_in_as_plain_text() -> None:
    body = (
        "Dear {{ customer.first_name }}, about {{ case.reference }} & <{{ case.subject }}>: "
        "we come {{ promise.due }}. {{ agent.name|upper }}\n"
    )
    assert render(body, SANDRA) == (
        "Dear Sandra, about CS-26-000001 & <Router keeps dropping>: "
        "we come Friday 4 December between 14:00 and 18:00. TOM BAKER\n"
    )
    assert placeholders_used(body) == [
        "customer.first_name",
        "case.reference",
        "case.subject",
        "promise.due",
        "agent.name",
    ]


@pytest.mark.parametrize("body", list(HOSTILE))
def test_a_hostile_template_is_refused_in_words_before_it_runs(body: str) -> None:
    started = time.perf_counter()
    with pytest.raises(MacroError) as refused:
        render(body, SANDRA)
    assert HOSTILE[body] in str(refused.value)
    assert time.perf_counter() - started < 0.5  # refused, not attempted


def test_a_missing_value_is_false_in_if_and_an_error_when_printed() -> None:
    no_promise = MacroContext(customer_first_name="Sandra", case_reference="CS-1")
    body = "{% if promise.due %}on {{ promise.due }}{% else %}soon{% endif %}"
    assert render(body, no_promise) == "soon"
    assert render("{{ promise.due|default('not yet') }}", no_promise) == "not yet"
    with pytest.raises(MacroError, match=r"promise\.due has no value for this case"):
        render("We come {{ promise.due }}", no_promise)


def test_size_limits_bound_the_template_and_the_output() -> None:
    with pytest.raises(MacroError, match="at most 10,000"):
        check_template("x" * (MAX_TEMPLATE_CHARS + 1))
    huge = MacroContext(customer_name="n" * 5_000)
    body = "{{ customer.name }}" * 5  # 25,000 characters out of 95 in
    with pytest.raises(MacroError, match=f"at most {MAX_OUTPUT_CHARS:,}"):
        render(body, huge)


def test_a_syntax_error_names_the_line() -> None:
    with pytest.raises(MacroError, match="line 2: .*end of print statement"):
        check_template("Hello\n{{ customer.name ")


@pytest.mark.parametrize("name,kind,department,body", SEED_MACROS)
def test_every_seeded_macro_renders(name: str, kind: str, department: str, body: str) -> None:
    text = render(body, SANDRA)
    assert "{{" not in text and "{%" not in text
    assert "CS-26-000001" in text, name


# -- the service, on both databases ---------------------------------------------------


def add_macros_and_promise(engine: Engine, case_id: int) -> dict[str, int]:
    with Database(engine).write() as session:
        macros = {
            "shared": Macro(
                name="Apology", kind=MacroKind.REPLY, body="Sorry, {{ customer.name }}"
            ),
            "mine": Macro(
                name="Visit",
                kind=MacroKind.REPLY,
                department_id=1,
                body="Dear {{ customer.first_name }}, we come {{ promise.due }}. "
                "Ref {{ case.reference }}. {{ agent.name }}",
            ),
            "other team": Macro(
                name="Dispatch", kind=MacroKind.REPLY, department_id=2, body="Sent"
            ),
            "retired": Macro(name="Old", kind=MacroKind.NOTE, body="x", active=False),
        }
        session.add_all(macros.values())
        from models.people import Department

        session.add(Department(id=2, code="warehouse", name="Warehouse"))
        session.flush()
        session.add(
            Commitment(
                customer_id=1,
                case_id=case_id,
                description="Technician visit",
                due_from=dt.datetime(2026, 12, 4, 14, 0, tzinfo=dt.UTC),
                due_until=dt.datetime(2026, 12, 4, 18, 0, tzinfo=dt.UTC),
                status=CommitmentStatus.OPEN,
            )
        )
        return {key: macro.id for key, macro in macros.items()}


def macro_service(engine: Engine, agent: AgentContext) -> MacroService:
    clock = fixed_clock(dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC))
    return MacroService(Database(engine), clock, agent=agent, zone=dt.UTC)


def test_an_agent_lists_the_team_and_shared_macros(engine: Engine) -> None:
    case_id, _maria, tom = add_case_and_agents(engine)
    add_macros_and_promise(engine, case_id)
    names = [m.name for m in macro_service(engine, tom).list_macros()]
    assert names == ["Apology", "Visit"]  # not the warehouse's, not the retired one


def test_render_fills_in_the_case_from_the_database(engine: Engine) -> None:
    case_id, _maria, tom = add_case_and_agents(engine)
    ids = add_macros_and_promise(engine, case_id)
    rendered = macro_service(engine, tom).render(ids["mine"], case_id)
    assert rendered.text == (
        "Dear Sandra, we come Friday 4 December between 14:00 and 18:00. "
        "Ref CS-26-000001. Tom Baker"
    )


def test_editing_is_versioned_and_a_stale_edit_is_refused(engine: Engine) -> None:
    case_id, maria, tom = add_case_and_agents(engine)
    lead = macro_service(engine, tom)
    created = lead.create("Greeting", MacroKind.REPLY, "Hello {{ customer.first_name }}", None)
    edited = lead.edit(created.id, created.version, "Greeting", "Hi {{ customer.first_name }}")
    assert (edited.version, edited.body) == (2, "Hi {{ customer.first_name }}")
    with pytest.raises(ConflictError, match="changed by someone else"):
        macro_service(engine, maria).edit(created.id, created.version, "Greeting", "Hey")
    assert lead.preview(edited.body, case_id) == "Hi Sandra"


def test_a_hostile_macro_is_refused_when_saved(engine: Engine) -> None:
    _case_id, _maria, tom = add_case_and_agents(engine)
    with pytest.raises(MacroError, match="private name"):
        macro_service(engine, tom).create(
            "Evil", MacroKind.NOTE, "{{ ''.__class__.__mro__ }}", None
        )


def test_an_agent_without_a_department_sees_only_shared_macros(engine: Engine) -> None:
    case_id, _maria, _tom = add_case_and_agents(engine)
    add_macros_and_promise(engine, case_id)
    visitor = AgentContext("guest", "Guest", Role.AGENT, None, "guest@pc", "db")
    assert [m.name for m in macro_service(engine, visitor).list_macros()] == ["Apology"]


def test_the_seed_gives_each_team_its_macros(engine: Engine) -> None:
    from sqlalchemy import select

    from models.seed import seed_database
    from models.service import Case
    from tests.factories import agent_context

    seed_database(engine, 0, seed=3)
    agent = agent_context(engine, "agent01")
    service = MacroService(Database(engine), agent=agent, zone=dt.UTC)
    names = {m.name for m in service.list_macros()}
    assert {"Apology + reference", "Technician visit booked", "Hand-off checklist"} <= names
    assert "Dispatch update" not in names  # the warehouse's
    with Database(engine).read() as session:
        case = session.scalars(select(Case).order_by(Case.id).limit(1)).one()
    apology = next(m for m in service.list_macros() if m.name == "Apology + reference")
    assert case.reference in service.render(apology.id, case.id).text
    assert service.create("New", MacroKind.NOTE, "Note for {{ case.reference }}", None).id > 0
