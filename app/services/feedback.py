"""Feedback (S5): a rating and a comment, on the case and the customer, scored offline.

Negative feedback (a rating of 2 or less, or a comment that scores negative) creates a
follow-up task for a call-centre supervisor, linked to the case, so that an unhappy
customer is always called back by someone who can make it right.

Which supervisor: the recording agent's team supervisor (an active supervisor of the
call centre with the same `team`), else the least loaded one (fewest open tasks), the
lowest id breaking ties. Deterministic, so a retry and a test get the same answer.

Retries: the schema has no client key for feedback, so a retry is recognised by its
content: the same customer, case, rating and text recorded within `DUPLICATE_WINDOW`
returns the first record instead of adding a second one (and a second task). Two
identical ratings from one customer minutes apart are, in practice, the same rating.
Recording takes the customer's row lock first, so two racing retries see each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.agent import AgentContext
from app.clock import Clock, system_clock
from app.errors import UserError
from app.sentiment import SentimentResult, score
from app.validation import NOTE_MAX_CHARS, check_text
from models.database import Database
from models.enums import CaseEventKind, Channel, Role, Sentiment, TaskStatus
from models.people import Customer, Department, User
from models.service import Case, CaseEvent, Feedback, Task

DUPLICATE_WINDOW = dt.timedelta(minutes=10)
NEGATIVE_RATING = 2  # this rating or lower is negative whatever the comment says
FOLLOW_UP_WITHIN = dt.timedelta(days=1)
FOLLOW_UP_DEPARTMENT = "call_centre"
_OPEN_TASK = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


@dataclass(frozen=True)
class RecordedFeedback:
    feedback_id: int
    customer_id: int
    case_id: int | None
    rating: int
    sentiment: SentimentResult
    follow_up_task_id: int | None
    follow_up_assignee: str | None  # the supervisor's name, when a follow-up was made
    duplicate: bool  # a retry: the feedback recorded the first time

    @property
    def negative(self) -> bool:
        return self.rating <= NEGATIVE_RATING or self.sentiment.sentiment == Sentiment.NEGATIVE


class FeedbackService:
    def __init__(self, db: Database, clock: Clock = system_clock, *, agent: AgentContext) -> None:
        self._db = db
        self.clock = clock
        self.agent = agent

    def record(
        self,
        customer_id: int,
        case_id: int | None,
        rating: int,
        text: str | None,
        source: Channel,
        interaction_id: int | None = None,
    ) -> RecordedFeedback:
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise UserError("the rating must be a whole number from 1 to 5")
        comment = check_text(text or "", "comment", NOTE_MAX_CHARS, multiline=True) or None
        # Scored before the transaction: loading the models must not hold a lock.
        result = score(comment)
        now = self.clock()
        with self._db.write() as session:
            customer = session.scalar(
                select(Customer).where(Customer.id == customer_id).with_for_update()
            )
            if customer is None:
                raise UserError(f"customer {customer_id} does not exist")
            case = self._case(session, case_id, customer_id)
            earlier = self._earlier(session, customer_id, case_id, rating, comment, now)
            if earlier is not None:
                return self._recorded(session, earlier, result, duplicate=True)
            feedback = Feedback(
                customer_id=customer_id,
                case_id=case_id,
                interaction_id=interaction_id,
                rating=rating,
                sentiment=result.sentiment,
                text=comment,
                source=source,
                received_at=now,
                sentiment_score=result.score,
                language=result.language,
                recorded_by_id=self.agent.user_id,
            )
            session.add(feedback)
            session.flush()
            negative = rating <= NEGATIVE_RATING or result.sentiment == Sentiment.NEGATIVE
            if negative:
                feedback.follow_up_task_id = self._follow_up(session, feedback, case, now)
            if case is not None:
                session.add(
                    CaseEvent(
                        case_id=case.id,
                        at=now,
                        kind=CaseEventKind.FEEDBACK,
                        author_id=self.agent.user_id,
                        department_id=self._department_of_agent(session),
                        body=f"Rated {rating}/5" + (f": {comment}" if comment else ""),
                        data={
                            "feedback_id": feedback.id,
                            "rating": rating,
                            "sentiment": result.sentiment.value,
                            "language": result.language,
                            "follow_up_task_id": feedback.follow_up_task_id,
                        },
                    )
                )
            session.flush()
            return self._recorded(session, feedback, result, duplicate=False)

    def _case(self, session: Session, case_id: int | None, customer_id: int) -> Case | None:
        if case_id is None:
            return None
        case = session.get(Case, case_id)
        if case is None or case.customer_id != customer_id:
            raise UserError(f"case {case_id} is not a case of customer {customer_id}")
        return case

    def _earlier(
        self,
        session: Session,
        customer_id: int,
        case_id: int | None,
        rating: int,
        comment: str | None,
        now: dt.datetime,
    ) -> Feedback | None:
        same_case = Feedback.case_id.is_(None) if case_id is None else Feedback.case_id == case_id
        same_text = Feedback.text.is_(None) if comment is None else Feedback.text == comment
        return session.scalars(
            select(Feedback)
            .where(
                Feedback.customer_id == customer_id,
                same_case,
                same_text,
                Feedback.rating == rating,
                Feedback.received_at >= now - DUPLICATE_WINDOW,
            )
            .order_by(Feedback.id)
            .limit(1)
        ).first()

    def _follow_up(
        self, session: Session, feedback: Feedback, case: Case | None, now: dt.datetime
    ) -> int:
        department = session.scalar(
            select(Department.id).where(Department.code == FOLLOW_UP_DEPARTMENT)
        )
        if department is None:
            raise UserError(
                "negative feedback needs a call-centre supervisor to follow up, "
                "but there is no call centre department"
            )
        about = f" on {case.reference}" if case is not None else ""
        task = Task(
            case_id=case.id if case is not None else None,
            customer_id=feedback.customer_id,
            department_id=department,
            assignee_id=self._supervisor(session, department),
            title=f"Negative feedback{about}: rated {feedback.rating}/5 — call the customer",
            description=feedback.text,
            status=TaskStatus.OPEN,
            due_at=now + FOLLOW_UP_WITHIN,
            created_by_id=self.agent.user_id,
            created_at=now,
            interaction_id=feedback.interaction_id,
        )
        session.add(task)
        session.flush()
        return task.id

    def _supervisor(self, session: Session, department: int) -> int | None:
        """The agent's team supervisor, else the least loaded one (see the module doc)."""
        supervisors = (
            User.role == Role.SUPERVISOR,
            User.active.is_(True),
            User.department_id == department,
        )
        team = (
            session.scalar(select(User.team).where(User.id == self.agent.user_id))
            if self.agent.user_id is not None
            else None
        )
        if team is not None:
            same_team = session.scalar(
                select(User.id).where(*supervisors, User.team == team).order_by(User.id).limit(1)
            )
            if same_team is not None:
                return same_team
        open_tasks = (
            select(func.count(Task.id))
            .where(Task.assignee_id == User.id, Task.status.in_(_OPEN_TASK))
            .correlate(User)
            .scalar_subquery()
        )
        return session.scalar(
            select(User.id).where(*supervisors).order_by(open_tasks, User.id).limit(1)
        )

    def _department_of_agent(self, session: Session) -> int | None:
        if self.agent.user_id is None:
            return None
        return session.scalar(select(User.department_id).where(User.id == self.agent.user_id))

    def _recorded(
        self, session: Session, feedback: Feedback, result: SentimentResult, *, duplicate: bool
    ) -> RecordedFeedback:
        assignee = None
        if feedback.follow_up_task_id is not None:
            assignee = session.scalar(
                select(User.display_name)
                .join(Task, Task.assignee_id == User.id)
                .where(Task.id == feedback.follow_up_task_id)
            )
        return RecordedFeedback(
            feedback_id=feedback.id,
            customer_id=feedback.customer_id,
            case_id=feedback.case_id,
            rating=feedback.rating or 0,
            sentiment=result,
            follow_up_task_id=feedback.follow_up_task_id,
            follow_up_assignee=assignee,
            duplicate=duplicate,
        )
