"""The SLA clocks of cases over a real database (both backends): policy choice, pause and
resume, a warning once and only inside service hours, a breach once with its time,
concurrent sweeps."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from app.services.sla import (
    SlaClocks,
    backfill_clocks,
    choose_policy,
    on_status,
    record_first_response,
    start_clock,
    sweep,
)
from app.sla import business_minutes_between
from models.database import Database
from models.enums import OPEN_CASE_STATUSES, CaseEventKind, CaseStatus, Priority
from models.people import Customer
from models.service import Case, CaseEvent
from models.sla import BusinessCalendar, BusinessHours, SlaPolicy
from tests.factories import add_ada

UTC = dt.UTC
T = dt.time
BERLIN = ZoneInfo("Europe/Berlin")
# Mon 30 Nov 2026, 09:00 in Berlin (CET, UTC+1).
MONDAY_9 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def berlin(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A Berlin wall time from Mon 30 Nov 2026 on (day 30, 31 = 1 Dec, 32 = 2 Dec...)."""
    local = dt.datetime(2026, 11, 30, hour, minute, tzinfo=BERLIN) + dt.timedelta(days=day - 30)
    return local.astimezone(UTC)


def setup(engine: Engine) -> dict[str, int]:
    """An office calendar in Berlin (Mon-Fri 09-12, 13-17) and four policies."""
    with Database(engine).write() as session:
        calendar = BusinessCalendar(
            name="Office", time_zone="Europe/Berlin", holiday_country="DE", holiday_subdivision="BY"
        )
        session.add(calendar)
        session.flush()
        for weekday in range(5):
            session.add(
                BusinessHours(calendar_id=calendar.id, weekday=weekday, opens=T(9), closes=T(12))
            )
            session.add(
                BusinessHours(calendar_id=calendar.id, weekday=weekday, opens=T(13), closes=T(17))
            )
        policies = {
            "any": SlaPolicy(name="Any", first_response_minutes=240, resolution_minutes=1260),
            "high": SlaPolicy(
                name="High", priority="high", first_response_minutes=120, resolution_minutes=480
            ),
            "high_platinum": SlaPolicy(
                name="High platinum",
                priority="high",
                tier="platinum",
                first_response_minutes=60,
                resolution_minutes=240,
                rank=50,
            ),
            "complaint": SlaPolicy(
                name="Complaint",
                category="complaint",
                first_response_minutes=60,
                resolution_minutes=400,
                rank=10,
            ),
        }
        for policy in policies.values():
            policy.calendar_id = calendar.id
            policy.warn_at_percent = 75
            policy.rank = policy.rank or 100
            session.add(policy)
        session.flush()
        return {name: p.id for name, p in policies.items()} | {"calendar": calendar.id}


def open_case(
    engine: Engine, *, priority=Priority.NORMAL, category="delivery", tier=None, now=MONDAY_9
) -> int:
    with Database(engine).read() as session:
        customer_id = session.scalar(select(Customer.id).limit(1))
    if customer_id is None:
        customer_id = add_ada(engine)
    with Database(engine).write() as session:
        count = session.scalar(select(func.count()).select_from(Case)) or 0
        case = Case(
            reference=f"CS-26-{count + 1:06d}",
            customer_id=customer_id,
            category=category,
            subject="Parcel late",
            priority=priority,
            status=CaseStatus.OPEN,
            opened_at=now,
        )
        session.add(case)
        session.flush()
        start_clock(session, case, tier, now)
        return case.id


def events(engine: Engine, case_id: int, kind: CaseEventKind) -> list[CaseEvent]:
    with Database(engine).read() as session:
        return list(
            session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == kind)
            )
        )


def get(engine: Engine, case_id: int) -> Case:
    with Database(engine).read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        session.expunge(case)
        return case


def run_sweep(engine: Engine, now: dt.datetime):
    with Database(engine).write() as session:
        return sweep(session, now)


def test_most_specific_policy_wins_then_rank(engine: Engine) -> None:
    ids = setup(engine)
    with Database(engine).read() as session:
        assert choose_policy(session, "delivery", "normal", "standard").id == ids["any"]
        assert choose_policy(session, "delivery", "high", "gold").id == ids["high"]
        assert choose_policy(session, "delivery", "high", "platinum").id == ids["high_platinum"]
        # complaint (one field, rank 10) and high (one field, rank 100): rank decides.
        assert choose_policy(session, "complaint", "high", None).id == ids["complaint"]


def test_start_clock_sets_due_times_in_business_time(engine: Engine) -> None:
    ids = setup(engine)
    case_id = open_case(engine, priority=Priority.HIGH, now=berlin(30, 16))  # Mon 16:00
    case = get(engine, case_id)
    assert case.sla_policy_id == ids["high"]
    assert case.first_response_due_at == berlin(31, 10)  # 1 h Mon, 1 h Tue
    assert case.sla_due_at == berlin(31, 17)  # 8 h: 1 h Mon + 7 h Tue (lunch excluded)


def test_waiting_on_the_customer_stops_the_clock_and_resume_pushes_the_due_time(
    engine: Engine,
) -> None:
    setup(engine)
    case_id = open_case(engine, priority=Priority.HIGH, now=berlin(30, 9))
    with Database(engine).write() as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert case.sla_due_at == berlin(31, 10)  # 7 h on Monday, 1 h on Tuesday
        # Paused Mon 11:00; it ends outside hours (Wed 07:00).
        on_status(session, case, CaseStatus.OPEN, CaseStatus.WAITING_CUSTOMER, berlin(30, 11))
        case.status = CaseStatus.WAITING_CUSTOMER
        assert case.sla_paused_since == berlin(30, 11)
    # While paused, nothing is swept even after the stored due time.
    assert run_sweep(engine, dt.datetime(2026, 12, 1, 12, tzinfo=UTC)).records == ()
    with Database(engine).write() as session:
        case = session.get(Case, case_id)
        assert case is not None
        resumed_at = berlin(32, 7)  # Wed 07:00, before opening
        on_status(session, case, CaseStatus.WAITING_CUSTOMER, CaseStatus.OPEN, resumed_at)
        case.status = CaseStatus.OPEN
        assert case.sla_paused_since is None
        # 6 h were left at Mon 11:00 (11-12, 13-17, Tue 09-10): from Wed 09:00 -> Wed 16:00.
        assert case.sla_due_at == berlin(32, 16)


def test_warning_once_and_only_inside_service_hours(engine: Engine) -> None:
    setup(engine)
    # Normal: 1260 min (three office days), warn at 75%, i.e. with 315 min left.
    case_id = open_case(engine, now=berlin(30, 9))
    assert get(engine, case_id).sla_due_at == berlin(32, 17)
    with Database(engine).write() as session:
        case = session.get(Case, case_id)
        assert case is not None
        record_first_response(session, case, berlin(30, 10))

    def warnings(now: dt.datetime) -> list[tuple[int, str]]:
        return [(r.case_id, r.kind) for r in run_sweep(engine, now).records]

    assert warnings(berlin(32, 9)) == []  # 420 min left
    # From Wed 10:45 only 315 min are left: the warning is due. A sweep in the lunch
    # break (outside service hours) holds it; the first sweep after 13:00 delivers it.
    assert warnings(berlin(32, 12, 30)) == []
    assert warnings(berlin(32, 13)) == [(case_id, "warning")]
    assert warnings(berlin(32, 13, 5)) == []
    assert get(engine, case_id).sla_warned_at == berlin(32, 13)
    assert len(events(engine, case_id, CaseEventKind.SLA_WARNING)) == 1


def test_breach_recorded_once_with_its_time(engine: Engine) -> None:
    setup(engine)
    case_id = open_case(engine, priority=Priority.HIGH, now=berlin(30, 9))
    due = get(engine, case_id).sla_due_at
    late_sweep = dt.datetime(2026, 12, 5, 3, tzinfo=UTC)  # Saturday night
    report = run_sweep(engine, late_sweep)
    assert {(r.kind, r.at) for r in report.records} >= {("breach", due)}
    assert run_sweep(engine, late_sweep + dt.timedelta(hours=1)).records == ()
    case = get(engine, case_id)
    assert case.sla_breached_at == due
    breaches = events(engine, case_id, CaseEventKind.SLA_BREACH)
    assert sorted(e.data["target"] for e in breaches) == ["first_response", "resolution"]
    assert [e.at for e in breaches if e.data["target"] == "resolution"] == [due]


def test_first_response_in_time_is_no_breach(engine: Engine) -> None:
    setup(engine)
    case_id = open_case(engine, priority=Priority.HIGH, now=berlin(30, 9))
    with Database(engine).write() as session:
        case = session.get(Case, case_id)
        assert case is not None
        assert record_first_response(session, case, berlin(30, 10)) is False
        assert record_first_response(session, case, berlin(30, 16)) is False  # only the first
        assert case.first_response_at == berlin(30, 10)
    kinds = {r.kind for r in run_sweep(engine, berlin(30, 16)).records}
    assert "first_response_breach" not in kinds


def test_concurrent_sweeps_record_each_breach_once(engine: Engine) -> None:
    setup(engine)
    case_ids = [open_case(engine, priority=Priority.HIGH, now=berlin(30, 9)) for _ in range(5)]
    later = dt.datetime(2026, 12, 3, 12, tzinfo=UTC)
    reports = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        reports.append(run_sweep(engine, later))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recorded = [r for report in reports for r in report.records if r.kind == "breach"]
    assert sorted(r.case_id for r in recorded) == sorted(case_ids)
    for case_id in case_ids:
        assert (
            len(events(engine, case_id, CaseEventKind.SLA_BREACH)) == 2
        )  # first response + resolution


def test_states_for_many_cases_share_one_calendar(engine: Engine) -> None:
    setup(engine)
    case_ids = [open_case(engine, priority=Priority.HIGH, now=berlin(30, 9)) for _ in range(3)]
    clocks = SlaClocks()
    with Database(engine).read() as session:
        states = clocks.states(session, case_ids, berlin(30, 15), BERLIN)
    assert set(states) == set(case_ids)
    assert len(clocks.calendars) == 1
    state = states[case_ids[0]]
    assert (state.minutes_left, state.paused, state.breached) == (180, False, False)
    assert state.text == "3 h of business time left, due Tue 10:00"


def test_seeded_demo_cases_get_consistent_clocks(engine: Engine) -> None:
    from models.seed import seed_database

    seeded = dt.datetime(2026, 12, 2, 15, 30, tzinfo=UTC)  # Wed 10:30 in New York
    seed_database(engine, 20, seed=4, now=seeded)
    with Database(engine).write() as session:
        started = backfill_clocks(session, seeded)
    with Database(engine).read() as session:
        open_cases = session.scalars(select(Case).where(Case.status.in_(OPEN_CASE_STATUSES))).all()
        assert started == len(open_cases) > 0
        clocks = SlaClocks()
        for case in open_cases:
            assert case.sla_policy_id is not None and case.sla_due_at is not None
            policy = clocks.policy(session, case.sla_policy_id)
            calendar = clocks.calendar(session, policy.calendar_id)
            assert business_minutes_between(calendar, case.opened_at, case.sla_due_at) == (
                policy.resolution_minutes
            )
            waiting = case.status == CaseStatus.WAITING_CUSTOMER
            assert (case.sla_paused_since is not None) == waiting
            assert case.sla_paused_since is None or case.sla_paused_since <= seeded
        names = set(session.scalars(select(SlaPolicy.name)))
        assert {"Urgent", "Platinum high", "Complaint"} <= names
    with Database(engine).write() as session:
        assert backfill_clocks(session, seeded) == 0  # started once
