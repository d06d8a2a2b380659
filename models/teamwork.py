"""Working together on cases: macros (canned replies and note templates) and presence
(who has a case open, who is typing in it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Versioned, utcnow
from models.enums import MacroKind, PresenceActivity, enum_type
from models.limits import WORKSTATION_LENGTH


class Macro(Versioned, Base):
    """A template with placeholders ({{ customer.name }}), rendered in a sandbox (app/macros.py).

    `department_id` None: shared by every team.
    """

    __tablename__ = "macros"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[MacroKind] = mapped_column(enum_type(MacroKind, "macro_kind"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CasePresence(Base):
    """A heartbeat: this agent, on this workstation, has the case open (or is typing).

    Rows older than the expiry (app/services/presence.py) are ignored and swept, so a
    crashed client's presence disappears by itself.
    """

    __tablename__ = "case_presence"
    __table_args__ = (
        Index("uq_case_presence_viewer", "case_id", "user_id", "workstation", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    workstation: Mapped[str] = mapped_column(String(WORKSTATION_LENGTH))
    activity: Mapped[PresenceActivity] = mapped_column(
        enum_type(PresenceActivity, "presence_activity")
    )
    heartbeat_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
