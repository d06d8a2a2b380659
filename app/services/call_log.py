"""The call log: phone calls newest first, with their callback tasks.

All calls, or "mine": the calls an agent took, the calls on a line, and the calls
that rang on a workstation or on a line a call that rang there came in on (the line
it learnt). Missed calls show the state of their callback task. calls.py records
the calls; this only reads them.
"""

from __future__ import annotations

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from app import phones
from app.services import views as v
from models.database import Database
from models.enums import Channel, InteractionOutcome
from models.people import Customer, User
from models.service import Interaction, Task


class CallLog:
    def __init__(self, db: Database, default_region: str) -> None:
        self._db = db
        self.default_region = default_region

    def call_log(
        self,
        agent: str | None = None,
        line: str | None = None,
        missed_only: bool = False,
        limit: int = 200,
        workstation: str | None = None,
    ) -> list[v.CallLogEntry]:
        """Calls newest first: all of them, or when any of `agent`, `line`, `workstation`
        is given, the calls of that agent, on that line, or that rang on that workstation
        or on a line a call that rang there came in on (the line it learnt)."""
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
                agent_user.c.display_name,
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
            query = query.where(
                Interaction.outcome == InteractionOutcome.MISSED,
                Interaction.ended_at.is_not(None),
            )
        with self._db.read() as session:
            if agent or line or workstation:
                agent_id = _user_id(session, agent)  # None (no such user) must not match NULL
                lines = {line} if line else set()
                if workstation:
                    lines |= set(_lines_of(session, workstation))
                query = query.where(
                    or_(
                        Interaction.agent_id == agent_id if agent_id is not None else false(),
                        Interaction.line.in_(sorted(lines)) if lines else false(),
                        Interaction.workstation == workstation if workstation else false(),
                    )
                )
            rows = session.execute(query).all()
        return [
            v.CallLogEntry(
                interaction_id=r[0],
                started_at=r[1],
                direction=r[4].value,
                outcome=v.call_outcome(r[5].value, r[2], r[3]),
                number=r[6],
                customer_id=r[7],
                customer_name=f"{r[8]} {r[9]}" if r[8] is not None else None,
                duration_s=int((r[3] - r[2]).total_seconds()) if r[2] and r[3] else None,
                wrap_up_code=r[10],
                agent=r[11],
                line=r[12],
                callback_task_id=r[13],
                callback_status=r[14].value if r[14] is not None else None,
                number_display=phones.display(r[6], self.default_region),
            )
            for r in rows
        ]


def _lines_of(session: Session, workstation: str) -> list[str]:
    """The lines the calls that rang on `workstation` came in on: its line, learnt."""
    return list(
        session.scalars(
            select(Interaction.line)
            .where(Interaction.workstation == workstation, Interaction.line.is_not(None))
            .distinct()
            .limit(20)
        )
    )


def _user_id(session: Session, login: str | None) -> int | None:
    if not login:
        return None
    return session.scalar(select(User.id).where(User.login == login))
