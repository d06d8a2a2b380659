"""Calls: who is ringing, and what the call leaves on the record.

`match` answers "who is this?" on ringing (E.164 first, then the last digits);
`answered`, `ended` and `wrap_up` turn the call into an interaction on the
customer's timeline; a call that was never answered becomes a callback task.
`pop_log_line` is the one JSON line per pop that IT reads in rapport.log.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import phones
from app.errors import UserError
from app.services import views as v
from app.services.customers import CustomerService
from app.telephony.events import CallEvent
from models.base import utcnow
from models.database import Database
from models.enums import Channel, Direction, InteractionOutcome, TaskStatus
from models.people import Department, User
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


def pop_log_line(event: CallEvent, match: CallMatch, latency_ms: float) -> str:
    """One JSON line: enough to answer "why did it not pop?" without the database."""
    return json.dumps(
        {
            "event": "pop",
            "source": event.source,
            "call_id": event.call_id,
            "number": event.number,
            "normalized": match.e164,
            "match": match.result,
            "customer_id": match.customer_id,
            "candidates": [h.customer_id for h in match.customers][:10],
            "latency_ms": round(latency_ms, 1),
        }
    )


class CallService:
    def __init__(self, db: Database, customers: CustomerService, default_region: str) -> None:
        self._db = db
        self._customers = customers
        self.default_region = default_region

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

    def recent_open_case(self, customer_id: int) -> int | None:
        since = utcnow() - dt.timedelta(days=RECENT_CASE_DAYS)
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
        """The call becomes an interaction on the timeline as soon as it is answered."""
        with self._db.write() as session:
            existing = session.scalar(
                select(Interaction).where(Interaction.call_id == event.call_id)
            )
            if existing is not None:  # the same call reported twice (two adapters)
                return existing.id
            interaction = Interaction(
                customer_id=customer_id,
                case_id=case_id,
                channel=Channel.PHONE,
                direction=Direction.INBOUND,
                outcome=InteractionOutcome.COMPLETED,
                started_at=event.at,
                answered_at=event.at,
                agent_id=_user_id(session, agent),
                call_id=event.call_id,
                phone_number=event.number or None,
            )
            session.add(interaction)
            session.flush()
            return interaction.id

    def ended(self, event: CallEvent, customer_id: int | None, agent: str | None) -> CallRecord:
        """Close the call; one never answered is logged as missed with a callback task."""
        with self._db.write() as session:
            interaction = session.scalar(
                select(Interaction).where(Interaction.call_id == event.call_id)
            )
            if interaction is None:
                interaction = Interaction(
                    customer_id=customer_id,
                    channel=Channel.PHONE,
                    direction=Direction.INBOUND,
                    outcome=InteractionOutcome.MISSED,
                    started_at=event.at,
                    call_id=event.call_id,
                    phone_number=event.number or None,
                    summary="Missed call",
                )
                session.add(interaction)
                session.flush()
                department = session.scalar(
                    select(Department.id).where(Department.code == "call_centre")
                )
                if department is not None and event.number and not event.withheld:
                    session.add(
                        Task(
                            customer_id=customer_id,
                            department_id=department,
                            assignee_id=_user_id(session, agent),
                            title=f"Call back {event.number}",
                            description=f"Missed call at {event.at:%Y-%m-%d %H:%M} UTC",
                            status=TaskStatus.OPEN,
                            due_at=event.at + dt.timedelta(hours=4),
                        )
                    )
            interaction.ended_at = event.at
            duration = None
            if interaction.answered_at is not None:
                duration = int((event.at - interaction.answered_at).total_seconds())
            return CallRecord(
                interaction.id, interaction.customer_id, interaction.case_id, duration
            )

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
                            due_at=utcnow() + dt.timedelta(days=1),
                        )
                    )

    def call_log(self, limit: int = 200) -> list[dict[str, object]]:
        """Recent calls, answered and missed, newest first."""
        with self._db.read() as session:
            rows = session.scalars(
                select(Interaction)
                .where(Interaction.channel == Channel.PHONE, Interaction.call_id.is_not(None))
                .order_by(Interaction.started_at.desc())
                .limit(limit)
            ).all()
            return [
                {
                    "interaction_id": i.id,
                    "customer_id": i.customer_id,
                    "number": i.phone_number,
                    "started_at": i.started_at,
                    "outcome": i.outcome.value,
                    "wrap_up_code": i.wrap_up_code,
                }
                for i in rows
            ]


def _user_id(session: Session, login: str | None) -> int | None:
    if not login:
        return None
    return session.scalar(select(User.id).where(User.login == login))
