"""Authority: policies, limits per role and user, concessions, overrides and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Versioned, utcnow
from models.enums import ConcessionType, OverrideStatus, Role, enum_type


class Policy(Base):
    """An explicit business rule ("upgrade within 12 months of renewal costs a fee")
    and the role that may override it."""

    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    override_role: Mapped[Role] = mapped_column(enum_type(Role, "policy_override_role"))
    active: Mapped[bool] = mapped_column(default=True)


class AuthorityLimit(Base):
    """What a role, or one user, may grant alone per concession and per period."""

    __tablename__ = "authority_limits"
    __table_args__ = (
        CheckConstraint("(role IS NULL) <> (user_id IS NULL)", name="role_xor_user"),
        CheckConstraint("max_amount_cents >= 0", name="non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[Role | None] = mapped_column(enum_type(Role, "limit_role"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    concession_type: Mapped[ConcessionType] = mapped_column(
        enum_type(ConcessionType, "limit_concession_type")
    )
    max_amount_cents: Mapped[int] = mapped_column(Integer)
    period_days: Mapped[int] = mapped_column(Integer, default=30)
    max_total_per_period_cents: Mapped[int | None] = mapped_column(Integer)


class OverrideRequest(Versioned, Base):
    __tablename__ = "override_requests"
    __table_args__ = (Index("ix_override_requests_status", "status", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"))
    concession_type: Mapped[ConcessionType] = mapped_column(
        enum_type(ConcessionType, "override_concession_type")
    )
    amount_cents: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    required_role: Mapped[Role] = mapped_column(enum_type(Role, "override_required_role"))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[OverrideStatus] = mapped_column(enum_type(OverrideStatus, "override_status"))


class OverrideDecision(Base):
    __tablename__ = "override_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("override_requests.id"), unique=True)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved: Mapped[bool]
    comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Concession(Base):
    """A discount, credit, sample, gift, fee waiver or policy exception granted."""

    __tablename__ = "concessions"
    __table_args__ = (CheckConstraint("amount_cents >= 0", name="non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    type: Mapped[ConcessionType] = mapped_column(enum_type(ConcessionType, "concession_type"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    override_request_id: Mapped[int | None] = mapped_column(ForeignKey("override_requests.id"))
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Append-only: the migration revokes UPDATE/DELETE and adds triggers that raise."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(63))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
