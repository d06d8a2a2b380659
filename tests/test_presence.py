"""Presence on a case (heartbeats that expire) and claims ("I'm replying"), both databases."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest
from sqlalchemy import Engine, func, select

from app.agent import AgentContext
from app.clock import fixed_clock
from app.errors import ConflictError
from app.services.presence import EXPIRY, SWEEP_AFTER, CaseClaimedError, PresenceService
from models.database import Database
from models.enums import CaseEventKind, CaseStatus, PresenceActivity, Priority, Role
from models.people import Customer, Department, User
from models.service import Case, CaseEvent
from models.teamwork import CasePresence

T0 = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


def add_case_and_agents(engine: Engine) -> tuple[int, AgentContext, AgentContext]:
    """A case of a customer, and two call-centre agents (Maria, Tom) who may open it."""
    with Database(engine).write() as session:
        centre = Department(code="call_centre", name="Call centre")
        session.add(centre)
        session.flush()
        maria = User(login="maria", display_name="Maria Lopez", role=Role.AGENT)
        tom = User(login="tom", display_name="Tom Baker", role=Role.AGENT)
        customer = Customer(
            first_name="Sandra",
            last_name="Miller",
            search_name="sandra miller",
            customer_since=dt.date(2015, 1, 1),
        )
        session.add_all([maria, tom, customer])
        session.flush()
        maria.department_id = tom.department_id = centre.id
        case = Case(
            reference="CS-26-000001",
            customer_id=customer.id,
            category="technical",
            subject="Router keeps dropping",
            priority=Priority.NORMAL,
            status=CaseStatus.OPEN,
        )
        session.add(case)
        session.flush()
        return (
            case.id,
            AgentContext("maria", "Maria Lopez", Role.AGENT, maria.id, "maria@pc1", "db"),
            AgentContext("tom", "Tom Baker", Role.AGENT, tom.id, "tom@pc2", "db"),
        )


def service(engine: Engine, agent: AgentContext, now: dt.datetime = T0) -> PresenceService:
    return PresenceService(Database(engine), fixed_clock(now), agent=agent)


def test_who_else_names_other_viewers_and_what_they_do(engine: Engine) -> None:
    case_id, maria, tom = add_case_and_agents(engine)
    service(engine, maria).heartbeat(case_id, PresenceActivity.VIEWING, T0)
    beat = service(engine, tom).heartbeat(case_id, PresenceActivity.TYPING, T0)

    assert [(v.name, v.activity) for v in beat.view.others] == [
        ("Maria Lopez", PresenceActivity.VIEWING)
    ]
    view = service(engine, maria).who_else(case_id, T0 + dt.timedelta(seconds=5))
    assert [(v.name, v.activity, v.last_seen) for v in view.others] == [
        ("Tom Baker", PresenceActivity.TYPING, T0)
    ]


def test_a_crashed_client_disappears_within_the_expiry(engine: Engine) -> None:
    case_id, maria, tom = add_case_and_agents(engine)
    service(engine, tom).heartbeat(case_id, PresenceActivity.TYPING, T0)
    # Tom's client dies: no more heartbeats, no leave(). Maria keeps looking.
    maria_sees = service(engine, maria)

    assert [v.name for v in maria_sees.who_else(case_id, T0 + EXPIRY).others] == ["Tom Baker"]
    later = T0 + EXPIRY + dt.timedelta(seconds=1)
    assert maria_sees.who_else(case_id, later).others == ()


def test_expired_rows_are_swept_by_the_next_heartbeat(engine: Engine) -> None:
    case_id, maria, tom = add_case_and_agents(engine)
    service(engine, tom).heartbeat(case_id, PresenceActivity.VIEWING, T0)
    service(engine, maria).heartbeat(case_id, PresenceActivity.VIEWING, T0 + SWEEP_AFTER * 2)

    with Database(engine).read() as session:
        users = session.scalars(select(CasePresence.user_id)).all()
    assert users == [maria.user_id]


def test_a_heartbeat_reports_a_change_only_when_others_would_see_one(engine: Engine) -> None:
    case_id, maria, _tom = add_case_and_agents(engine)
    presence = service(engine, maria)
    assert presence.heartbeat(case_id, PresenceActivity.VIEWING, T0).changed
    assert not presence.heartbeat(case_id, PresenceActivity.VIEWING, T0 + EXPIRY / 3).changed
    assert presence.heartbeat(case_id, PresenceActivity.TYPING, T0 + EXPIRY / 2).changed
    with Database(engine).read() as session:
        assert session.scalar(select(func.count()).select_from(CasePresence)) == 1


def test_leaving_removes_me_and_releases_my_claim(engine: Engine) -> None:
    case_id, maria, tom = add_case_and_agents(engine)
    service(engine, tom).claim(case_id, None, T0)
    service(engine, tom).leave(case_id)

    view = service(engine, maria).who_else(case_id, T0)
    assert view.others == () and view.claim is None
    with Database(engine).read() as session:
        assert session.scalar(select(Case.claimed_by_id).where(Case.id == case_id)) is None


def test_two_threads_heartbeating_at_once_keep_one_row_each(engine: Engine) -> None:
    case_id, maria, tom = add_case_and_agents(engine)
    errors: list[BaseException] = []

    def beat(agent: AgentContext) -> None:
        presence = service(engine, agent)
        try:
            for n in range(30):
                presence.heartbeat(case_id, PresenceActivity.VIEWING, T0 + dt.timedelta(seconds=n))
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=beat, args=(a,)) for a in (maria, tom, maria, tom)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with Database(engine).read() as session:
        rows = session.execute(select(CasePresence.user_id, CasePresence.workstation)).all()
    assert sorted(rows) == sorted([(maria.user_id, "maria@pc1"), (tom.user_id, "tom@pc2")])


def test_the_second_agent_sees_the_claim_and_cannot_take_it(engine: Engine) -> None:
    case_id, maria, tom = add_case_and_agents(engine)
    service(engine, tom).claim(case_id, 1, T0)

    view = service(engine, maria).heartbeat(case_id, PresenceActivity.VIEWING, T0).view
    assert view.claim is not None
    assert (view.claim.holder_name, view.claim.mine, view.claim.since) == ("Tom Baker", False, T0)
    assert view.claim.holder_activity == PresenceActivity.TYPING
    with pytest.raises(CaseClaimedError, match="Tom Baker is already replying"):
        service(engine, maria).claim(case_id, 1, T0 + dt.timedelta(seconds=5))
    with Database(engine).read() as session:
        events = session.scalars(select(CaseEvent).where(CaseEvent.kind == CaseEventKind.CLAIMED))
        assert [e.body for e in events] == ["Tom Baker is replying"]


def test_a_claim_lapses_with_its_holders_presence(engine: Engine) -> None:
    case_id, maria, tom = add_case_and_agents(engine)
    service(engine, tom).claim(case_id, None, T0)  # and then Tom's client crashes
    later = T0 + EXPIRY + dt.timedelta(seconds=1)

    assert service(engine, maria).who_else(case_id, later).claim is None
    view = service(engine, maria, later).claim(case_id, None, later)
    assert view.claim is not None and view.claim.mine


def test_a_claim_does_not_bump_the_case_version(engine: Engine) -> None:
    case_id, _maria, tom = add_case_and_agents(engine)
    view = service(engine, tom).claim(case_id, 1, T0)
    assert view.case_version == 1
    assert service(engine, tom).release(case_id).claim is None


def test_a_claim_on_a_case_changed_since_it_was_read_is_refused(engine: Engine) -> None:
    case_id, maria, _tom = add_case_and_agents(engine)
    with Database(engine).write() as session:
        case = session.get(Case, case_id)
        assert case is not None
        case.subject = "Router keeps dropping every evening"  # version 1 -> 2
    with pytest.raises(ConflictError, match="changed since you opened it"):
        service(engine, maria).claim(case_id, 1, T0)


def test_claim_contention_exactly_one_agent_wins(engine: Engine) -> None:
    case_id, maria, tom = add_case_and_agents(engine)
    results: dict[str, str] = {}
    start = threading.Barrier(2)

    def claim(agent: AgentContext) -> None:
        presence = service(engine, agent)
        start.wait()
        try:
            presence.claim(case_id, None, T0)
            results[agent.login] = "won"
        except CaseClaimedError:
            results[agent.login] = "refused"
        except BaseException as exc:  # reported below, on the test's thread
            results[agent.login] = repr(exc)

    threads = [threading.Thread(target=claim, args=(a,)) for a in (maria, tom)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results.values()) == ["refused", "won"], results
    winner = next(login for login, result in results.items() if result == "won")
    with Database(engine).read() as session:
        holder = session.scalar(select(Case.claimed_by_id).where(Case.id == case_id))
        claims = session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.kind == CaseEventKind.CLAIMED)
        )
    assert holder == {"maria": maria.user_id, "tom": tom.user_id}[winner]
    assert claims == 1


def test_an_agent_without_a_staff_record_is_told_why_presence_fails(engine: Engine) -> None:
    case_id, maria, _tom = add_case_and_agents(engine)
    nobody = dataclasses.replace(maria, login="nobody", user_id=None)
    with pytest.raises(Exception, match="nobody has no staff record"):
        service(engine, nobody).heartbeat(case_id)
