"""Authority: policies, limits per role and user, concessions, overrides and the audit log.

On PostgreSQL these tables are written only by the SECURITY DEFINER functions of
migration 0011 (`rapport_grant_concession`, `rapport_decide_override`, ...): agents may
read them, never write them. On SQLite `app/services/authority_local.py` applies the
same rules in one `BEGIN IMMEDIATE` transaction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Versioned, utcnow
from models.enums import ConcessionType, OverrideDecisionKind, OverrideStatus, Role, enum_type


class Policy(Base):
    """An explicit business rule ("upgrade within 12 months of renewal costs a fee"),
    its fee, the role that may override it and when a customer qualifies for an
    exception (`eligibility`: thresholds such as min_tenure_years, min_bundle_services,
    top_value_percent, max_open_complaints)."""

    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    override_role: Mapped[Role] = mapped_column(enum_type(Role, "policy_override_role"))
    active: Mapped[bool] = mapped_column(default=True)
    fee_cents: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD", server_default="USD")
    eligibility: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AuthorityLimit(Base):
    """What a role, or one user (replacing their role's row), may grant alone, per type.

    One row per (role or user, type). `max_amount_cents` caps one concession,
    `max_percent` a discount's percentage, `daily_budget_cents` what the user may give
    in a day (the budget day is read in `authority_settings.budget_zone`), and
    `max_total_per_period_cents` what one customer may receive of this type over
    `period_days` (from everyone). A row applies from `valid_from` to `valid_until`
    (inclusive, either open); `allowed` false means the type may not be granted alone.
    """

    __tablename__ = "authority_limits"
    __table_args__ = (
        CheckConstraint("(role IS NULL) <> (user_id IS NULL)", name="role_xor_user"),
        CheckConstraint("max_amount_cents >= 0", name="non_negative"),
        CheckConstraint(
            "max_percent IS NULL OR (max_percent >= 0 AND max_percent <= 100)", name="percent"
        ),
        CheckConstraint("daily_budget_cents IS NULL OR daily_budget_cents >= 0", name="budget"),
        CheckConstraint(
            "valid_until IS NULL OR valid_from IS NULL OR valid_until >= valid_from",
            name="validity",
        ),
        Index(
            "ux_authority_limits_role_type",
            "role",
            "concession_type",
            unique=True,
            postgresql_where="role IS NOT NULL",
            sqlite_where="role IS NOT NULL",
        ),
        Index(
            "ux_authority_limits_user_type",
            "user_id",
            "concession_type",
            unique=True,
            postgresql_where="user_id IS NOT NULL",
            sqlite_where="user_id IS NOT NULL",
        ),
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
    allowed: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    max_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    daily_budget_cents: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)


class AuthoritySettings(Base):
    """One row: the zone the daily budget's day is read in, and how long a request waits."""

    __tablename__ = "authority_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint("request_ttl_seconds BETWEEN 30 AND 86400", name="ttl"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    request_ttl_seconds: Mapped[int] = mapped_column(Integer, default=300)


class ConcessionBudget(Base):
    """What one user has given of one type on one day, against the limit of that day."""

    __tablename__ = "concession_budgets"
    __table_args__ = (
        CheckConstraint("spent_cents >= 0", name="non_negative"),
        CheckConstraint("spent_cents <= limit_cents", name="within_limit"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    concession_type: Mapped[ConcessionType] = mapped_column(
        enum_type(ConcessionType, "budget_concession_type"), primary_key=True
    )
    limit_cents: Mapped[int] = mapped_column(Integer)
    spent_cents: Mapped[int] = mapped_column(Integer, default=0)


class AuthorityAction(Base):
    """An idempotency key and the outcome it produced (granted, pending, denied...).

    A retry with the same key and the same parameters (`params_hash`) returns
    `outcome`; with other parameters it is refused (`key_reused`)."""

    __tablename__ = "authority_actions"

    idempotency_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    action: Mapped[str] = mapped_column(String(40))
    login: Mapped[str] = mapped_column(String(63))
    params_hash: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class StaffPresence(Base):
    """Who can approve right now: a heartbeat every 10 s while Rapport runs."""

    __tablename__ = "staff_presence"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OverrideRequest(Versioned, Base):
    __tablename__ = "override_requests"
    __table_args__ = (
        Index("ix_override_requests_status", "status", "requested_at"),
        CheckConstraint("amount_cents >= 0", name="non_negative"),
    )

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
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    currency: Mapped[str] = mapped_column(String(3), default="USD", server_default="USD")
    expires_at: Mapped[dt.datetime | None] = mapped_column()


class OverrideDecision(Base):
    """At most one per request (UNIQUE): a second decision finds it and changes nothing."""

    __tablename__ = "override_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("override_requests.id"), unique=True)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved: Mapped[bool]
    comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decision: Mapped[OverrideDecisionKind | None] = mapped_column(
        enum_type(OverrideDecisionKind, "override_decision_kind")
    )
    counter_amount_cents: Mapped[int | None] = mapped_column(Integer)


class Concession(Base):
    """A discount, credit, sample, gift, fee waiver or policy exception granted.

    Granted within the granter's authority, or through an approved (or accepted
    counter-offered) override request: at most one concession per request (UNIQUE)."""

    __tablename__ = "concessions"
    __table_args__ = (
        CheckConstraint("amount_cents >= 0", name="non_negative"),
        CheckConstraint("percent IS NULL OR (percent > 0 AND percent <= 100)", name="percent"),
        Index("ix_concessions_granted_at", "granted_at"),  # the dashboards' period (0015)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    type: Mapped[ConcessionType] = mapped_column(enum_type(ConcessionType, "concession_type"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    override_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("override_requests.id"), unique=True
    )
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"))
    percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AuditEntry(Base):
    """Append-only for everyone: triggers refuse UPDATE, DELETE and TRUNCATE, no group
    role is granted them, and on PostgreSQL a trigger sets `actor` to `session_user`
    and `at` to the server's clock for everyone but the table's owner (the seeder)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(63))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
