"""Who else has a case open, who is typing in it, and who claimed it ("I'm replying").

Presence is a heartbeat: while a case tab is visible the client upserts its row of
`case_presence` (case, agent, workstation) every `HEARTBEAT_INTERVAL`. A row whose
heartbeat is older than `EXPIRY` is ignored, so a client that crashed, lost its
network or was killed disappears from everyone's view within `EXPIRY` without anyone
cleaning up after it; such rows are also deleted opportunistically (`SWEEP_AFTER`)
by the next heartbeat on the case.

The claim rule: `cases.claimed_by_id` holds a claim only while its holder has a fresh
presence row on the case (from any workstation). A claim whose holder closed the case,
crashed or went quiet for `EXPIRY` has lapsed: another agent may take it, and the view
no longer shows it. Claiming is one conditional UPDATE, so of two agents claiming at
once exactly one wins. Leaving a case releases one's claim. A claim does not bump the
case's `version`: it says who is writing, not what the case says, and must not turn a
colleague's edit of the case into a conflict.

Times: every method takes the clock's `now`; heartbeats are written with the client's
clock, so clients are assumed to agree within a few seconds (NTP); `SWEEP_AFTER` is
generous so a slightly slow clock is not swept while it is still heartbeating.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from app.agent import AgentContext
from app.clock import Clock, system_clock
from app.errors import ConflictError, UserError
from models.database import Database
from models.enums import CaseEventKind, PresenceActivity
from models.people import User
from models.service import Case, CaseEvent
from models.teamwork import CasePresence

EXPIRY = dt.timedelta(seconds=30)
HEARTBEAT_INTERVAL = dt.timedelta(seconds=10)
SWEEP_AFTER = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Viewer:
    """Another agent with the case open."""

    user_id: int
    name: str
    workstation: str
    activity: PresenceActivity
    last_seen: dt.datetime  # their latest heartbeat


@dataclass(frozen=True)
class Claim:
    holder_id: int
    holder_name: str
    since: dt.datetime
    mine: bool
    # What the holder is doing now (typing or only viewing); None when it is me.
    holder_activity: PresenceActivity | None


@dataclass(frozen=True)
class CasePresenceView:
    case_id: int
    others: tuple[Viewer, ...]
    claim: Claim | None  # a fresh claim only (see the rule above)
    case_version: int


class CaseClaimedError(ConflictError):
    """Someone else holds a fresh claim on the case."""

    def __init__(self, holder_name: str, since: dt.datetime) -> None:
        super().__init__(f"{holder_name} is already replying to this case")
        self.holder_name = holder_name
        self.since = since


@dataclass(frozen=True)
class Heartbeat:
    view: CasePresenceView
    # True when others now see me differently (arrived, or started/stopped typing).
    changed: bool


class PresenceService:
    def __init__(self, db: Database, clock: Clock = system_clock, *, agent: AgentContext) -> None:
        self._db = db
        self.clock = clock
        self.agent = agent

    def heartbeat(
        self,
        case_id: int,
        activity: PresenceActivity = PresenceActivity.VIEWING,
        now: dt.datetime | None = None,
    ) -> Heartbeat:
        """I have the case open (or am typing in it): upsert my row; who else is there."""
        now = now or self.clock()
        user_id = self._staff_id()
        with self._db.write() as session:
            if session.get(Case, case_id) is None:
                raise UserError(f"case {case_id} does not exist")
            before = session.execute(
                select(CasePresence.activity, CasePresence.heartbeat_at).where(*self._mine(case_id))
            ).first()
            _upsert(session, case_id, user_id, self.agent.workstation, activity, now)
            session.execute(
                delete(CasePresence).where(
                    CasePresence.case_id == case_id, CasePresence.heartbeat_at < now - SWEEP_AFTER
                )
            )
        changed = (
            before is None or before.activity != activity or before.heartbeat_at < now - EXPIRY
        )
        return Heartbeat(self.who_else(case_id, now), changed)

    def leave(self, case_id: int) -> None:
        """I closed the case: my row goes (and my claim with it)."""
        if self.agent.user_id is None:
            return
        with self._db.write() as session:
            session.execute(delete(CasePresence).where(*self._mine(case_id)))
            still_here = session.scalar(
                select(
                    exists().where(
                        CasePresence.case_id == case_id,
                        CasePresence.user_id == self.agent.user_id,
                    )
                )
            )
            if not still_here:  # the same agent may have it open on another workstation
                self._release(session, case_id, self.clock())

    def who_else(self, case_id: int, now: dt.datetime | None = None) -> CasePresenceView:
        """Agents other than me (this workstation) seen within `EXPIRY`, and the claim."""
        now = now or self.clock()
        fresh_since = now - EXPIRY
        with self._db.read() as session:
            rows = session.execute(
                select(
                    CasePresence.user_id,
                    User.display_name,
                    CasePresence.workstation,
                    CasePresence.activity,
                    CasePresence.heartbeat_at,
                )
                .join(User, User.id == CasePresence.user_id)
                .where(CasePresence.case_id == case_id, CasePresence.heartbeat_at >= fresh_since)
                .order_by(CasePresence.heartbeat_at.desc(), CasePresence.id)
            ).all()
            case = session.execute(
                select(Case.claimed_by_id, Case.claimed_at, Case.version).where(Case.id == case_id)
            ).first()
            if case is None:
                raise UserError(f"case {case_id} does not exist")
            me = (self.agent.user_id, self.agent.workstation)
            others = tuple(
                Viewer(r.user_id, r.display_name, r.workstation, r.activity, r.heartbeat_at)
                for r in rows
                if (r.user_id, r.workstation) != me
            )
            return CasePresenceView(
                case_id, _distinct(others), self._claim(case, rows), case.version
            )

    def claim(
        self, case_id: int, expected_version: int | None = None, now: dt.datetime | None = None
    ) -> CasePresenceView:
        """ "I'm replying": take the case unless another agent holds a fresh claim.

        `expected_version`: the case as the agent last saw it; if it changed since, the
        claim is refused (`ConflictError`) so nobody replies to a case they have not read.
        Raises `CaseClaimedError` when someone else is replying.
        """
        now = now or self.clock()
        user_id = self._staff_id()
        # My own presence first, in its own transaction: the claim is judged against
        # committed presence, and mine must be there for my claim to count as fresh.
        self.heartbeat(case_id, PresenceActivity.TYPING, now)
        with self._db.write() as session:
            # Lock the case row first, so the UPDATE below takes its snapshot after any
            # claim racing us committed, presence included (PostgreSQL, READ COMMITTED;
            # SQLite writes one at a time anyway).
            if session.scalar(select(Case.id).where(Case.id == case_id).with_for_update()) is None:
                raise UserError(f"case {case_id} does not exist")
            holder_is_fresh = exists().where(
                CasePresence.case_id == Case.id,
                CasePresence.user_id == Case.claimed_by_id,
                CasePresence.heartbeat_at >= now - EXPIRY,
            )
            conditions = [
                Case.id == case_id,
                or_(Case.claimed_by_id.is_(None), ~holder_is_fresh),
            ]
            if expected_version is not None:
                conditions.append(Case.version == expected_version)
            taken = session.execute(
                update(Case)
                .where(*conditions)
                .values(claimed_by_id=user_id, claimed_at=now)
                .execution_options(synchronize_session=False)
            )
            if _rowcount(taken):
                self._event(session, case_id, now, claimed=True)
            else:
                self._refuse_claim(session, case_id, expected_version, user_id)
        return self.who_else(case_id, now)

    def release(self, case_id: int) -> CasePresenceView:
        """I am no longer replying: drop my claim (someone else's is left alone)."""
        now = self.clock()
        with self._db.write() as session:
            self._release(session, case_id, now)
        return self.who_else(case_id, now)

    def _refuse_claim(
        self, session: Session, case_id: int, expected_version: int | None, user_id: int
    ) -> None:
        case = session.execute(
            select(Case.claimed_by_id, Case.claimed_at, Case.version).where(Case.id == case_id)
        ).first()
        if case is None:
            raise UserError(f"case {case_id} does not exist")
        if case.claimed_by_id == user_id:
            return  # already mine and fresh: claiming again changes nothing
        if case.claimed_by_id is not None:
            holder = session.scalar(select(User.display_name).where(User.id == case.claimed_by_id))
            raise CaseClaimedError(holder or "another agent", case.claimed_at)
        if expected_version is not None and case.version != expected_version:
            raise ConflictError(
                "the case changed since you opened it; read the changes, then claim it again"
            )

    def _release(self, session: Session, case_id: int, now: dt.datetime) -> None:
        released = session.execute(
            update(Case)
            .where(Case.id == case_id, Case.claimed_by_id == self.agent.user_id)
            .values(claimed_by_id=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(released):
            self._event(session, case_id, now, claimed=False)

    def _claim(self, case: Any, rows: Sequence[Any]) -> Claim | None:
        # `case` and `rows` are the result rows of `who_else` (claim columns, presence).
        if case.claimed_by_id is None:
            return None
        holder_rows = [r for r in rows if r.user_id == case.claimed_by_id]
        if not holder_rows:
            return None  # the holder's presence expired: the claim has lapsed
        mine = case.claimed_by_id == self.agent.user_id
        activity = None
        if not mine:
            typing = any(r.activity == PresenceActivity.TYPING for r in holder_rows)
            activity = PresenceActivity.TYPING if typing else PresenceActivity.VIEWING
        return Claim(
            holder_id=case.claimed_by_id,
            holder_name=holder_rows[0].display_name,
            since=case.claimed_at,
            mine=mine,
            holder_activity=activity,
        )

    def _event(self, session: Session, case_id: int, now: dt.datetime, *, claimed: bool) -> None:
        department = session.scalar(select(User.department_id).where(User.id == self.agent.user_id))
        words = "is replying" if claimed else "stopped replying"
        session.add(
            CaseEvent(
                case_id=case_id,
                at=now,
                kind=CaseEventKind.CLAIMED,
                author_id=self.agent.user_id,
                department_id=department,
                body=f"{self.agent.display_name} {words}",
                data={"claimed": claimed},
            )
        )

    def _mine(self, case_id: int) -> tuple[ColumnElement[bool], ...]:
        return (
            CasePresence.case_id == case_id,
            CasePresence.user_id == self.agent.user_id,
            CasePresence.workstation == self.agent.workstation,
        )

    def _staff_id(self) -> int:
        if self.agent.user_id is None:
            raise UserError(
                f"{self.agent.login} has no staff record, so others cannot see you on a case"
            )
        return self.agent.user_id


def _upsert(
    session: Session,
    case_id: int,
    user_id: int,
    workstation: str,
    activity: PresenceActivity,
    now: dt.datetime,
) -> None:
    """INSERT ... ON CONFLICT DO UPDATE on the (case, user, workstation) unique index."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(CasePresence).values(
        case_id=case_id,
        user_id=user_id,
        workstation=workstation,
        activity=activity,
        heartbeat_at=now,
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["case_id", "user_id", "workstation"],
            set_={"activity": activity, "heartbeat_at": now},
        )
    )


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


def _distinct(viewers: tuple[Viewer, ...]) -> tuple[Viewer, ...]:
    """One entry per agent (newest first, typing wins): two workstations are one person."""
    best: dict[int, Viewer] = {}
    for viewer in viewers:
        seen = best.get(viewer.user_id)
        if seen is None or (
            viewer.activity == PresenceActivity.TYPING and seen.activity != PresenceActivity.TYPING
        ):
            best[viewer.user_id] = viewer
    return tuple(best.values())


__all__ = [
    "EXPIRY",
    "HEARTBEAT_INTERVAL",
    "CaseClaimedError",
    "CasePresenceView",
    "Claim",
    "Heartbeat",
    "PresenceService",
    "Viewer",
]
