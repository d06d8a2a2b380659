"""CaseService on both databases: references, steps, notes, contacts, key-date priority,
repeat contact, the timeline, time per department, and concurrent edits."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, func, select

from app.bootstrap import build_services
from app.changes import Entity
from app.config import load_settings
from app.errors import ConflictError
from app.operations import cases as case_ops
from app.services.cases import CaseConflict, CaseService, CaseStepRefused
from models.catalog import Product
from models.commerce import Order, OrderLine
from models.database import Database
from models.enums import (
    CaseEventKind,
    CaseStatus,
    Channel,
    Direction,
    KeyDateKind,
    OrderStatus,
    Role,
    TaskStatus,
)
from models.people import Customer, CustomerRelation, Department, KeyDate, User
from models.service import Case, CaseEvent, Interaction, Task
from tests.factories import add_ada, agent_context

# Wednesday 2 December 2026, 10:00 UTC.
NOON = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> dt.datetime:
        self.at += dt.timedelta(**delta)
        return self.at


@dataclass
class World:
    engine: Engine
    db: Database
    clock: Clock
    cases: CaseService
    other: CaseService  # a second agent, in another department
    customer: int
    call_centre: int
    warehouse: int


@pytest.fixture
def world(engine: Engine) -> World:
    db = Database(engine)
    with db.write() as session:
        call_centre = Department(code="call_centre", name="Call centre")
        warehouse = Department(code="warehouse", name="Warehouse")
        session.add_all([call_centre, warehouse])
        session.flush()
        session.add_all(
            [
                User(
                    login="mia",
                    display_name="Mia Agent",
                    role=Role.AGENT,
                    department_id=call_centre.id,
                ),
                User(
                    login="wes",
                    display_name="Wes Store",
                    role=Role.AGENT,
                    department_id=warehouse.id,
                ),
            ]
        )
        ids = (call_centre.id, warehouse.id)
    clock = Clock(NOON)
    return World(
        engine,
        db,
        clock,
        CaseService(db, clock, agent=agent_context(engine, "mia")),
        CaseService(db, clock, agent=agent_context(engine, "wes")),
        add_ada(engine),
        *ids,
    )


def _case(w: World, **kw: object) -> tuple[int, str]:
    args: dict[str, object] = {
        "category": "complaint",
        "subject": "Watch engraved wrongly",
        "description": "Engraving reads 'For K.' not 'For C.'",
        "priority": "normal",
    }
    args.update(kw)
    return w.cases.open_case(w.customer, **args)  # type: ignore[arg-type]


def _version(w: World, case_id: int) -> int:
    return w.cases.load(case_id).version


def test_references_come_from_the_database_sequence_formatted_with_the_year(w: World) -> None:
    first = _case(w)[1]
    second = _case(w)[1]
    assert first.startswith("CS-26-") and len(first) == len("CS-26-000123")
    assert int(second[6:]) == int(first[6:]) + 1
    detail = w.cases.load(_case(w)[0])
    assert detail.status_label == "New" and detail.department == "Call centre"
    assert detail.assignee == "Mia Agent"
    assert detail.timeline[0].kind == "Opened" and detail.timeline[0].who == "Mia Agent"
    assert detail.timeline[0].department == "Call centre"


@pytest.fixture
def w(world: World) -> World:
    return world


def test_references_are_unique_and_sequential_under_concurrency(w: World) -> None:
    made: list[str] = []
    lock = threading.Lock()

    def open_many(service: CaseService) -> None:
        for _ in range(15):
            _id, reference = service.open_case(w.customer, "delivery", "Late", None, "normal")
            with lock:
                made.append(reference)

    threads = [threading.Thread(target=open_many, args=(s,)) for s in (w.cases, w.other) * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = sorted(int(r[6:]) for r in made)
    assert len(set(made)) == 60
    assert numbers == list(range(numbers[0], numbers[0] + 60))


def test_the_seeder_moves_the_sequence_past_its_references(engine: Engine) -> None:
    from models.seed import seed_database

    seed_database(engine, 5, seed=2, now=NOON)
    db = Database(engine)
    with db.read() as session:
        last = max(int(r[6:]) for r in session.scalars(select(Case.reference)))
        customer = session.scalar(select(Customer.id).limit(1))
    assert customer is not None
    service = CaseService(db, Clock(NOON), agent=agent_context(engine))
    _id, reference = service.open_case(customer, "other", "Question", None, "low")
    assert int(reference[6:]) == last + 1


def test_status_steps_follow_the_workflow_and_record_events(w: World) -> None:
    case_id, _ = _case(w)
    version = w.cases.change_status(case_id, CaseStatus.OPEN, _version(w, case_id))
    with pytest.raises(CaseStepRefused, match="cannot become new|already"):
        w.cases.change_status(case_id, CaseStatus.OPEN, version)
    with pytest.raises(ConflictError, match="Someone else changed"):
        w.cases.change_status(case_id, CaseStatus.RESOLVED, version - 1)
    version = w.cases.change_status(case_id, CaseStatus.RESOLVED, version, "Re-engraved")
    version = w.cases.change_status(case_id, CaseStatus.CLOSED, version)
    version = w.cases.change_status(case_id, CaseStatus.OPEN, version)
    detail = w.cases.load(case_id)
    assert detail.status_label == "Reopened" and detail.version == version
    assert [e.kind for e in detail.timeline] == [
        "Opened",
        "Status",
        "Resolved",
        "Closed",
        "Reopened",
    ]
    assert ("waiting_internal", "Wait on department") in detail.allowed_steps


def test_closing_with_open_tasks_needs_a_reason_which_is_recorded(w: World) -> None:
    case_id, _ = _case(w)
    with w.db.write() as session:
        session.add(
            Task(
                case_id=case_id,
                department_id=w.warehouse,
                title="Re-engrave",
                status=TaskStatus.OPEN,
                created_at=NOON,
            )
        )
    with pytest.raises(CaseStepRefused, match="1 open task: say why"):
        w.cases.change_status(case_id, CaseStatus.CLOSED, _version(w, case_id))
    w.cases.change_status(case_id, CaseStatus.CLOSED, _version(w, case_id), "Customer withdrew")
    detail = w.cases.load(case_id)
    assert detail.close_reason == "Customer withdrew" and detail.status == "closed"
    closed = [t for t in detail.timeline if t.kind == "Closed"]
    assert [t.text for t in closed] == ["Closed: Customer withdrew"]


def _order_with_line(w: World, personalisation: str) -> tuple[int, int]:
    with w.db.write() as session:
        product = Product(sku="W-1", name="Classic watch", category="watches", price_cents=19900)
        session.add(product)
        session.flush()
        order = Order(
            number="R1000042",
            customer_id=w.customer,
            channel=Channel.WEB,
            placed_at=NOON,
            status=OrderStatus.DELIVERED,
            subtotal_cents=19900,
            total_cents=19900,
        )
        session.add(order)
        session.flush()
        line = OrderLine(
            order_id=order.id,
            line_no=1,
            product_id=product.id,
            quantity=1,
            unit_price_cents=19900,
            personalisation=personalisation,
        )
        session.add(line)
        session.flush()
        return order.id, line.id


def _husbands_birthday(w: World, on: dt.date) -> None:
    with w.db.write() as session:
        relation = CustomerRelation(
            customer_id=w.customer, related_name="Kevin Lovelace", relation="husband"
        )
        session.add(relation)
        session.flush()
        session.add(
            KeyDate(
                customer_id=w.customer,
                relation_id=relation.id,
                kind=KeyDateKind.BIRTHDAY,
                date=on.replace(year=1970),
                month_day=f"{on:%m-%d}",
            )
        )


def test_a_key_date_near_raises_an_order_case_with_the_reason(w: World) -> None:
    _husbands_birthday(w, dt.date(2026, 12, 7))  # Monday, 5 days on
    order_id, line_id = _order_with_line(w, "For K.")
    case_id, _ = _case(w, order_line_id=line_id)
    detail = w.cases.load(case_id)
    assert detail.priority == "high"
    assert detail.priority_reason == "key date near: husband Kevin's birthday Mon 7 Dec"
    assert detail.order_id == order_id  # the line names its order
    assert detail.order_text == 'Order R1000042, line 1: Classic watch (personalisation: "For K.")'
    assert any(e.kind == "Priority" and "Mon 7 Dec" in e.text for e in detail.timeline)
    # Not about an order: no raise. Too far away: no raise.
    assert w.cases.load(_case(w)[0]).priority == "normal"
    w.clock.at = NOON - dt.timedelta(days=10)
    assert w.cases.load(_case(w, order_id=order_id)[0]).priority_reason is None


def _call(w: World, at: dt.datetime, summary: str) -> int:
    with w.db.write() as session:
        call = Interaction(
            customer_id=w.customer,
            channel=Channel.PHONE,
            direction=Direction.INBOUND,
            started_at=at,
            summary=summary,
        )
        session.add(call)
        session.flush()
        return call.id


def test_repeat_contacts_are_counted_and_flagged(w: World) -> None:
    w.clock.at = NOON - dt.timedelta(days=9)
    case_id, _ = _case(w)
    w.clock.at = NOON
    detail = w.cases.load(case_id)
    assert detail.repeat_text is None and not detail.repeat_flag
    w.cases.attach_interaction(case_id, _call(w, NOON - dt.timedelta(days=3), "Still wrong"))
    detail = w.cases.load(case_id)
    assert detail.repeat_text == "2nd contact about this in 9 days"
    assert not detail.repeat_flag  # the opening was 9 days ago: one contact in 7 days
    w.cases.attach_interaction(case_id, _call(w, NOON - dt.timedelta(hours=1), "Angry now"))
    detail = w.cases.load(case_id)
    assert detail.repeat_text == "3rd contact about this in 9 days" and detail.repeat_flag
    assert detail.contacts == 3
    assert [r.contacts for r in w.cases.open_cases_for(w.customer)] == [3]


def test_the_timeline_merges_every_source_in_time_order(w: World) -> None:
    w.clock.at = NOON - dt.timedelta(days=2)
    case_id, _ = _case(w)
    w.clock.at = NOON - dt.timedelta(days=1)
    w.cases.add_note(case_id, "Warehouse says engraver is off", internal=True)
    w.clock.at = NOON
    w.cases.add_note(case_id, "We will re-engrave by Friday", internal=False)
    w.cases.attach_interaction(case_id, _call(w, NOON - dt.timedelta(days=1, hours=3), "Called"))
    with w.db.write() as session:
        session.add(
            Task(
                case_id=case_id,
                department_id=w.warehouse,
                title="Re-engrave",
                status=TaskStatus.DONE,
                created_at=NOON - dt.timedelta(hours=30),
                completed_at=NOON - dt.timedelta(hours=6),
                outcome="Done",
            )
        )
    timeline = w.cases.load(case_id).timeline
    assert [t.at for t in timeline] == sorted(t.at for t in timeline)
    assert [t.kind for t in timeline] == [
        "Opened",
        "Task",
        "Contact",
        "Internal note",
        "Task",
        "Told the customer",
    ]
    internal = [t for t in timeline if t.internal]
    assert {t.text for t in internal} >= {"Warehouse says engraver is off"}
    told = next(t for t in timeline if t.kind == "Told the customer")
    assert not told.internal and told.department == "Call centre"
    assert sum(t.kind == "Contact" for t in timeline) == 1  # the CONTACT event is not shown twice


def test_time_per_department_counts_tasks_and_waiting_once(w: World) -> None:
    case_id, _ = _case(w)
    start = NOON
    with w.db.write() as session:
        # Warehouse: a task 0h..10h and a second 5h..12h overlap -> 12 h; still open from 20h.
        for begin, end in ((0, 10), (5, 12), (20, None)):
            session.add(
                Task(
                    case_id=case_id,
                    department_id=w.warehouse,
                    title="t",
                    status=TaskStatus.DONE if end else TaskStatus.OPEN,
                    created_at=start + dt.timedelta(hours=begin),
                    completed_at=start + dt.timedelta(hours=end) if end else None,
                )
            )
    # Waiting on the call centre (the case's department) from 12h to 15h.
    w.clock.at = start + dt.timedelta(hours=12)
    w.cases.change_status(case_id, CaseStatus.WAITING_INTERNAL, _version(w, case_id))
    w.clock.at = start + dt.timedelta(hours=15)
    w.cases.change_status(case_id, CaseStatus.OPEN, _version(w, case_id))
    w.clock.at = start + dt.timedelta(hours=24)
    times = {d.department: d.waited for d in w.cases.load(case_id).department_times}
    assert times == {"Warehouse": dt.timedelta(hours=16), "Call centre": dt.timedelta(hours=3)}


def test_edits_merge_fields_only_one_side_changed_and_report_real_conflicts(w: World) -> None:
    case_id, _ = _case(w)
    loaded = w.cases.load(case_id)
    base = loaded.base()
    w.other.edit(case_id, loaded.version, {"subject": "Engraving wrong"}, base)
    merged = w.cases.edit(case_id, loaded.version, {"priority": "high"}, base)
    assert merged.applied == {"priority": "high"}
    with pytest.raises(CaseConflict) as raised:
        w.cases.edit(case_id, loaded.version, {"subject": "Wrong initials"}, base)
    conflict = raised.value.conflicts[0]
    assert (conflict.field, conflict.mine, conflict.theirs, conflict.base) == (
        "subject",
        "Wrong initials",
        "Engraving wrong",
        "Watch engraved wrongly",
    )
    assert "choose" in str(raised.value)
    # The agent keeps theirs... or sends mine again on the version the conflict named.
    w.cases.edit(case_id, raised.value.version, {"subject": "Wrong initials"}, raised.value.current)
    detail = w.cases.load(case_id)
    assert (detail.subject, detail.priority) == ("Wrong initials", "high")


def test_a_thousand_concurrent_edits_never_overwrite_silently(w: World) -> None:
    case_id, _ = _case(w)
    applied: dict[str, list[tuple[int, str]]] = {"subject": [], "description": []}
    conflicts = [0]
    lock = threading.Lock()

    def edit_many(service: CaseService, name: str) -> None:
        for i in range(500):
            field = "subject" if i % 2 == 0 else "description"
            loaded = service.load(case_id)
            value = f"{name} {i}"
            try:
                result = service.edit(case_id, loaded.version, {field: value}, loaded.base())
            except CaseConflict:
                with lock:
                    conflicts[0] += 1
                continue
            assert result.applied == {field: value}
            with lock:
                applied[field].append((result.version, value))

    threads = [
        threading.Thread(target=edit_many, args=(w.cases, "mia")),
        threading.Thread(target=edit_many, args=(w.other, "wes")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = len(applied["subject"]) + len(applied["description"])
    assert total + conflicts[0] == 1000
    with w.db.read() as session:
        edits = list(
            session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == CaseEventKind.EDITED)
                .order_by(CaseEvent.id)
            )
        )
        case = session.get(Case, case_id)
        assert case is not None
        assert case.version == 1 + total
    assert len(edits) == total
    for field in ("subject", "description"):
        # Each applied edit changed the value the previous applied edit left: nobody's
        # value was replaced unseen.
        chain = [e.data["fields"][field] for e in edits if e.data and field in e.data["fields"]]
        assert [c["to"] for c in chain] == [v for _ver, v in sorted(applied[field])]
        for before, after in zip(chain, chain[1:], strict=False):
            assert after["from"] == before["to"]
    assert case.subject == sorted(applied["subject"])[-1][1]
    assert case.description == sorted(applied["description"])[-1][1]


def test_operations_name_the_case_and_the_contact(w: World, engine: Engine) -> None:
    services = build_services(load_settings(), engine)
    done = case_ops.open_case(services, w.customer, "delivery", "Parcel late", None, "normal")
    case_id, reference = done.value
    assert done.changes.ids(Entity.CASE) == {case_id}
    assert done.changes.customers() == {w.customer}
    call = _call(w, NOON, "Where is it")
    attached = case_ops.attach_interaction(services, case_id, call)
    assert attached.changes.ids(Entity.INTERACTION) == {call}
    assert services.cases.find_by_reference(reference.lower()) == (case_id, w.customer)
    with w.db.read() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Interaction).where(Interaction.case_id == case_id)
            )
            == 1
        )


def test_the_search_box_finds_a_case_by_its_reference_with_or_without_prefix(
    w: World, engine: Engine
) -> None:
    from app.services.search import case_reference_in

    services = build_services(load_settings(), engine)
    _id, reference = _case(w)
    short = reference[3:]  # "26-000001"
    assert case_reference_in(short) == reference
    assert case_reference_in(f"cs {short.replace('-', ' ')}") == reference
    assert case_reference_in("+1 202 555 0123") is None
    for typed in (reference, reference.lower(), short):
        hits = services.search.search(typed)
        assert [(h.customer_id, h.matched_on, h.matched_text) for h in hits] == [
            (w.customer, "case", reference)
        ]
