"""Commitments: promises made to a customer, kept, cancelled or broken.

A promise that means contacting the customer (a callback, a follow-up call after a
delivery) is checked against their contact preferences (app/contact_rules.py) when it is
made; a violation raises `PreferenceWarning` with the violations in words and the allowed
choice, unless the agent accepted the warning. Preference hours are read in `zone`, the
agent's calendar zone (the customer's own zone is not stored).

The one rule that breaks promises is `break_overdue(now)`: every open commitment whose
window has passed becomes broken, at the moment it broke (its `due_until`), with a case
event. It is idempotent; a promise is never dropped silently. Before the sweep runs the
read side still shows such a promise as overdue (open and past due, from the clock).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app import phones
from app.agent import AgentContext
from app.clock import Clock, system_clock
from app.contact_rules import Preference, Route, RuleCheck, Suggestion, check_contact
from app.errors import ConflictError, UserError
from app.validation import check_text
from models.database import Database
from models.enums import (
    CaseEventKind,
    Channel,
    CommitmentKind,
    CommitmentStatus,
)
from models.people import ContactPreference, Customer, CustomerPhone, Department, User
from models.service import Case, CaseEvent, Commitment

DESCRIPTION_MAX_CHARS = 300
CONTACT_KINDS = frozenset({CommitmentKind.CALLBACK, CommitmentKind.FOLLOW_UP})
_BLOCKING_FLAGS = {
    Channel.PHONE: "do_not_call",
    Channel.EMAIL: "do_not_email",
    Channel.SMS: "do_not_sms",
    Channel.MAIL: "do_not_mail",
}


class CommitmentConflict(ConflictError):
    """The commitment changed since it was loaded."""


class PreferenceWarning(UserError):
    """The planned contact goes against the customer's preferences; make it again with
    `accept_warning=True` to keep it, or take `suggestion`."""

    def __init__(self, check: RuleCheck) -> None:
        self.violations = check.violations
        self.suggestion: Suggestion | None = check.suggestion
        lines = list(check.violations)
        if check.suggestion is not None:
            lines.append(f"Allowed: {check.suggestion.describe()}")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class CommitmentView:
    id: int
    version: int
    customer_id: int
    case_id: int | None
    kind: str
    description: str
    status: str
    due_from: dt.datetime | None
    due_until: dt.datetime
    owner_id: int | None
    broken_at: dt.datetime | None
    resolved_at: dt.datetime | None
    resolved_by_id: int | None


@dataclass(frozen=True)
class DialCheck:
    check: RuleCheck
    allowed_number: str | None  # the number to offer instead (E.164 when known)


def local_zone(clock: Clock) -> dt.tzinfo:
    """The agent's calendar zone: the machine's, at the clock's instant."""
    zone = clock().astimezone().tzinfo
    assert zone is not None  # astimezone() always attaches one
    return zone


class CommitmentService:
    def __init__(
        self,
        db: Database,
        clock: Clock = system_clock,
        *,
        agent: AgentContext,
        region: str = "US",
        zone: dt.tzinfo | None = None,
    ) -> None:
        self._db = db
        self.clock = clock
        self.agent = agent
        self._region = region
        self._zone = zone

    @property
    def zone(self) -> dt.tzinfo:
        return self._zone or local_zone(self.clock)

    def make_commitment(
        self,
        customer_id: int,
        case_id: int | None,
        kind: CommitmentKind,
        description: str,
        due_from: dt.datetime | None,
        due_until: dt.datetime,
        owner_id: int | None = None,
        department_id: int | None = None,
        contact_channel: Channel | None = None,
        contact_phone_id: int | None = None,
        accept_warning: bool = False,
    ) -> CommitmentView:
        text = check_text(description, "description", DESCRIPTION_MAX_CHARS, required=True)
        kind = CommitmentKind(kind)  # a Qt combo box hands the enum back as plain text
        contact_channel = Channel(contact_channel) if contact_channel else None
        if due_from is not None and due_from > due_until:
            raise UserError("the promise's window ends before it starts")
        if kind in CONTACT_KINDS and contact_channel is None:
            contact_channel = Channel.PHONE
        with self._db.write() as session:
            customer = session.get(Customer, customer_id)
            if customer is None:
                raise UserError(f"customer {customer_id} does not exist")
            case_ = session.get(Case, case_id) if case_id is not None else None
            if case_id is not None and (case_ is None or case_.customer_id != customer_id):
                raise UserError(f"case {case_id} is not a case of this customer")
            if department_id is not None and session.get(Department, department_id) is None:
                raise UserError(f"department {department_id} does not exist")
            if contact_phone_id is not None:
                phone = session.get(CustomerPhone, contact_phone_id)
                if phone is None or phone.customer_id != customer_id:
                    raise UserError("that number is not one of this customer's")
            if contact_channel is not None and not accept_warning:
                check = self._check(
                    session, customer, contact_channel, contact_phone_id, due_from, due_until
                )
                if not check.ok:
                    raise PreferenceWarning(check)
            owner = owner_id if owner_id is not None else self.agent.user_id
            commitment = Commitment(
                customer_id=customer_id,
                case_id=case_id,
                description=text,
                owner_id=owner,
                department_id=department_id,
                due_from=due_from,
                due_until=due_until,
                status=CommitmentStatus.OPEN,
                created_at=self.clock(),
                kind=kind,
                contact_channel=contact_channel,
                contact_phone_id=contact_phone_id,
                created_by_id=self.agent.user_id,
            )
            session.add(commitment)
            session.flush()
            self._event(session, commitment, f"Promised: {text} (by {due_until:%d %b %H:%M})")
            return _view(commitment)

    def check_contact(
        self,
        customer_id: int,
        channel: Channel,
        phone_id: int | None,
        start: dt.datetime,
        end: dt.datetime | None = None,
    ) -> RuleCheck:
        """The rule check alone (the dial action asks before it dials)."""
        with self._db.read() as session:
            customer = session.get(Customer, customer_id)
            if customer is None:
                raise UserError(f"customer {customer_id} does not exist")
            return self._check(session, customer, channel, phone_id, start, end or start)

    def phones_of(self, customer_id: int) -> list[tuple[int, str]]:
        """The customer's numbers for a promise: (id, "work +1 617-555-0199"), the ones
        they asked us not to use marked (choosing one still warns, with the reason)."""
        with self._db.read() as session:
            avoided = set(
                session.scalars(
                    select(ContactPreference.phone_id).where(
                        ContactPreference.customer_id == customer_id,
                        ContactPreference.avoid.is_(True),
                    )
                )
            )
            numbers = session.scalars(
                select(CustomerPhone)
                .where(CustomerPhone.customer_id == customer_id)
                .order_by(CustomerPhone.is_primary.desc(), CustomerPhone.id)
            ).all()
            return [
                (p.id, self._label(p) + (" (asked not to use)" if p.id in avoided else ""))
                for p in numbers
            ]

    def dial_check(self, customer_id: int, number: str) -> DialCheck:
        """Before dialling `number` of the customer: is it a number (or the phone) they
        asked us not to use? Hours are not checked (the agent calling sees the clock);
        the suggestion is the allowed number to call instead."""
        e164 = phones.normalize(number, self._region).e164
        with self._db.read() as session:
            customer = session.get(Customer, customer_id)
            if customer is None:
                raise UserError(f"customer {customer_id} does not exist")
            phone_id = session.scalar(
                select(CustomerPhone.id).where(
                    CustomerPhone.customer_id == customer_id,
                    CustomerPhone.e164 == e164 if e164 else CustomerPhone.raw == number,
                )
            )
            now = _aware(self.clock())
            check = self._check(session, customer, Channel.PHONE, phone_id, now, now, hours=False)
            allowed = None
            if check.suggestion is not None and check.suggestion.route.phone_id is not None:
                phone = session.get(CustomerPhone, check.suggestion.route.phone_id)
                allowed = (phone.e164 or phone.raw) if phone else None
            return DialCheck(check, allowed)

    def keep(self, commitment_id: int, expected_version: int) -> CommitmentView:
        return self._resolve(commitment_id, expected_version, CommitmentStatus.KEPT, None)

    def cancel(self, commitment_id: int, expected_version: int, reason: str) -> CommitmentView:
        text = check_text(reason, "reason", DESCRIPTION_MAX_CHARS, required=True)
        return self._resolve(commitment_id, expected_version, CommitmentStatus.CANCELLED, text)

    def break_overdue(self, now: dt.datetime) -> list[int]:
        """Break every open commitment whose window has passed; the ids broken now."""
        broken: list[int] = []
        with self._db.write() as session:
            overdue = session.scalars(
                select(Commitment)
                .where(Commitment.status == CommitmentStatus.OPEN, Commitment.due_until < now)
                .order_by(Commitment.due_until, Commitment.id)
                .with_for_update(skip_locked=True)
            ).all()
            for commitment in overdue:
                commitment.status = CommitmentStatus.BROKEN
                commitment.broken_at = commitment.due_until
                commitment.resolved_by_id = None
                self._event(
                    session,
                    commitment,
                    f"Broken: {commitment.description} (due {commitment.due_until:%d %b %H:%M})",
                    at=now,
                    author=False,
                )
                broken.append(commitment.id)
            session.flush()
        return broken

    def _resolve(
        self,
        commitment_id: int,
        expected_version: int,
        status: CommitmentStatus,
        reason: str | None,
    ) -> CommitmentView:
        try:
            with self._db.write() as session:
                commitment = session.get(Commitment, commitment_id)
                if commitment is None:
                    raise UserError(f"commitment {commitment_id} does not exist")
                if commitment.version != expected_version:
                    raise CommitmentConflict(
                        "Someone else changed this promise since you opened it "
                        f"(it is now {commitment.status.value}); reload it"
                    )
                if commitment.status != CommitmentStatus.OPEN:
                    raise UserError(f"the promise is already {commitment.status.value}")
                commitment.status = status
                commitment.resolved_at = self.clock()
                commitment.resolved_by_id = self.agent.user_id
                commitment.cancel_reason = reason
                session.flush()
                verb = "Kept" if status == CommitmentStatus.KEPT else "Cancelled"
                body = f"{verb}: {commitment.description}" + (f" - {reason}" if reason else "")
                self._event(session, commitment, body)
                return _view(commitment)
        except StaleDataError:
            raise CommitmentConflict(
                "Someone else changed this promise while you were saving; reload it"
            ) from None

    def _check(
        self,
        session: Session,
        customer: Customer,
        channel: Channel,
        phone_id: int | None,
        start: dt.datetime | None,
        end: dt.datetime,
        *,
        hours: bool = True,
    ) -> RuleCheck:
        phone_rows = session.scalars(
            select(CustomerPhone).where(CustomerPhone.customer_id == customer.id)
        ).all()
        labels = {p.id: self._label(p) for p in phone_rows}
        prefs = session.scalars(
            select(ContactPreference).where(ContactPreference.customer_id == customer.id)
        ).all()
        preferences = [
            Preference(
                route=Route(p.channel, p.phone_id, labels.get(p.phone_id) if p.phone_id else None),
                allowed_days=p.allowed_days,
                allowed_from=p.allowed_from,
                allowed_until=p.allowed_until,
                rank=p.rank,
                avoid=p.avoid,
                note=p.note,
            )
            for p in prefs
        ]
        blocked = frozenset(c for c, flag in _BLOCKING_FLAGS.items() if getattr(customer, flag))
        zone = self.zone
        local_end = _aware(end).astimezone(zone).replace(tzinfo=None)
        local_start = _aware(start).astimezone(zone).replace(tzinfo=None) if start else local_end
        return check_contact(
            preferences,
            Route(channel, phone_id, labels.get(phone_id) if phone_id else None),
            local_start,
            local_end,
            who=customer.first_name,
            blocked_channels=blocked,
            hours=hours,
        )

    def _label(self, phone: CustomerPhone) -> str:
        return f"{phone.kind.value} {phones.display(phone.e164 or phone.raw, self._region)}"

    def _event(
        self,
        session: Session,
        commitment: Commitment,
        body: str,
        *,
        at: dt.datetime | None = None,
        author: bool = True,
    ) -> None:
        if commitment.case_id is None:
            return  # a promise outside a case has no timeline; its row keeps the story
        session.add(
            CaseEvent(
                case_id=commitment.case_id,
                at=at or self.clock(),
                kind=CaseEventKind.COMMITMENT,
                author_id=self.agent.user_id if author else None,
                department_id=commitment.department_id or _department_of(session, self.agent),
                body=body,
                data={"commitment_id": commitment.id, "status": commitment.status.value},
            )
        )


def _department_of(session: Session, agent: AgentContext) -> int | None:
    if agent.user_id is None:
        return None
    return session.scalar(select(User.department_id).where(User.id == agent.user_id))


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _view(c: Commitment) -> CommitmentView:
    return CommitmentView(
        id=c.id,
        version=c.version,
        customer_id=c.customer_id,
        case_id=c.case_id,
        kind=c.kind.value,
        description=c.description,
        status=c.status.value,
        due_from=c.due_from,
        due_until=c.due_until,
        owner_id=c.owner_id,
        broken_at=c.broken_at,
        resolved_at=c.resolved_at,
        resolved_by_id=c.resolved_by_id,
    )
