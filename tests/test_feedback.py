"""Feedback (S5): offline sentiment, follow-ups for supervisors, retries, both databases."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from app.agent import AgentContext
from app.bootstrap import Services, build_services
from app.changes import Entity
from app.clock import fixed_clock
from app.config import load_settings
from app.errors import UserError
from app.operations.teamwork import record_feedback
from app.sentiment import score
from app.services.feedback import DUPLICATE_WINDOW, FeedbackService
from models.database import Database
from models.enums import CaseEventKind, Channel, Role, Sentiment, TaskStatus
from models.people import User
from models.service import CaseEvent, Feedback, Task
from tests.test_presence import add_case_and_agents

pytestmark = pytest.mark.clock  # the retry window is measured on the real clock

T0 = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
ANGRY = "Terrible service. The technician never came and nobody called me back."
GERMAN = "Der Techniker kam nicht, und niemand hat mich zurückgerufen. Sehr enttäuschend."


# -- sentiment (pure) -----------------------------------------------------------------


def test_english_is_scored() -> None:
    angry = score(ANGRY)
    assert (angry.sentiment, angry.language, angry.supported) == (Sentiment.NEGATIVE, "en", True)
    assert angry.score is not None and angry.score < -0.3
    happy = score("Wonderful, thank you so much for sorting this out so quickly!")
    assert happy.sentiment == Sentiment.POSITIVE and happy.score is not None


def test_another_language_is_not_scored_and_says_so() -> None:
    result = score(GERMAN)
    assert result == (Sentiment.NEUTRAL, None, "de", False)
    assert result.explanation == (
        "Sentiment not scored: text is in German; only English is supported"
    )


def test_short_english_words_are_not_taken_for_another_language() -> None:
    assert score("bad").sentiment == Sentiment.NEGATIVE
    assert score("Thanks").language == "en"


def test_the_same_text_always_gets_the_same_language() -> None:
    text = "Merci beaucoup, le technicien était très gentil"
    assert len({score(text).language for _ in range(5)}) == 1


# -- the service ----------------------------------------------------------------------


def add_supervisors(engine: Engine) -> dict[str, int]:
    """Two call-centre supervisors: Ines leads Team 2, Olga leads Team 1 (Maria's)."""
    with Database(engine).write() as session:
        maria = session.scalar(select(User).where(User.login == "maria"))
        assert maria is not None
        maria.team = "Team 1"
        sups = {
            "ines": User(login="ines", display_name="Ines Park", role=Role.SUPERVISOR),
            "olga": User(login="olga", display_name="Olga Berg", role=Role.SUPERVISOR),
        }
        for login, user in sups.items():
            user.department_id = maria.department_id
            user.team = "Team 2" if login == "ines" else "Team 1"
        session.add_all(sups.values())
        session.flush()
        return {login: user.id for login, user in sups.items()}


def feedback(engine: Engine, agent: AgentContext, now: dt.datetime = T0) -> FeedbackService:
    return FeedbackService(Database(engine), fixed_clock(now), agent=agent)


def test_negative_feedback_creates_a_follow_up_for_the_team_supervisor(engine: Engine) -> None:
    case_id, maria, _tom = add_case_and_agents(engine)
    sups = add_supervisors(engine)

    recorded = feedback(engine, maria).record(1, case_id, 2, ANGRY, Channel.PHONE)

    assert recorded.negative and recorded.follow_up_assignee == "Olga Berg"
    with Database(engine).read() as session:
        task = session.get(Task, recorded.follow_up_task_id)
        row = session.get(Feedback, recorded.feedback_id)
        event = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).one()
    assert task is not None and row is not None
    assert (task.assignee_id, task.case_id, task.customer_id, task.status) == (
        sups["olga"],
        case_id,
        1,
        TaskStatus.OPEN,
    )
    assert task.due_at == T0 + dt.timedelta(days=1)
    assert "CS-26-000001" in task.title and "2/5" in task.title
    assert (row.follow_up_task_id, row.sentiment, row.language) == (
        task.id,
        Sentiment.NEGATIVE,
        "en",
    )
    assert event.kind == CaseEventKind.FEEDBACK and event.data is not None
    assert event.data["follow_up_task_id"] == task.id


def test_a_good_rating_with_an_angry_comment_still_gets_a_follow_up(engine: Engine) -> None:
    case_id, maria, _tom = add_case_and_agents(engine)
    add_supervisors(engine)
    recorded = feedback(engine, maria).record(1, case_id, 4, ANGRY, Channel.EMAIL)
    assert recorded.follow_up_task_id is not None


def test_positive_feedback_makes_no_task(engine: Engine) -> None:
    case_id, maria, _tom = add_case_and_agents(engine)
    add_supervisors(engine)
    recorded = feedback(engine, maria).record(1, case_id, 5, "Great help, thanks!", Channel.PHONE)
    assert recorded.follow_up_task_id is None and not recorded.negative
    with Database(engine).read() as session:
        assert session.scalar(select(func.count()).select_from(Task)) == 0
        row = session.get(Feedback, recorded.feedback_id)
        assert row is not None and row.sentiment_score is not None and row.sentiment_score > 0


def test_a_comment_in_german_is_stored_unscored(engine: Engine) -> None:
    case_id, maria, _tom = add_case_and_agents(engine)
    add_supervisors(engine)
    recorded = feedback(engine, maria).record(1, case_id, 3, GERMAN, Channel.MAIL)
    assert not recorded.sentiment.supported and recorded.follow_up_task_id is None
    with Database(engine).read() as session:
        row = session.get(Feedback, recorded.feedback_id)
        assert row is not None
        assert (row.sentiment, row.sentiment_score, row.language) == (Sentiment.NEUTRAL, None, "de")


def test_a_retry_records_nothing_twice(engine: Engine) -> None:
    case_id, maria, _tom = add_case_and_agents(engine)
    add_supervisors(engine)
    first = feedback(engine, maria).record(1, case_id, 1, ANGRY, Channel.PHONE)
    retry = feedback(engine, maria, T0 + dt.timedelta(minutes=2)).record(
        1, case_id, 1, ANGRY, Channel.PHONE
    )
    assert retry.duplicate and not first.duplicate
    assert (retry.feedback_id, retry.follow_up_task_id) == (
        first.feedback_id,
        first.follow_up_task_id,
    )
    later = feedback(engine, maria, T0 + DUPLICATE_WINDOW + dt.timedelta(seconds=1))
    assert not later.record(1, case_id, 1, ANGRY, Channel.PHONE).duplicate
    with Database(engine).read() as session:
        assert session.scalar(select(func.count()).select_from(Feedback)) == 2
        assert session.scalar(select(func.count()).select_from(Task)) == 2


def test_without_a_team_supervisor_the_least_loaded_one_follows_up(engine: Engine) -> None:
    case_id, maria, _tom = add_case_and_agents(engine)
    sups = add_supervisors(engine)
    stranger = dataclasses.replace(maria, user_id=None)  # no team: least loaded wins
    first = feedback(engine, stranger).record(1, case_id, 1, "Awful.", Channel.PHONE)
    second = feedback(engine, stranger).record(1, case_id, 2, "Still awful.", Channel.PHONE)
    with Database(engine).read() as session:
        assignees = [
            session.scalar(select(Task.assignee_id).where(Task.id == r.follow_up_task_id))
            for r in (first, second)
        ]
    assert assignees == [sups["ines"], sups["olga"]]  # lowest id first, then the idle one


def test_bad_input_is_refused_in_words(engine: Engine) -> None:
    case_id, maria, _tom = add_case_and_agents(engine)
    with pytest.raises(UserError, match="from 1 to 5"):
        feedback(engine, maria).record(1, case_id, 6, "ok", Channel.PHONE)
    with pytest.raises(UserError, match="customer 99 does not exist"):
        feedback(engine, maria).record(99, case_id, 3, "ok", Channel.PHONE)


def test_the_operation_names_feedback_case_and_task(engine: Engine) -> None:
    case_id, maria, _tom = add_case_and_agents(engine)
    add_supervisors(engine)
    services = _services_for(engine, maria)
    done = record_feedback(services, 1, case_id, 1, ANGRY, Channel.PHONE)
    assert done.changes.ids(Entity.FEEDBACK) == {done.value.feedback_id}
    assert done.changes.ids(Entity.CASE) == {case_id}
    assert done.changes.ids(Entity.TASK) == {done.value.follow_up_task_id}


def _services_for(engine: Engine, agent: AgentContext) -> Services:
    return build_services(load_settings(), engine).acting_as(agent)
