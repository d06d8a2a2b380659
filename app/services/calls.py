"""Calls: who is ringing, and what the call leaves on the record.

`match` answers "who is this?" on ringing (E.164 first, then the last digits);
`answered`, `ended` and `wrap_up` turn the call into an interaction on the
customer's timeline; a call that was never answered becomes a callback task.
`pop_log_line` is the one JSON line per pop that IT reads in rapport.log.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, or_, select, update
from sqlalchemy.orm import Session

from app import phones
from app.clock import Clock, system_clock
from app.errors import UserError
from app.services import views as v
from app.services.customers import CustomerService
from app.telephony.events import CallEvent
from models.database import Database, insert_or_get
from models.enums import Channel, Direction, InteractionOutcome, TaskStatus
from models.limits import CALL_SOURCE_LENGTH, FOLLOW_UP_LENGTH, LINE_LENGTH, PHONE_RAW_LENGTH
from models.people import Customer, Department, User
from models.service import Case, Interaction, Task

RECENT_CASE_DAYS = 14


@dataclass(frozen=True)
class CallMatch:
    """What a ringing number resolved to."""

    number: str  # as given by the source
    e164: str | None
    result: str  # "one", "several", "none", "withheld"
    customers: tuple[v.SearchHit, ...]
    case_id: int | None = None  # an open case with recent activity, to focus

    @property
    def customer_id(self) -> int | None:
        return self.customers[0].customer_id if self.result == "one" else None


@dataclass(frozen=True)
class CallRecord:
    interaction_id: int
    customer_id: int | None
    case_id: int | None
    duration_s: int | None
    callback_task_id: int | None = None  # the task a missed call created, if any


def pop_log_line(event: CallEvent, match: CallMatch, latency_ms: float) -> str:
    """One JSON line: enough to answer "why did it not pop?" without the database."""
    return json.dumps(
        {
            "event": "pop",
            "source": event.source,
            "call_id": event.call_id,
            "number": event.number,
            "extension": event.extension,
            "normalized": match.e164,
            "match": match.result,
            "customer_id": match.customer_id,
            "candidates": [h.customer_id for h in match.customers][:10],
            "latency_ms": round(latency_ms, 1),
        }
    )


class CallService:
    def __init__(
        self,
        db: Database,
        customers: CustomerService,
        default_region: str,
        clock: Clock = system_clock,
    ) -> None:
        self._db = db
        self._customers = customers
        self.default_region = default_region
        self.clock = clock

    def match(self, event: CallEvent) -> CallMatch:
        if event.withheld:
            return CallMatch(event.number, None, "withheld", ())
        query = phones.normalize(event.number, self.default_region)
        try:
            hits = self._customers.find_by_phone(event.number)
        except UserError:
            hits = []
        if not hits:
            return CallMatch(event.number, query.e164, "none", ())
        if len(hits) > 1:
            return CallMatch(event.number, query.e164, "several", tuple(hits))
        return CallMatch(
            event.number, query.e164, "one", tuple(hits), self.recent_open_case(hits[0].customer_id)
        )

    def ring(self, event: CallEvent) -> tuple[CallMatch, v.CustomerView | None]:
        """Who is ringing and, when it is one customer, their record: a pop's one worker trip."""
        match = self.match(event)
        if match.customer_id is None:
            return match, None
        try:
            return match, self._customers.load_customer(match.customer_id)
        except UserError:  # merged or deleted since the match: pop as unknown
            return dataclasses.replace(match, result="none", customers=()), None

    def recent_open_case(self, customer_id: int) -> int | None:
        since = self.clock() - dt.timedelta(days=RECENT_CASE_DAYS)
        with self._db.read() as session:
            return session.scalar(
                select(Case.id)
                .where(
                    Case.customer_id == customer_id,
                    Case.status.in_(("new", "open", "waiting_customer", "waiting_internal")),
                    Case.updated_at >= since,
                )
                .order_by(Case.updated_at.desc())
                .limit(1)
            )

    def answered(
        self, event: CallEvent, customer_id: int | None, case_id: int | None, agent: str | None
    ) -> int:
        """The call becomes an interaction on the timeline as soon as it is answered.

        Idempotent per (source, call id), also when several threads or processes
        report the same answer at once: the UNIQUE index decides, one row results.
        """
        with self._db.write() as session:
            interaction_id, _new = insert_or_get(
                session,
                Interaction,
                {
                    **_call_identity(event),
                    "customer_id": customer_id,
                    "case_id": case_id,
                    "outcome": InteractionOutcome.COMPLETED,
                    "answered_at": event.at,
                    "agent_id": _user_id(session, agent),
                },
                CALL_KEY,
            )
            return interaction_id

    def ended(self, event: CallEvent, customer_id: int | None, agent: str | None) -> CallRecord:
        """Close the call; one never answered is logged as missed with a callback task.

        Idempotent per (source, call id) like `answered`: a hang-up reported twice
        closes the call once and creates at most one callback task.
        """
        with self._db.write() as session:
            interaction_id, new = insert_or_get(
                session,
                Interaction,
                {
                    **_call_identity(event),
                    "customer_id": customer_id,
                    "outcome": InteractionOutcome.MISSED,
                    "summary": "Missed call",
                },
                CALL_KEY,
            )
            callback_task_id = None
            if new:
                callback_task_id = self._callback_task(
                    session, event, customer_id, agent, interaction_id
                )
            # A plain UPDATE (version bumped by hand): two hang-ups of one call racing
            # here must not turn into a StaleDataError for the second.
            session.execute(
                update(Interaction)
                .where(Interaction.id == interaction_id, Interaction.ended_at.is_(None))
                .values(ended_at=event.at, version=Interaction.version + 1)
            )
            row = session.execute(
                select(
                    Interaction.customer_id,
                    Interaction.case_id,
                    Interaction.answered_at,
                    Interaction.ended_at,
                ).where(Interaction.id == interaction_id)
            ).one()
            duration = None
            if row.answered_at is not None and row.ended_at is not None:
                duration = int((row.ended_at - row.answered_at).total_seconds())
            return CallRecord(
                interaction_id, row.customer_id, row.case_id, duration, callback_task_id
            )

    def _callback_task(
        self,
        session: Session,
        event: CallEvent,
        customer_id: int | None,
        agent: str | None,
        interaction_id: int,
    ) -> int | None:
        """A task to call a missed caller back: none for a withheld number or without a
        call-centre department (the caller is then told no task was made)."""
        department = session.scalar(select(Department.id).where(Department.code == "call_centre"))
        if department is None or not event.number or event.withheld:
            return None
        task = Task(
            customer_id=customer_id,
            department_id=department,
            assignee_id=_user_id(session, agent),
            title=f"Call back {event.number}"[:FOLLOW_UP_LENGTH],
            description=f"Missed call at {event.at:%Y-%m-%d %H:%M} UTC",
            status=TaskStatus.OPEN,
            due_at=event.at + dt.timedelta(hours=4),
            interaction_id=interaction_id,
        )
        session.add(task)
        session.flush()
        return task.id

    def wrap_up(self, interaction_id: int, code: str, summary: str, follow_up: str | None) -> None:
        if not code.strip():
            raise UserError("choose a disposition code")
        with self._db.write() as session:
            interaction = session.get(Interaction, interaction_id)
            if interaction is None:
                raise UserError(f"call {interaction_id} is not on record")
            interaction.wrap_up_code = code.strip()[:40]
            interaction.summary = summary.strip() or interaction.summary
            if follow_up and follow_up.strip():
                department = session.scalar(
                    select(Department.id).where(Department.code == "call_centre")
                )
                if department is not None:
                    session.add(
                        Task(
                            customer_id=interaction.customer_id,
                            case_id=interaction.case_id,
                            department_id=department,
                            assignee_id=interaction.agent_id,
                            title=follow_up.strip()[:200],
                            status=TaskStatus.OPEN,
                            due_at=self.clock() + dt.timedelta(days=1),
                        )
                    )

    def call_log(
        self,
        agent: str | None = None,
        line: str | None = None,
        missed_only: bool = False,
        limit: int = 200,
    ) -> list[v.CallLogEntry]:
        """Calls newest first: those of `agent` or on `line` (all when both are None)."""
        agent_user = User.__table__.alias("agent_user")
        query = (
            select(
                Interaction.id,
                Interaction.started_at,
                Interaction.answered_at,
                Interaction.ended_at,
                Interaction.direction,
                Interaction.outcome,
                Interaction.phone_number,
                Interaction.customer_id,
                Customer.first_name,
                Customer.last_name,
                Interaction.wrap_up_code,
                agent_user.c.login,
                Interaction.line,
                Task.id,
                Task.status,
            )
            .outerjoin(Customer, Customer.id == Interaction.customer_id)
            .outerjoin(agent_user, agent_user.c.id == Interaction.agent_id)
            .outerjoin(Task, Task.interaction_id == Interaction.id)
            .where(Interaction.channel == Channel.PHONE, Interaction.call_id.is_not(None))
            .order_by(Interaction.started_at.desc(), Interaction.id.desc())
            .limit(limit)
        )
        if missed_only:
            query = query.where(Interaction.outcome == InteractionOutcome.MISSED)
        with self._db.read() as session:
            if agent or line:
                agent_id = _user_id(session, agent)  # None (no such user) must not match NULL
                query = query.where(
                    or_(
                        Interaction.agent_id == agent_id if agent_id is not None else false(),
                        Interaction.line == line if line else false(),
                    )
                )
            rows = session.execute(query).all()
        return [
            v.CallLogEntry(
                interaction_id=r[0],
                started_at=r[1],
                direction=r[4].value,
                outcome=r[5].value,
                number=r[6],
                customer_id=r[7],
                customer_name=f"{r[8]} {r[9]}" if r[8] is not None else None,
                duration_s=int((r[3] - r[2]).total_seconds()) if r[2] and r[3] else None,
                wrap_up_code=r[10],
                agent=r[11],
                line=r[12],
                callback_task_id=r[13],
                callback_status=r[14].value if r[14] is not None else None,
            )
            for r in rows
        ]

    def record_dial(
        self,
        number: str,
        customer_id: int | None,
        agent: str | None,
        line: str | None,
        callback_task_id: int | None = None,
    ) -> int:
        """Click-to-call: log the outgoing call; dialling a callback closes its task."""
        with self._db.write() as session:
            now = self.clock()
            interaction = Interaction(
                customer_id=customer_id,
                channel=Channel.PHONE,
                direction=Direction.OUTBOUND,
                outcome=InteractionOutcome.COMPLETED,
                started_at=now,
                agent_id=_user_id(session, agent),
                call_id=f"dial-{uuid.uuid4().hex}",
                call_source="dial",
                phone_number=number,
                line=line,
                summary="Called back" if callback_task_id else "Outgoing call",
            )
            session.add(interaction)
            if callback_task_id is not None:
                task = session.get(Task, callback_task_id)
                if task is not None and task.status in (TaskStatus.OPEN, TaskStatus.IN_PROGRESS):
                    task.status = TaskStatus.DONE
                    task.completed_at = now
            session.flush()
            return interaction.id


# What makes a call one call, whichever adapter reports it again.
CALL_KEY = ("call_source", "call_id")


def _call_identity(event: CallEvent) -> dict[str, Any]:
    return {
        "call_source": event.source[:CALL_SOURCE_LENGTH],
        "call_id": event.call_id,
        "channel": Channel.PHONE,
        "direction": Direction.INBOUND,
        "started_at": event.at,
        "phone_number": (event.number or None) and event.number[:PHONE_RAW_LENGTH],
        "phone_extension": event.extension,
        "line": event.line and event.line[:LINE_LENGTH],
        "version": 1,
    }


def _user_id(session: Session, login: str | None) -> int | None:
    if not login:
        return None
    return session.scalar(select(User.id).where(User.login == login))
