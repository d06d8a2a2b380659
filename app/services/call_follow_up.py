"""What a wrap-up leaves beyond the call itself: the call joining the case it was about,
and who (which department) promised the follow-up. Used inside CallService's wrap-up
transaction, so the call, its case contact and its promise commit together."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.agent import AgentContext
from app.errors import UserError
from models.enums import CaseEventKind
from models.people import Department, User
from models.service import Case, CaseEvent, Interaction


def join_case(
    session: Session,
    interaction: Interaction,
    case_id: int,
    code: str,
    agent: AgentContext,
    now: dt.datetime,
) -> None:
    """The call joins the case: a contact on its timeline, so its contact count moves."""
    case = session.get(Case, case_id)
    if case is None or case.customer_id != interaction.customer_id:
        raise UserError("that case is not this caller's: choose one of theirs")
    already = session.scalar(
        select(CaseEvent.id).where(
            CaseEvent.case_id == case_id,
            CaseEvent.kind == CaseEventKind.CONTACT,
            CaseEvent.data["interaction_id"].as_integer() == interaction.id,
        )
    )
    interaction.case_id = case_id
    if already is not None:
        return
    session.add(
        CaseEvent(
            case_id=case_id,
            at=now,
            kind=CaseEventKind.CONTACT,
            author_id=agent.user_id,
            department_id=agent_department(session, agent),
            body=f"Call ({code})",
            data={"interaction_id": interaction.id},
        )
    )


def agent_department(session: Session, agent: AgentContext) -> int | None:
    if agent.user_id is None:
        return None
    return session.scalar(select(User.department_id).where(User.id == agent.user_id))


def call_centre(session: Session) -> int:
    department = session.scalar(select(Department.id).where(Department.code == "call_centre"))
    if department is None:
        raise UserError("no call-centre department to hand the call-back to")
    return department
