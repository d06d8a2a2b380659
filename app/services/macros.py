"""Macros of the agent's team (and the shared ones): listed, filled in for a case, edited.

Rendering is pure and sandboxed (app/macros.py); this service only fetches the values
(customer, case, the next open promise, the agent) and hands them over as plain text.
Editing is optimistic-locked on the macro's `version`: two leads editing one macro never
overwrite each other silently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.agent import AgentContext
from app.clock import Clock, system_clock
from app.errors import ConflictError, UserError
from app.macros import MAX_NAME_CHARS, MAX_TEMPLATE_CHARS, MacroContext, check_template, render
from app.validation import check_text
from models.authority import AuditEntry
from models.database import Database
from models.enums import CommitmentStatus, MacroKind
from models.people import Customer, User
from models.service import Case, Commitment
from models.teamwork import Macro


@dataclass(frozen=True)
class MacroRow:
    id: int
    name: str
    kind: MacroKind
    department_id: int | None  # None: shared by every team
    body: str
    active: bool
    version: int


@dataclass(frozen=True)
class RenderedMacro:
    macro_id: int
    name: str
    kind: MacroKind
    text: str


class MacroService:
    def __init__(
        self,
        db: Database,
        clock: Clock = system_clock,
        *,
        agent: AgentContext,
        zone: dt.tzinfo | None = None,
    ) -> None:
        self._db = db
        self.clock = clock
        self.agent = agent
        # Where promise times are shown: the agent's zone (the machine's when None).
        self.zone = zone

    def list_macros(self, kind: MacroKind | None = None) -> list[MacroRow]:
        """Active macros of the agent's department and the shared ones, by name."""
        with self._db.read() as session:
            department = _department_of(session, self.agent)
            query = select(Macro).where(Macro.active.is_(True))
            if department is None:
                query = query.where(Macro.department_id.is_(None))
            else:
                query = query.where(
                    or_(Macro.department_id.is_(None), Macro.department_id == department)
                )
            if kind is not None:
                query = query.where(Macro.kind == kind)
            return [_row(m) for m in session.scalars(query.order_by(Macro.name, Macro.id))]

    def render(self, macro_id: int, case_id: int) -> RenderedMacro:
        """The macro filled in with this case's values, or `MacroError` saying why not."""
        with self._db.read() as session:
            macro = session.get(Macro, macro_id)
            if macro is None or not macro.active:
                raise UserError(f"macro {macro_id} does not exist or was retired")
            context = self._context(session, case_id)
            return RenderedMacro(macro.id, macro.name, macro.kind, render(macro.body, context))

    def preview(self, body: str, case_id: int) -> str:
        """An unsaved body filled in for a case (the editor's preview)."""
        with self._db.read() as session:
            return render(body, self._context(session, case_id))

    def create(self, name: str, kind: MacroKind, body: str, department_id: int | None) -> MacroRow:
        checked_name, checked_body = _checked(name, body)
        with self._db.write() as session:
            macro = Macro(
                name=checked_name,
                kind=kind,
                department_id=department_id,
                body=checked_body,
                active=True,
                created_by_id=self.agent.user_id,
                created_at=self.clock(),
            )
            session.add(macro)
            session.flush()
            self._audit(session, "macro.create", macro)
            return _row(macro)

    def edit(
        self, macro_id: int, loaded_version: int, name: str, body: str, active: bool = True
    ) -> MacroRow:
        """Save a new text over `loaded_version`; `ConflictError` if someone saved first."""
        checked_name, checked_body = _checked(name, body)
        try:
            with self._db.write() as session:
                macro = session.get(Macro, macro_id)
                if macro is None:
                    raise UserError(f"macro {macro_id} does not exist")
                if macro.version != loaded_version:
                    raise StaleDataError()
                macro.name, macro.body, macro.active = checked_name, checked_body, active
                session.flush()  # UPDATE ... WHERE version = loaded: catches a racing save
                self._audit(session, "macro.edit", macro)
                return _row(macro)
        except StaleDataError:
            raise ConflictError(
                f"macro '{checked_name}' was changed by someone else since you opened it; "
                "reopen it to see their version"
            ) from None

    def _context(self, session: Session, case_id: int) -> MacroContext:
        case = session.get(Case, case_id)
        if case is None:
            raise UserError(f"case {case_id} does not exist")
        customer = session.get(Customer, case.customer_id)
        promise = session.execute(
            select(Commitment.due_from, Commitment.due_until)
            .where(Commitment.case_id == case_id, Commitment.status == CommitmentStatus.OPEN)
            .order_by(Commitment.due_until, Commitment.id)
            .limit(1)
        ).first()
        return MacroContext(
            customer_name=f"{customer.first_name} {customer.last_name}" if customer else None,
            customer_first_name=customer.first_name if customer else None,
            case_reference=case.reference,
            case_subject=case.subject,
            promise_due=(self._due_words(promise.due_from, promise.due_until) if promise else None),
            agent_name=self.agent.display_name,
        )

    def _due_words(self, due_from: dt.datetime | None, due_until: dt.datetime) -> str:
        """'Friday 4 December between 14:00 and 18:00', or 'by Friday 4 December, 18:00'."""
        until = due_until.astimezone(self.zone)
        day = f"{until:%A} {until.day} {until:%B}"
        if due_from is not None:
            start = due_from.astimezone(self.zone)
            if start.date() == until.date():
                return f"{day} between {start:%H:%M} and {until:%H:%M}"
        return f"by {day}, {until:%H:%M}"

    def _audit(self, session: Session, action: str, macro: Macro) -> None:
        session.add(
            AuditEntry(
                actor=self.agent.actor,
                action=action,
                entity="macro",
                entity_id=macro.id,
                detail={"version": macro.version},
            )
        )


def _checked(name: str, body: str) -> tuple[str, str]:
    checked_name = check_text(name, "macro name", MAX_NAME_CHARS, required=True)
    checked_body = check_text(body, "macro", MAX_TEMPLATE_CHARS, multiline=True, required=True)
    check_template(checked_body)  # a broken macro is refused when saved, not when used
    return checked_name, checked_body


def _department_of(session: Session, agent: AgentContext) -> int | None:
    if agent.user_id is None:
        return None
    return session.scalar(select(User.department_id).where(User.id == agent.user_id))


def _row(macro: Macro) -> MacroRow:
    return MacroRow(
        id=macro.id,
        name=macro.name,
        kind=macro.kind,
        department_id=macro.department_id,
        body=macro.body,
        active=macro.active,
        version=macro.version,
    )
