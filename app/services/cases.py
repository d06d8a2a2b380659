"""Cases: the agent's working object. Opening, status steps, notes, contacts, edits.

Who acts is the injected `AgentContext`: its staff id is every event's author and its
department the event's department. Times come from the injected clock.

References (`CS-26-000123`) come from the database so two agents never quote the same
one: `case_reference_seq` on PostgreSQL, on SQLite a row in `case_numbers` (its rowid;
SQLite has no sequences and the write lock taken at BEGIN orders the inserts).

Edits are optimistic: an edit names the version and the values the agent started from
(`base`). If nobody changed the case since, it is saved. If someone did, each field is
judged alone: changed only by me -> mine; only by them, or by both to the same value
-> kept; by both to different values -> a conflict. Any conflict refuses the whole edit
with `CaseConflict` (per field: mine, theirs, base) and nothing is written; the agent
chooses and sends the edit again on the version the conflict names. Nothing is ever
overwritten silently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.agent import AgentContext
from app.clock import Clock, local_today, system_clock
from app.errors import ConflictError, UserError
from app.services import case_view, sla
from app.services.case_view import (
    CATEGORIES,
    OLDER_CATEGORIES,
    CaseDetail,
    OpenCaseRow,
    OrderLineChoice,
    category_label,
)
from app.services.customer_sections import key_dates
from app.validation import NOTE_MAX_CHARS, check_text
from app.workflows.case_flow import InvalidCaseStep, check_step, status_label
from models.authority import AuditEntry
from models.database import Database
from models.enums import CaseEventKind, CaseStatus, Priority, TaskStatus
from models.people import Customer, User
from models.service import Case, CaseEvent, Interaction, Task

PRIORITY_ORDER = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)
# A key date this close, on a case about an order, raises the priority to at least HIGH.
KEY_DATE_WINDOW_DAYS = 7
# What `edit` may change, and how each is stored.
EDITABLE_FIELDS = (
    "category",
    "subject",
    "description",
    "priority",
    "order_id",
    "order_line_id",
    "contract_id",
    "assignee_id",
    "department_id",
)
SUBJECT_MAX_CHARS = 200


@dataclass(frozen=True)
class FieldConflict:
    """One field both sides changed, to different values."""

    field: str
    mine: Any
    theirs: Any
    base: Any


class CaseConflict(ConflictError):
    """Someone else changed the case since the agent loaded it, in the same fields.

    `version` is the case's version now: an edit sent again with the agent's choices
    names it (and the current values, `current`, as its base).
    """

    def __init__(
        self,
        reference: str,
        conflicts: tuple[FieldConflict, ...],
        version: int,
        current: dict[str, Any],
    ) -> None:
        fields = ", ".join(c.field for c in conflicts)
        super().__init__(
            f"Someone else changed {reference} while you were editing ({fields}): "
            "choose which value to keep for each."
        )
        self.conflicts = conflicts
        self.version = version
        self.current = current


class CaseStepRefused(UserError):
    """A status change the workflow refuses (app/workflows/case_flow.py), in words."""


@dataclass(frozen=True)
class EditResult:
    version: int
    applied: dict[str, Any]  # the fields this edit wrote (merged ones included)


class CaseService:
    def __init__(self, db: Database, clock: Clock = system_clock, *, agent: AgentContext) -> None:
        self._db = db
        self.clock = clock
        self.agent = agent

    # -- reading -------------------------------------------------------------------------

    def load(self, case_id: int) -> CaseDetail:
        with self._db.read() as session:
            return case_view.load_case_detail(session, case_id, self.clock())

    def open_cases_for(self, customer_id: int) -> list[OpenCaseRow]:
        """The customer's open cases, newest first (the pop's "attach to open case?")."""
        with self._db.read() as session:
            return case_view.open_cases_for(session, customer_id, self.clock())

    def order_lines_for(self, customer_id: int) -> list[OrderLineChoice]:
        """Recent order lines of the customer, for the New case dialog."""
        with self._db.read() as session:
            return case_view.order_line_choices(session, customer_id)

    def find_by_reference(self, reference: str) -> tuple[int, int] | None:
        """(case id, customer id) of the case quoted, or None."""
        with self._db.lookup() as session:
            row = session.execute(
                select(Case.id, Case.customer_id).where(Case.reference == reference.strip().upper())
            ).first()
        return (row[0], row[1]) if row else None

    # -- opening -------------------------------------------------------------------------

    def open_case(
        self,
        customer_id: int,
        category: str,
        subject: str,
        description: str | None,
        priority: Priority | str,
        order_id: int | None = None,
        order_line_id: int | None = None,
        contract_id: int | None = None,
        interaction_id: int | None = None,
    ) -> tuple[int, str]:
        """Open a case; (its id, its reference). A key date near raises its priority."""
        if category not in CATEGORIES and category not in OLDER_CATEGORIES:
            raise UserError(f"Choose a category for the case ({', '.join(CATEGORIES.values())}).")
        title = check_text(subject, "subject", SUBJECT_MAX_CHARS, required=True)
        detail = check_text(description or "", "description", NOTE_MAX_CHARS, multiline=True)
        level = _priority(priority)
        now = self.clock()
        with self._db.write() as session:
            if session.get(Customer, customer_id) is None:
                raise UserError(f"customer {customer_id} does not exist")
            if order_line_id is not None and order_id is None:
                order_id = case_view.order_of_line(session, order_line_id)
            department_id = self._department(session)
            case = Case(
                reference=self._next_reference(session, now),
                customer_id=customer_id,
                order_id=order_id,
                order_line_id=order_line_id,
                contract_id=contract_id,
                category=category,
                subject=title,
                description=detail or None,
                priority=level,
                status=CaseStatus.NEW,
                department_id=department_id,
                assignee_id=self.agent.user_id,
                opened_at=now,
                updated_at=now,
            )
            raised = self._key_date_reason(session, customer_id, now) if order_id else None
            if raised is not None and PRIORITY_ORDER.index(level) < PRIORITY_ORDER.index(
                Priority.HIGH
            ):
                case.priority = Priority.HIGH
                case.priority_reason = raised
            # Before the INSERT, so the due times are part of it (no second UPDATE).
            tier = session.scalar(select(Customer.tier).where(Customer.id == customer_id))
            sla.start_clock(session, case, tier, now)
            session.add(case)
            session.flush()
            self._event(session, case.id, CaseEventKind.OPENED, now, title)
            if case.priority_reason:
                self._event(
                    session,
                    case.id,
                    CaseEventKind.PRIORITY,
                    now,
                    f"Priority raised to high: {case.priority_reason}",
                    {"from": level.value, "to": case.priority.value, "automatic": True},
                )
            if interaction_id is not None:
                self._attach(session, case, interaction_id, now)
            self._audit(session, "case.open", case.id, {"reference": case.reference})
            return case.id, case.reference

    def _next_reference(self, session: Session, now: dt.datetime) -> str:
        if session.get_bind().dialect.name == "postgresql":
            number = int(session.scalar(text("SELECT nextval('case_reference_seq')")) or 0)
        else:
            inserted = session.execute(text("INSERT INTO case_numbers DEFAULT VALUES"))
            number = int(inserted.lastrowid or 0)  # type: ignore[attr-defined]
            # Only the last number matters (AUTOINCREMENT keeps it in sqlite_sequence).
            session.execute(text("DELETE FROM case_numbers WHERE n < :n"), {"n": number})
        return f"CS-{now:%y}-{number:06d}"

    def _key_date_reason(self, session: Session, customer_id: int, now: dt.datetime) -> str | None:
        """Why an order case is urgent: the nearest key date within the window, in words."""
        today = local_today(lambda: now)
        near = [
            k
            for k in key_dates(session, customer_id, today)
            if 0 <= k.days_until <= KEY_DATE_WINDOW_DAYS
        ]
        if not near:
            return None
        key = near[0]
        what = key.label or key.kind.replace("_", " ")
        whose = "the customer's" if key.whose == "own" else f"{key.whose}'s"
        return f"key date near: {whose} {what} {key.next_on:%a} {key.next_on.day} {key.next_on:%b}"

    # -- status --------------------------------------------------------------------------

    def change_status(
        self, case_id: int, to: CaseStatus | str, expected_version: int, reason: str | None = None
    ) -> int:
        """Move the case to `to` if the workflow allows it; its new version."""
        now = self.clock()
        why = check_text(reason or "", "reason", NOTE_MAX_CHARS, multiline=True) or None
        try:
            with self._db.write() as session:
                case = self._case(session, case_id)
                if case.version != expected_version:
                    raise ConflictError(
                        f"Someone else changed {case.reference} (it is now "
                        f"{status_label(case.status, case.reopened_at is not None).lower()}): "
                        "look again and choose."
                    )
                open_tasks = _open_tasks(session, case_id)
                try:
                    step = check_step(case.status, to, open_tasks, why)
                except InvalidCaseStep as exc:
                    raise CaseStepRefused(str(exc)) from None
                before = case.status
                case.status = CaseStatus(step.to.value)
                case.updated_at = now
                kind = CaseEventKind.STATUS_CHANGED
                if step.is_reopen:
                    case.reopened_at, case.resolved_at, case.closed_at = now, None, None
                    case.close_reason = None
                    kind = CaseEventKind.REOPENED
                elif step.is_resolve:
                    case.resolved_at = now
                    case.resolution = why or case.resolution
                    kind = CaseEventKind.RESOLVED
                elif step.is_close:
                    case.closed_at = now
                    case.close_reason = why if open_tasks else None
                    kind = CaseEventKind.CLOSED
                sla.on_status(session, case, before, case.status, now)  # pause / resume
                session.flush()
                body = status_label(case.status, step.is_reopen)
                if why:
                    body = f"{body}: {why}"
                data: dict[str, Any] = {
                    "from": before.value,
                    "to": case.status.value,
                    "open_tasks": open_tasks,
                }
                if case.status is CaseStatus.WAITING_INTERNAL:
                    data["department_id"] = case.department_id
                self._event(session, case_id, kind, now, body, data)
                return case.version
        except StaleDataError:
            raise ConflictError("Someone else changed this case just now: look again.") from None

    # -- notes and contacts --------------------------------------------------------------

    def add_note(self, case_id: int, body: str, internal: bool) -> int:
        """A note on the timeline: internal (for colleagues) or what the customer was told."""
        note = check_text(body, "note", NOTE_MAX_CHARS, multiline=True, required=True)
        kind = CaseEventKind.INTERNAL_NOTE if internal else CaseEventKind.NOTE
        now = self.clock()
        with self._db.write() as session:
            case = self._case(session, case_id)
            if not internal:  # the customer was answered: the first-response clock stops
                sla.record_first_response(session, case, now)
            return self._event(session, case_id, kind, now, note)

    def attach_interaction(self, case_id: int, interaction_id: int) -> int:
        """Join a contact (a call, an e-mail...) to the case; the customer id."""
        with self._db.write() as session:
            case = self._case(session, case_id)
            self._attach(session, case, interaction_id, self.clock())
            return case.customer_id

    def _attach(self, session: Session, case: Case, interaction_id: int, now: dt.datetime) -> None:
        contact = session.get(Interaction, interaction_id)
        if contact is None:
            raise UserError(f"contact {interaction_id} does not exist")
        if contact.customer_id not in (None, case.customer_id):
            raise UserError(f"That contact is another customer's; it cannot join {case.reference}.")
        if contact.case_id == case.id:
            return  # attached already: a retry
        if contact.case_id is not None:
            raise UserError("That contact already belongs to another case.")
        contact.case_id = case.id
        contact.customer_id = case.customer_id
        session.flush()
        self._event(
            session,
            case.id,
            CaseEventKind.CONTACT,
            now,
            contact.summary or f"{contact.channel.value} contact",
            {"interaction_id": contact.id},
        )

    # -- edits ---------------------------------------------------------------------------

    def edit(
        self, case_id: int, expected_version: int, changes: dict[str, Any], base: dict[str, Any]
    ) -> EditResult:
        """Save `changes` made on the case as it was at `expected_version` (`base`)."""
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            raise UserError(f"These case fields cannot be edited: {', '.join(sorted(unknown))}.")
        missing = set(changes) - set(base)
        if missing:
            raise ValueError(f"edit: no base value for {sorted(missing)}")
        mine = {name: self._checked(name, value) for name, value in changes.items()}
        now = self.clock()
        # A save that lands between our read and our UPDATE makes the UPDATE stale: judged
        # again from the top against what that save wrote.
        for _attempt in range(5):
            try:
                with self._db.write() as session:
                    return self._edit_once(session, case_id, expected_version, mine, base, now)
            except StaleDataError:
                continue
        raise ConflictError("The case keeps changing under this edit: look again and retry.")

    def _edit_once(
        self,
        session: Session,
        case_id: int,
        expected_version: int,
        mine: dict[str, Any],
        base: dict[str, Any],
        now: dt.datetime,
    ) -> EditResult:
        case = self._case(session, case_id)
        current = case_view.editable_values(case)
        applied: dict[str, Any] = {}
        conflicts: list[FieldConflict] = []
        for name, value in mine.items():
            theirs = current[name]
            if case.version == expected_version or theirs == base[name]:
                if theirs != value:
                    applied[name] = value
            elif theirs != value:
                conflicts.append(FieldConflict(name, value, theirs, base[name]))
        if conflicts:
            raise CaseConflict(case.reference, tuple(conflicts), case.version, current)
        if not applied:
            return EditResult(case.version, {})
        for name, value in applied.items():
            setattr(case, name, Priority(value) if name == "priority" else value)
        if "priority" in applied:
            case.priority_reason = None  # the agent chose it: no automatic reason holds
        case.updated_at = now
        session.flush()
        self._event(
            session,
            case_id,
            CaseEventKind.EDITED,
            now,
            "; ".join(f"{_field_name(n)}: {current[n]} → {v}" for n, v in applied.items()),
            {
                "fields": {n: {"from": current[n], "to": v} for n, v in applied.items()},
                "version": case.version,
            },
        )
        return EditResult(case.version, applied)

    def _checked(self, name: str, value: Any) -> Any:
        if name == "subject":
            return check_text(value, "subject", SUBJECT_MAX_CHARS, required=True)
        if name == "description":
            return check_text(value or "", "description", NOTE_MAX_CHARS, multiline=True) or None
        if name == "category":
            if value not in CATEGORIES and value not in OLDER_CATEGORIES:
                raise UserError(f"{value!r} is not a case category.")
            return value
        if name == "priority":
            return _priority(value).value
        if value is not None and not isinstance(value, int):
            raise UserError(f"{name.replace('_', ' ')} must be a number or empty")
        return value

    # -- shared --------------------------------------------------------------------------

    def _case(self, session: Session, case_id: int) -> Case:
        case = session.get(Case, case_id)
        if case is None:
            raise UserError(f"case {case_id} does not exist")
        return case

    def _department(self, session: Session) -> int | None:
        if self.agent.user_id is None:
            return None
        return session.scalar(select(User.department_id).where(User.id == self.agent.user_id))

    def _event(
        self,
        session: Session,
        case_id: int,
        kind: CaseEventKind,
        at: dt.datetime,
        body: str | None,
        data: dict[str, Any] | None = None,
    ) -> int:
        event = CaseEvent(
            case_id=case_id,
            at=at,
            kind=kind,
            author_id=self.agent.user_id,
            department_id=self._department(session),
            body=body,
            data=data,
        )
        session.add(event)
        session.flush()
        return event.id

    def _audit(self, session: Session, action: str, case_id: int, detail: dict[str, Any]) -> None:
        session.add(
            AuditEntry(
                actor=self.agent.actor,
                action=action,
                entity="case",
                entity_id=case_id,
                detail=detail,
            )
        )


def _field_name(name: str) -> str:
    return name.replace("_id", "").replace("_", " ").capitalize()


def _open_tasks(session: Session, case_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Task)
            .where(
                Task.case_id == case_id, Task.status.in_((TaskStatus.OPEN, TaskStatus.IN_PROGRESS))
            )
        )
        or 0
    )


def _priority(value: Priority | str) -> Priority:
    try:
        return Priority(str(value))
    except ValueError:
        raise UserError(f"{value!r} is not a priority (low, normal, high, urgent).") from None


__all__ = [
    "CATEGORIES",
    "EDITABLE_FIELDS",
    "CaseConflict",
    "CaseService",
    "CaseStepRefused",
    "EditResult",
    "FieldConflict",
    "category_label",
]
