"""Calls: who is ringing, and what the call leaves on the record.

`match` answers "who is this?" on ringing (E.164 first, then the last digits);
`ring`, `answered`, `ended` and `wrap_up` turn the call into one interaction on the
customer's timeline: a ring records it as rung ("rang" in the call log until a
source reports more), an answer completes it, a hang-up closes it, and a call that
was never answered becomes a missed call with a callback task. A source that reports
only the ring (`rapport pop`) leaves a call that rang: neither answered nor missed.
`pop_log_line` is the one JSON line per pop that IT reads in rapport.log.

Who answers, misses and dials is the injected `AgentContext` (app/agent.py): its
staff id goes on the calls and the callback tasks. The call log (call_log.py) is
inherited, so `services.calls.call_log` lists what is recorded here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import phones
from app.agent import AgentContext
from app.clock import Clock, system_clock
from app.errors import KeyReusedError, UserError
from app.services import views as v
from app.services.call_follow_up import agent_department, call_centre, join_case
from app.services.call_log import CallLog
from app.services.customers import CustomerService
from app.telephony.events import CallEvent
from app.validation import SUMMARY_MAX_CHARS, Checks, check_client_key
from models.database import Database, insert_or_get
from models.enums import (
    Channel,
    CommitmentKind,
    CommitmentStatus,
    Direction,
    InteractionOutcome,
    TaskStatus,
)
from models.limits import (
    CALL_SOURCE_LENGTH,
    FOLLOW_UP_LENGTH,
    LINE_LENGTH,
    PHONE_RAW_LENGTH,
    WORKSTATION_LENGTH,
    WRAP_UP_CODE_LENGTH,
)
from models.people import Department
from models.service import Case, Commitment, Interaction, Task


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


class CallService(CallLog):
    def __init__(
        self,
        db: Database,
        customers: CustomerService,
        default_region: str,
        clock: Clock = system_clock,
        workstation: str | None = None,
        *,
        agent: AgentContext,
    ) -> None:
        super().__init__(db, default_region)
        self._customers = customers
        self.clock = clock
        self.agent = agent
        # login@host of this Rapport: the calls that pop here belong to its call log.
        self.workstation = workstation[:WORKSTATION_LENGTH] if workstation else None

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

    def record_ring(self, event: CallEvent, match: CallMatch) -> int:
        """Record the call as rung, so it is in the call log even when its source never
        reports the answer or the hang-up. The window calls it after the pop is painted
        (a write must not delay the pop); a ring reported twice records one call. Returns
        the interaction's id."""
        with self._db.write() as session:
            interaction_id, _new = insert_or_get(
                session,
                Interaction,
                {
                    **self._call_identity(event),
                    "customer_id": match.customer_id,
                    # No case yet: the agent says in the wrap-up which case the call
                    # was about (the pop offers `match.case_id`).
                    "case_id": None,
                    # Not answered so far; with ended_at still empty the call log reads
                    # it as "rang" (see views.call_outcome), never as missed.
                    "outcome": InteractionOutcome.MISSED,
                },
                CALL_KEY,
            )
            return interaction_id

    def link_caller(self, event: CallEvent, customer_id: int) -> int | None:
        """The unknown caller became a customer during the call: the call is theirs.

        Only a call (and its callback task) that no customer owns yet is changed.
        Returns the call's interaction id (None when the call is not recorded).
        """
        with self._db.write() as session:
            interaction_id = session.scalar(
                select(Interaction.id).where(
                    Interaction.call_source == event.source[:CALL_SOURCE_LENGTH],
                    Interaction.call_id == event.call_id,
                )
            )
            if interaction_id is None:
                return None
            session.execute(
                update(Interaction)
                .where(Interaction.id == interaction_id, Interaction.customer_id.is_(None))
                .values(customer_id=customer_id, version=Interaction.version + 1)
            )
            session.execute(
                update(Task)
                .where(Task.interaction_id == interaction_id, Task.customer_id.is_(None))
                .values(customer_id=customer_id, version=Task.version + 1)
            )
            return interaction_id

    def recent_open_case(self, customer_id: int) -> int | None:
        """The open case a call from this customer is most likely about: the one touched
        last, however long ago (S2: her case is months old and still the point). The pop
        offers it; the wrap-up is where the agent says which case the call was about."""
        with self._db.read() as session:
            return session.scalar(
                select(Case.id)
                .where(
                    Case.customer_id == customer_id,
                    Case.status.in_(("new", "open", "waiting_customer", "waiting_internal")),
                )
                .order_by(Case.updated_at.desc(), Case.id.desc())
                .limit(1)
            )

    def answered(self, event: CallEvent, customer_id: int | None, case_id: int | None) -> int:
        """The call becomes an interaction on the timeline as soon as it is answered.

        Idempotent per (source, call id), also when several threads or processes
        report the same answer at once: the UNIQUE index decides, one row results.
        """
        with self._db.write() as session:
            agent_id = self.agent.user_id
            interaction_id, new = insert_or_get(
                session,
                Interaction,
                {
                    **self._call_identity(event),
                    "customer_id": customer_id,
                    "case_id": case_id,
                    "outcome": InteractionOutcome.COMPLETED,
                    "answered_at": event.at,
                    "agent_id": agent_id,
                },
                CALL_KEY,
            )
            if not new:  # the ring recorded it: complete that record, once
                session.execute(
                    update(Interaction)
                    .where(Interaction.id == interaction_id, Interaction.answered_at.is_(None))
                    .values(
                        outcome=InteractionOutcome.COMPLETED,
                        answered_at=event.at,
                        version=Interaction.version + 1,
                        **_fill_in(agent_id=agent_id, customer_id=customer_id, case_id=case_id),
                    )
                )
            return interaction_id

    def ended(self, event: CallEvent, customer_id: int | None) -> CallRecord:
        """Close the call; one never answered is logged as missed with a callback task.

        Idempotent per (source, call id) like `answered`: a hang-up reported twice
        closes the call once and creates at most one callback task.
        """
        with self._db.write() as session:
            interaction_id, _new = insert_or_get(
                session,
                Interaction,
                {
                    **self._call_identity(event),
                    "customer_id": customer_id,
                    "outcome": InteractionOutcome.MISSED,
                },
                CALL_KEY,
            )
            # Plain UPDATEs guarded by ended_at (version bumped by hand): of two hang-ups
            # of one call racing here, exactly one closes it, the other matches no row
            # (no StaleDataError), so at most one callback task results.
            closed = update(Interaction).where(
                Interaction.id == interaction_id, Interaction.ended_at.is_(None)
            )
            missed = session.execute(
                closed.where(Interaction.answered_at.is_(None)).values(
                    ended_at=event.at,
                    outcome=InteractionOutcome.MISSED,
                    summary=func.coalesce(Interaction.summary, "Missed call"),
                    version=Interaction.version + 1,
                    **_fill_in(customer_id=customer_id),
                )
            )
            callback_task_id = None
            if _rowcount(missed):
                owner = session.scalar(
                    select(Interaction.customer_id).where(Interaction.id == interaction_id)
                )
                callback_task_id = self._callback_task(session, event, owner, interaction_id)
            else:
                session.execute(closed.values(ended_at=event.at, version=Interaction.version + 1))
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
            assignee_id=self.agent.user_id,
            title=f"Call back {event.number}"[:FOLLOW_UP_LENGTH],
            description=f"Missed call at {event.at:%Y-%m-%d %H:%M} UTC",
            status=TaskStatus.OPEN,
            due_at=event.at + dt.timedelta(hours=4),
            interaction_id=interaction_id,
        )
        session.add(task)
        session.flush()
        return task.id

    def _call_identity(self, event: CallEvent) -> dict[str, Any]:
        return {
            "call_source": event.source[:CALL_SOURCE_LENGTH],
            "call_id": event.call_id,
            "channel": Channel.PHONE,
            "direction": Direction.INBOUND,
            "started_at": event.at,
            "phone_number": (event.number or None) and event.number[:PHONE_RAW_LENGTH],
            "phone_extension": event.extension,
            "line": event.line and event.line[:LINE_LENGTH],
            "workstation": self.workstation,
            "version": 1,
        }

    def wrap_up(
        self,
        interaction_id: int,
        code: str,
        summary: str,
        follow_up: str | None,
        client_key: str | None = None,
        *,
        case_id: int | None = None,
        follow_up_window: tuple[dt.datetime | None, dt.datetime] | None = None,
        follow_up_phone_id: int | None = None,
    ) -> int | None:
        """Save the disposition, the summary, the case the call was about and an optional
        follow-up promise.

        `case_id`: the case the agent says the call was about (the pop offers the open
        one); the call joins it with a contact on the case's timeline, so the case's
        contact count moves. None leaves the call's case as it is.
        `follow_up` with `follow_up_window` (from, until): a callback the agent promises,
        a commitment they own (My work, the header and the pop show it); without a
        window it is due within a day. `follow_up_phone_id`: the number to call back on
        (the UI checked it against the customer's contact preferences).

        `client_key` (made by the UI when the wrap-up starts, sent again on retry)
        makes a retry after a lost reply a no-op: the call already carries the key,
        so no second promise is made. The same key with another code or summary is
        refused (`KeyReusedError`); a new key is a correction and saved.

        Returns the follow-up promise's id (None without one, or on a retry).
        """
        if not isinstance(code, str) or not code.strip():
            raise UserError("choose a disposition code")
        checks = Checks()
        code = checks.text(code, "disposition code", WRAP_UP_CODE_LENGTH)
        summary = checks.text(summary, "summary", SUMMARY_MAX_CHARS, multiline=True)
        follow_up = checks.text(follow_up or "", "follow-up", FOLLOW_UP_LENGTH)
        checks.raise_if_any()
        key = check_client_key(client_key)
        with self._db.write() as session:
            # Locked: a retry racing the first save waits for it and then sees its key.
            interaction = session.get(Interaction, interaction_id, with_for_update=True)
            if interaction is None:
                raise UserError(f"call {interaction_id} is not on record")
            if key is not None and interaction.wrap_up_key == key:
                if interaction.wrap_up_code != code or (summary and interaction.summary != summary):
                    raise KeyReusedError(
                        "wrap-up: already saved with a different code or summary before the "
                        "connection dropped; save again to correct it"
                    )
                return None
            interaction.wrap_up_code = code
            interaction.summary = summary or interaction.summary
            interaction.wrap_up_key = key
            now = self.clock()
            if case_id is not None:
                join_case(session, interaction, case_id, code, self.agent, now)
            if not follow_up:
                return None
            due_from, due_until = follow_up_window or (None, now + dt.timedelta(days=1))
            if due_until <= now or (due_from is not None and due_from >= due_until):
                raise UserError("the follow-up's window must end after it starts, later")
            if interaction.customer_id is None:
                # An unknown caller: nobody to promise to; a task to call the number back.
                session.add(
                    Task(
                        customer_id=None,
                        case_id=interaction.case_id,
                        department_id=agent_department(session, self.agent) or call_centre(session),
                        assignee_id=self.agent.user_id,
                        title=follow_up,
                        status=TaskStatus.OPEN,
                        due_at=due_until,
                        interaction_id=interaction.id,
                    )
                )
                return None
            promise = Commitment(
                customer_id=interaction.customer_id,
                case_id=interaction.case_id,
                kind=CommitmentKind.CALLBACK,
                description=follow_up,
                owner_id=self.agent.user_id,
                created_by_id=self.agent.user_id,
                department_id=agent_department(session, self.agent),
                due_from=due_from,
                due_until=due_until,
                contact_channel=Channel.PHONE,
                contact_phone_id=follow_up_phone_id,
                status=CommitmentStatus.OPEN,
                created_at=now,
            )
            session.add(promise)
            session.flush()
            return promise.id

    def record_dial(
        self,
        number: str,
        customer_id: int | None,
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
                agent_id=self.agent.user_id,
                call_id=f"dial-{uuid.uuid4().hex}",
                call_source="dial",
                phone_number=number,
                line=line,
                workstation=self.workstation,
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


def _fill_in(**known: int | None) -> dict[str, Any]:
    """Values for the columns a later event knows and the record does not have yet."""
    return {
        name: func.coalesce(getattr(Interaction, name), value)
        for name, value in known.items()
        if value is not None
    }


def _rowcount(result: Any) -> int:
    return int(result.rowcount)
