"""The authority rules on the embedded SQLite database (one user, demos).

The same rules, in the same order, as the PostgreSQL functions of migration 0011
(AUTH_CONTRACT "The rules"): each write runs inside the caller's `db.write()` unit,
which on SQLite is one `BEGIN IMMEDIATE` transaction, so the budget and the request
rows are read and written under the database's write lock (nobody writes between).
Every function returns the outcome as a dict with the keys of the PostgreSQL
functions' jsonb (dates as ISO-8601 text); `AuthorityService` maps both alike.

Every denial is audited and, where a key was given, stored under it, then returned:
a rule never raises. The read-only parts (`effective_limit`, `evaluate`,
`required_role`, `approvers_count`) also serve the service's `check()` and reads on
both databases.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from models.authority import (
    AuditEntry,
    AuthorityAction,
    AuthorityLimit,
    AuthoritySettings,
    Concession,
    ConcessionBudget,
    OverrideDecision,
    OverrideRequest,
    Policy,
    StaffPresence,
)
from models.commerce import Order, OrderLine
from models.enums import ConcessionType, OverrideDecisionKind, OverrideStatus, Role
from models.people import Customer, User
from models.service import Case

REASON_MAX_CHARS = 2000
PRESENCE_FRESH = dt.timedelta(seconds=30)
RANK = {
    Role.AGENT: 1,
    Role.SENIOR_AGENT: 2,
    Role.SUPERVISOR: 3,
    Role.MANAGER: 4,
    Role.ADMIN: 0,
}
APPROVERS = (Role.SUPERVISOR, Role.MANAGER)
_CURRENCY = re.compile(r"^[A-Z]{3}$")

Json = dict[str, Any]


@dataclass(frozen=True)
class Ask:
    """A concession asked for, as the rules see it (the service's ConcessionAsk)."""

    customer_id: int
    type: ConcessionType
    amount_cents: int
    reason: str
    currency: str = "USD"
    case_id: int | None = None
    order_id: int | None = None
    order_line_id: int | None = None
    percent: Decimal | None = None
    policy_id: int | None = None


@dataclass(frozen=True)
class Staff:
    id: int
    login: str
    display_name: str
    role: Role


# -- shared reads ---------------------------------------------------------------------


def params_hash(action: str, ask: Ask) -> str:
    """sha256 hex of the canonical parameters, the formula the PG functions use."""

    def text(value: object) -> str:
        return "" if value is None else str(value)

    percent = "" if ask.percent is None else f"{Decimal(ask.percent):.2f}"
    parts = (
        action,
        text(ask.customer_id),
        ask.type.value,
        text(ask.amount_cents),
        percent,
        ask.currency,
        text(ask.case_id),
        text(ask.order_id),
        text(ask.order_line_id),
        text(ask.policy_id),
        ask.reason,
    )
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def settings(session: Session) -> tuple[str, int]:
    """(budget zone, request time to live in seconds)."""
    row = session.execute(
        select(AuthoritySettings.budget_zone, AuthoritySettings.request_ttl_seconds).where(
            AuthoritySettings.id == 1
        )
    ).first()
    if row is None:
        return "UTC", 300
    return str(row[0]), int(row[1])


def budget_day(session: Session, now: dt.datetime) -> dt.date:
    """The day of `now` in authority_settings.budget_zone (the budget's and validity's day)."""
    zone, _ttl = settings(session)
    try:
        return now.astimezone(ZoneInfo(zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.astimezone(dt.UTC).date()


def staff(session: Session, login: str) -> Staff | None:
    row = session.execute(
        select(User.id, User.login, User.display_name, User.role).where(
            User.login == login, User.active.is_(True)
        )
    ).first()
    return None if row is None else Staff(row[0], row[1], row[2], Role(row[3]))


def _valid_on(day: dt.date) -> Any:
    return (AuthorityLimit.valid_from.is_(None) | (AuthorityLimit.valid_from <= day)) & (
        AuthorityLimit.valid_until.is_(None) | (AuthorityLimit.valid_until >= day)
    )


def effective_limit(
    session: Session, user_id: int, role: Role, kind: ConcessionType, day: dt.date
) -> AuthorityLimit | None:
    """The user's own row for the type if valid on `day`, else their role's, else none."""
    own = session.scalar(
        select(AuthorityLimit).where(
            AuthorityLimit.user_id == user_id,
            AuthorityLimit.concession_type == kind,
            _valid_on(day),
        )
    )
    if own is not None:
        return own
    return session.scalar(
        select(AuthorityLimit).where(
            AuthorityLimit.role == role, AuthorityLimit.concession_type == kind, _valid_on(day)
        )
    )


def _covers(row: AuthorityLimit | None, amount_cents: int, percent: Decimal | None) -> bool:
    if row is None or not row.allowed or amount_cents > row.max_amount_cents:
        return False
    return percent is None or row.max_percent is None or percent <= row.max_percent


def required_role(
    session: Session,
    kind: ConcessionType,
    amount_cents: int,
    percent: Decimal | None,
    day: dt.date,
    among: tuple[Role, ...] = (Role.SENIOR_AGENT, Role.SUPERVISOR, Role.MANAGER),
) -> Role | None:
    """The lowest of `among` whose ROLE row covers the amount and percent (None: none)."""
    for role in among:
        row = session.scalar(
            select(AuthorityLimit).where(
                AuthorityLimit.role == role,
                AuthorityLimit.concession_type == kind,
                _valid_on(day),
            )
        )
        if _covers(row, amount_cents, percent):
            return role
    return None


def spent_today(session: Session, user_id: int, kind: ConcessionType, day: dt.date) -> int:
    return int(
        session.scalar(
            select(ConcessionBudget.spent_cents).where(
                ConcessionBudget.user_id == user_id,
                ConcessionBudget.day == day,
                ConcessionBudget.concession_type == kind,
            )
        )
        or 0
    )


def customer_period_total(
    session: Session, customer_id: int, kind: ConcessionType, days: int, now: dt.datetime
) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(Concession.amount_cents), 0)).where(
                Concession.customer_id == customer_id,
                Concession.type == kind,
                Concession.granted_at >= now - dt.timedelta(days=days),
            )
        )
        or 0
    )


def evaluate(session: Session, who: Staff, ask: Ask, day: dt.date, now: dt.datetime) -> Json | None:
    """Steps 4-7 read only: the denial (without required_role), or None when granted."""
    row = effective_limit(session, who.id, who.role, ask.type, day)
    if row is None or not row.allowed:
        return {"status": "denied", "reason": "type_not_allowed"}
    if ask.amount_cents > row.max_amount_cents:
        return {"status": "denied", "reason": "above_limit", "limit_cents": row.max_amount_cents}
    if ask.percent is not None and row.max_percent is not None and ask.percent > row.max_percent:
        return {"status": "denied", "reason": "above_limit", "limit_cents": row.max_amount_cents}
    if row.max_total_per_period_cents is not None:
        total = customer_period_total(session, ask.customer_id, ask.type, row.period_days, now)
        if total + ask.amount_cents > row.max_total_per_period_cents:
            return {
                "status": "denied",
                "reason": "customer_limit",
                "limit_cents": row.max_total_per_period_cents,
            }
    if row.daily_budget_cents is not None:
        spent = spent_today(session, who.id, ask.type, day)
        limit = max(row.daily_budget_cents, spent)
        if spent + ask.amount_cents > limit:
            return {
                "status": "denied",
                "reason": "over_budget",
                "limit_cents": limit,
                "remaining_budget_cents": limit - spent,
            }
    return None


def approvers_count(
    session: Session, needed: Role, now: dt.datetime, exclude_user: int | None
) -> int:
    """Active supervisors/managers of rank >= needed, available and seen in the last 30 s."""
    roles = [r for r in APPROVERS if RANK[r] >= RANK[needed]]
    query = (
        select(func.count())
        .select_from(User)
        .join(StaffPresence, StaffPresence.user_id == User.id)
        .where(
            User.active.is_(True),
            User.role.in_(roles),
            StaffPresence.available.is_(True),
            StaffPresence.seen_at >= now - PRESENCE_FRESH,
        )
    )
    if exclude_user is not None:
        query = query.where(User.id != exclude_user)
    return int(session.scalar(query) or 0)


BLANK = " \t\r\n\f\v"  # what "blank" strips, as btrim(..., E' \t\r\n\f\x0B') in the functions
TYPES = tuple(t.value for t in ConcessionType)


def is_blank(value: str | None) -> bool:
    return value is None or not value.strip(BLANK)


def key_problem(key: str | None) -> str | None:
    """'key' when an idempotency key is unusable: 1-64 characters, not blank, and not
    'override-...' (the concessions of override requests use those)."""
    if key is None or is_blank(key) or len(key) > 64 or key.startswith("override-"):
        return "key"
    return None


def validate(session: Session, ask: Ask) -> str | None:
    """Step 3: what is invalid in the ask, as the functions name it ('type', 'amount',
    'reason', 'currency', 'percent', 'customer', 'case', 'order', 'order_line',
    'policy'), checked in that order; None when it is fine."""
    if ConcessionType(ask.type).value not in TYPES:
        return "type"
    if not isinstance(ask.amount_cents, int) or ask.amount_cents < 0:
        return "amount"
    if is_blank(ask.reason) or len(ask.reason) > REASON_MAX_CHARS:
        return "reason"
    if not _CURRENCY.match(ask.currency or ""):
        return "currency"
    if ask.percent is not None and not (0 < ask.percent <= 100):
        return "percent"
    if session.get(Customer, ask.customer_id) is None:
        return "customer"
    if ask.case_id is not None and (
        session.scalar(select(Case.customer_id).where(Case.id == ask.case_id)) != ask.customer_id
    ):
        return "case"
    if ask.order_id is not None and (
        session.scalar(select(Order.customer_id).where(Order.id == ask.order_id)) != ask.customer_id
    ):
        return "order"
    if ask.order_line_id is not None:
        line = session.execute(
            select(OrderLine.order_id, Order.customer_id)
            .join(Order, Order.id == OrderLine.order_id)
            .where(OrderLine.id == ask.order_line_id)
        ).first()
        if (
            line is None
            or line[1] != ask.customer_id
            or (ask.order_id is not None and line[0] != ask.order_id)
        ):
            return "order_line"
    if ask.policy_id is not None and session.get(Policy, ask.policy_id) is None:
        return "policy"
    return None


# -- helpers for the writes -----------------------------------------------------------


def row_json(row: Any) -> Json:
    """An ORM row as JSON-ready values (the audit's before/after)."""
    return {c.name: _json_value(getattr(row, c.key)) for c in row.__table__.columns}


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _audit(
    session: Session,
    actor: str,
    now: dt.datetime,
    action: str,
    entity: str,
    entity_id: int | None,
    detail: Json | None = None,
    before: Json | None = None,
    after: Json | None = None,
) -> None:
    session.add(
        AuditEntry(
            at=now,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            detail=detail,
            before=before,
            after=after,
        )
    )
    session.flush()


@dataclass(frozen=True)
class _Call:
    """Who calls, when, and where their denials are audited (as the functions do)."""

    session: Session
    login: str
    now: dt.datetime
    action: str  # the audit action of a denial: concession.denied, override.denied...
    entity: str
    entity_id: int | None
    detail: Json

    def deny(
        self, reason: str, key: str | None = None, fields: Json | None = None, **detail: Any
    ) -> Json:
        """Audit the denial, store it under `key` (when this call claimed it), return it."""
        out: Json = {"status": "denied", "reason": reason, **(fields or {})}
        record = {"reason": reason, **self.detail, **detail}
        record.update({k: v for k, v in (fields or {}).items() if v is not None})
        _audit(self.session, self.login, self.now, self.action, self.entity, self.entity_id, record)
        return _store(self.session, key, out)

    def claim(self, key: str, action: str, digest: str) -> Json | None:
        """Step 2: None when this call owns the key now; else what to return (the stored
        outcome, replayed; or key_reused, audited and never stored)."""
        stored = self.session.get(AuthorityAction, key)
        if stored is None:
            self.session.add(
                AuthorityAction(
                    idempotency_key=key,
                    action=action,
                    login=self.login,
                    params_hash=digest,
                    created_at=self.now,
                )
            )
            self.session.flush()
            return None
        if (
            stored.params_hash == digest
            and stored.login == self.login
            and stored.outcome is not None
        ):
            return {**stored.outcome, "replayed": True}
        return self.deny("key_reused")


def _store(session: Session, key: str | None, outcome: Json) -> Json:
    if key is not None:
        stored = session.get(AuthorityAction, key)
        if stored is not None:
            stored.outcome = dict(outcome)
            session.flush()
    return outcome


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _ask_detail(action: str, key: str, ask: Ask) -> Json:
    return {
        "action": action,
        "type": ConcessionType(ask.type).value,
        "amount_cents": ask.amount_cents,
        "percent": None if ask.percent is None else str(ask.percent),
        "currency": ask.currency,
        "case_id": ask.case_id,
        "order_id": ask.order_id,
        "order_line_id": ask.order_line_id,
        "policy_id": ask.policy_id,
        "key": (key or "")[:64],
    }


def _ask_preamble(
    session: Session, login: str, now: dt.datetime, key: str, action: str, ask: Ask
) -> tuple[_Call, Staff | None, Json | None]:
    """Steps 1-3 of grant and request: (call, caller, None) to go on, or the outcome."""
    call = _Call(
        session,
        login,
        now,
        "concession.denied" if action == "grant" else "override.denied",
        "customer",
        ask.customer_id,
        _ask_detail(action, key, ask),
    )
    who = staff(session, login)
    if who is None:
        return call, None, call.deny("not_staff")
    problem = key_problem(key)
    if problem is not None:
        return call, who, call.deny("invalid", invalid=problem)
    early = call.claim(key, action, params_hash(action, ask))
    if early is not None:
        return call, who, early
    problem = validate(session, ask)
    if problem is not None:
        return call, who, call.deny("invalid", key, invalid=problem)
    return call, who, None


# -- the writes -----------------------------------------------------------------------


def grant(session: Session, login: str, now: dt.datetime, key: str, ask: Ask) -> Json:
    call, who, early = _ask_preamble(session, login, now, key, "grant", ask)
    if early is not None or who is None:
        assert early is not None
        return early
    day = budget_day(session, now)
    denial = evaluate(session, who, ask, day, now)
    if denial is not None:
        fields = {k: v for k, v in denial.items() if k not in ("status", "reason")}
        if denial["reason"] != "over_budget":
            fields["required_role"] = _role_value(
                required_role(session, ask.type, ask.amount_cents, ask.percent, day)
            )
        return call.deny(denial["reason"], key, fields)
    row = effective_limit(session, who.id, who.role, ask.type, day)
    assert row is not None
    remaining: int | None = None
    if row.daily_budget_cents is not None:
        budget = _budget_row(session, who.id, day, ask.type, row.daily_budget_cents)
        budget.spent_cents += ask.amount_cents
        session.flush()
        remaining = budget.limit_cents - budget.spent_cents
    concession = Concession(
        idempotency_key=key,
        customer_id=ask.customer_id,
        case_id=ask.case_id,
        type=ask.type,
        amount_cents=ask.amount_cents,
        currency=ask.currency,
        reason=ask.reason,
        granted_by_id=who.id,
        granted_at=now,
        order_id=ask.order_id,
        order_line_id=ask.order_line_id,
        percent=ask.percent,
        policy_id=ask.policy_id,
    )
    session.add(concession)
    session.flush()
    _audit(
        session,
        login,
        now,
        "concession.grant",
        "concession",
        concession.id,
        {"customer_id": ask.customer_id, "key": key, "remaining_budget_cents": remaining},
        after=row_json(concession),
    )
    outcome = {
        "status": "granted",
        "concession_id": concession.id,
        "remaining_budget_cents": remaining,
    }
    return _store(session, key, outcome)


def _budget_row(
    session: Session, user_id: int, day: dt.date, kind: ConcessionType, limit: int
) -> ConcessionBudget:
    """The (user, day, type) budget row, made on first use; its limit is the larger of
    today's budget and what was spent already (an admin may lower a budget in the day)."""
    statement = (
        sqlite.insert(ConcessionBudget)
        .values(user_id=user_id, day=day, concession_type=kind, limit_cents=limit, spent_cents=0)
        .on_conflict_do_nothing()
    )
    session.execute(statement)
    budget = session.get(ConcessionBudget, (user_id, day, kind), populate_existing=True)
    assert budget is not None
    budget.limit_cents = max(limit, budget.spent_cents)
    return budget


def request_override(session: Session, login: str, now: dt.datetime, key: str, ask: Ask) -> Json:
    call, who, early = _ask_preamble(session, login, now, key, "request", ask)
    if early is not None or who is None:
        assert early is not None
        return early
    day = budget_day(session, now)
    alone = evaluate(session, who, ask, day, now)
    if alone is None:
        row = effective_limit(session, who.id, who.role, ask.type, day)
        remaining = None
        if row is not None and row.daily_budget_cents is not None:
            spent = spent_today(session, who.id, ask.type, day)
            remaining = max(row.daily_budget_cents, spent) - spent
        return _store(session, key, {"status": "not_needed", "remaining_budget_cents": remaining})
    needed = required_role(
        session, ask.type, ask.amount_cents, ask.percent, day, (Role.SUPERVISOR, Role.MANAGER)
    )
    if needed is None:
        return call.deny("above_every_limit", key)
    approvers = approvers_count(session, needed, now, who.id)
    if approvers == 0:
        _audit(
            session,
            login,
            now,
            "override.no_approver",
            "customer",
            ask.customer_id,
            {**call.detail, "required_role": needed.value},
        )
        outcome: Json = {"status": "no_approver", "required_role": needed.value, "approvers": 0}
        return _store(session, key, outcome)
    _zone, ttl = settings(session)
    request = OverrideRequest(
        idempotency_key=key,
        customer_id=ask.customer_id,
        case_id=ask.case_id,
        policy_id=ask.policy_id,
        concession_type=ask.type,
        amount_cents=ask.amount_cents,
        reason=ask.reason,
        requested_by_id=who.id,
        required_role=needed,
        requested_at=now,
        status=OverrideStatus.PENDING,
        order_id=ask.order_id,
        percent=ask.percent,
        currency=ask.currency,
        expires_at=now + dt.timedelta(seconds=ttl),
    )
    session.add(request)
    session.flush()
    _audit(
        session,
        login,
        now,
        "override.request",
        "override",
        request.id,
        {
            "customer_id": ask.customer_id,
            "key": key,
            "approvers": approvers,
            "denied_alone": alone["reason"],
        },
        after=row_json(request),
    )
    outcome = {
        "status": "pending",
        "request_id": request.id,
        "required_role": needed.value,
        "expires_at": _iso(request.expires_at),
        "approvers": approvers,
    }
    return _store(session, key, outcome)


def _request_call(
    session: Session, login: str, now: dt.datetime, request_id: int, detail: Json
) -> _Call:
    return _Call(session, login, now, "override.denied", "override", request_id, detail)


def decide(
    session: Session,
    login: str,
    now: dt.datetime,
    request_id: int,
    decision: OverrideDecisionKind | str,
    comment: str | None,
    counter_amount_cents: int | None,
) -> Json:
    kind = str(decision.value if isinstance(decision, OverrideDecisionKind) else decision)
    call = _request_call(
        session,
        login,
        now,
        request_id,
        {"decision": kind, "counter_amount_cents": counter_amount_cents},
    )
    base: Json = {"request_id": request_id}
    who = staff(session, login)
    if who is None:
        return call.deny("not_staff", None, base)
    if who.role not in APPROVERS:
        return call.deny("not_approver", None, base)
    request = session.get(OverrideRequest, request_id, populate_existing=True)
    if request is None:
        return call.deny("not_found", None, base)
    if request.requested_by_id == who.id:
        return call.deny("own_request", None, base)
    if request.status != OverrideStatus.PENDING:
        again = _Call(
            session, login, now, "override.decide_again", "override", request_id, call.detail
        )
        return again.deny("already_decided", None, {**base, "request_status": request.status.value})
    if request.expires_at is not None and request.expires_at < now:
        _expire(session, login, now, request, "decide")
        return {
            **base,
            "status": "expired",
            "request_status": "expired",
            "expires_at": _iso(request.expires_at),
        }
    if RANK[who.role] < RANK[request.required_role]:
        return call.deny(
            "not_approver", None, {**base, "required_role": request.required_role.value}
        )
    if kind not in ("approve", "reject", "counter"):
        return call.deny("invalid", None, base, invalid="decision")
    if (kind in ("reject", "counter") and is_blank(comment)) or len(comment or "") > (
        REASON_MAX_CHARS
    ):
        return call.deny("invalid", None, base, invalid="comment")
    if kind == "counter" and (
        counter_amount_cents is None or not (0 < counter_amount_cents < request.amount_cents)
    ):
        return call.deny("invalid", None, base, invalid="counter_amount")
    if kind in ("approve", "counter"):
        mine = effective_limit(
            session, who.id, who.role, request.concession_type, budget_day(session, now)
        )
        if (
            mine is None
            or not mine.allowed
            or (kind == "approve" and not _covers(mine, request.amount_cents, request.percent))
            or (kind == "counter" and (counter_amount_cents or 0) > mine.max_amount_cents)
        ):
            return call.deny(
                "above_your_limit",
                None,
                {
                    **base,
                    "limit_cents": None if mine is None else mine.max_amount_cents,
                    "required_role": Role.MANAGER.value,
                },
            )
    status = {"approve": "approved", "reject": "rejected", "counter": "countered"}[kind]
    before = row_json(request)
    session.add(
        OverrideDecision(
            request_id=request.id,
            decided_by_id=who.id,
            approved=kind == "approve",
            comment=comment,
            decided_at=now,
            decision=OverrideDecisionKind(kind),
            counter_amount_cents=counter_amount_cents if kind == "counter" else None,
        )
    )
    request.status = OverrideStatus(status)
    session.flush()
    concession_id = None
    if kind == "approve":
        concession_id = _override_concession(
            session, request, request.amount_cents, request.percent, who.id, now
        )
    _audit(
        session,
        login,
        now,
        f"override.{kind}",
        "override",
        request.id,
        {"comment": comment, "concession_id": concession_id, **call.detail},
        before=before,
        after=row_json(request),
    )
    return {
        **base,
        "status": status,
        "concession_id": concession_id,
        "request_status": status,
        "counter_amount_cents": counter_amount_cents if kind == "counter" else None,
    }


def _override_concession(
    session: Session,
    request: OverrideRequest,
    amount_cents: int,
    percent: Decimal | None,
    approver_id: int,
    now: dt.datetime,
) -> int:
    concession = Concession(
        idempotency_key=f"override-{request.id}",
        customer_id=request.customer_id,
        case_id=request.case_id,
        type=request.concession_type,
        amount_cents=amount_cents,
        currency=request.currency,
        reason=request.reason,
        granted_by_id=request.requested_by_id,
        approved_by_id=approver_id,
        override_request_id=request.id,
        granted_at=now,
        order_id=request.order_id,
        percent=percent,
        policy_id=request.policy_id,
    )
    session.add(concession)
    session.flush()
    return concession.id


def _expire(
    session: Session, login: str, now: dt.datetime, request: OverrideRequest, by: str
) -> None:
    before = row_json(request)
    request.status = OverrideStatus.EXPIRED
    session.flush()
    _audit(
        session,
        login,
        now,
        "override.expire",
        "override",
        request.id,
        {"by": by},
        before=before,
        after=row_json(request),
    )


def withdraw(session: Session, login: str, now: dt.datetime, request_id: int) -> Json:
    call = _request_call(session, login, now, request_id, {"action": "withdraw"})
    base: Json = {"request_id": request_id}
    who = staff(session, login)
    if who is None:
        return call.deny("not_staff", None, base)
    request = session.get(OverrideRequest, request_id, populate_existing=True)
    if request is None:
        return call.deny("not_found", None, base)
    if request.requested_by_id != who.id:
        return call.deny("not_yours", None, base)
    if request.status != OverrideStatus.PENDING:
        return call.deny("not_pending", None, {**base, "request_status": request.status.value})
    before = row_json(request)
    request.status = OverrideStatus.WITHDRAWN
    session.flush()
    _audit(
        session,
        login,
        now,
        "override.withdraw",
        "override",
        request.id,
        None,
        before=before,
        after=row_json(request),
    )
    return {**base, "status": "withdrawn", "request_status": "withdrawn"}


def accept_counter(
    session: Session, login: str, now: dt.datetime, request_id: int, key: str
) -> Json:
    call = _request_call(
        session, login, now, request_id, {"action": "accept_counter", "key": (key or "")[:64]}
    )
    base: Json = {"request_id": request_id}
    who = staff(session, login)
    if who is None:
        return call.deny("not_staff", None, base)
    if key_problem(key) is not None:
        return call.deny("invalid", None, base, invalid="key")
    digest = hashlib.sha256(f"accept_counter|{request_id}".encode()).hexdigest()
    early = call.claim(key, "accept_counter", digest)
    if early is not None:
        return early
    request = session.get(OverrideRequest, request_id, populate_existing=True)
    if request is None:
        return call.deny("not_found", key, base)
    if request.requested_by_id != who.id:
        return call.deny("not_yours", key, base)
    if request.status != OverrideStatus.COUNTERED:
        return call.deny("not_pending", key, {**base, "request_status": request.status.value})
    decision = session.scalar(
        select(OverrideDecision).where(OverrideDecision.request_id == request_id)
    )
    assert decision is not None and decision.counter_amount_cents is not None
    existing = session.scalar(
        select(Concession.id).where(Concession.override_request_id == request_id)
    )
    if existing is not None:
        replay = {
            **base,
            "status": "granted",
            "concession_id": existing,
            "counter_amount_cents": decision.counter_amount_cents,
            "replayed": True,
        }
        return _store(session, key, replay)
    concession_id = _override_concession(
        session, request, decision.counter_amount_cents, None, decision.decided_by_id, now
    )
    concession = session.get(Concession, concession_id)
    _audit(
        session,
        login,
        now,
        "override.accept_counter",
        "override",
        request.id,
        {
            "concession_id": concession_id,
            "counter_amount_cents": decision.counter_amount_cents,
            **call.detail,
        },
        after=None if concession is None else row_json(concession),
    )
    outcome = {
        **base,
        "status": "granted",
        "concession_id": concession_id,
        "counter_amount_cents": decision.counter_amount_cents,
    }
    return _store(session, key, outcome)


def expire_due(session: Session, login: str, now: dt.datetime) -> list[tuple[int, int]]:
    """Pending requests past their expiry -> expired, each audited; (id, customer) each."""
    due = session.scalars(
        select(OverrideRequest)
        .where(OverrideRequest.status == OverrideStatus.PENDING, OverrideRequest.expires_at < now)
        .order_by(OverrideRequest.id)
    ).all()
    for request in due:
        _expire(session, login, now, request, "expire")
    return [(r.id, r.customer_id) for r in due]


def set_presence(session: Session, login: str, now: dt.datetime, available: bool) -> None:
    who = staff(session, login)
    if who is None:
        return
    statement = sqlite.insert(StaffPresence).values(
        user_id=who.id, available=bool(available), seen_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[StaffPresence.user_id],
            set_={"available": statement.excluded.available, "seen_at": statement.excluded.seen_at},
        )
    )


@dataclass(frozen=True)
class LimitValues:
    """A matrix row as set_limit receives it (max_percent rounded to 2 decimals)."""

    role: Role | None
    user_id: int | None
    type: ConcessionType
    allowed: bool
    max_amount_cents: int
    max_percent: Decimal | None
    daily_budget_cents: int | None
    period_days: int
    max_total_per_period_cents: int | None
    valid_from: dt.date | None
    valid_until: dt.date | None

    def digest(self) -> str:
        """sha256 of 'set_limit|role|user|type|allowed|max_amount|max_percent|
        daily_budget|period_days|max_total|valid_from|valid_until', as the function."""
        parts = (
            "set_limit",
            "" if self.role is None else Role(self.role).value,
            _text(self.user_id),
            ConcessionType(self.type).value,
            "true" if self.allowed else "false",
            _text(self.max_amount_cents),
            "" if self.max_percent is None else f"{self.max_percent:.2f}",
            _text(self.daily_budget_cents),
            _text(self.period_days),
            _text(self.max_total_per_period_cents),
            _text(self.valid_from),
            _text(self.valid_until),
        )
        return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def limit_problem(session: Session, row: LimitValues) -> str | None:
    """What is invalid in a matrix row, as rapport_set_limit names it, or None."""
    if (row.role is None) == (row.user_id is None):
        return "role_or_user"
    if row.user_id is not None and session.get(User, row.user_id) is None:
        return "user"
    if row.max_amount_cents is None or row.max_amount_cents < 0:
        return "max_amount"
    if row.max_percent is not None and not (0 <= row.max_percent <= 100):
        return "max_percent"
    if row.daily_budget_cents is not None and row.daily_budget_cents < 0:
        return "daily_budget"
    if row.period_days is None or row.period_days < 1:
        return "period_days"
    if row.max_total_per_period_cents is not None and row.max_total_per_period_cents < 0:
        return "max_total"
    if row.valid_from and row.valid_until and row.valid_until < row.valid_from:
        return "validity"
    return None


def _admin(call: _Call) -> Json | None:
    who = staff(call.session, call.login)
    if who is None:
        return call.deny("not_staff")
    if who.role is not Role.ADMIN:
        return call.deny("not_admin")
    return None


def set_limit(session: Session, login: str, now: dt.datetime, key: str, row: LimitValues) -> Json:
    detail = {
        "role": None if row.role is None else Role(row.role).value,
        "user_id": row.user_id,
        "type": ConcessionType(row.type).value,
        "key": (key or "")[:64],
    }
    call = _Call(session, login, now, "authority.denied", "authority_limit", None, detail)
    refused = _admin(call)
    if refused is not None:
        return refused
    if key_problem(key) is not None:
        return call.deny("invalid", None, invalid="key")
    early = call.claim(key, "set_limit", row.digest())
    if early is not None:
        return early
    problem = limit_problem(session, row)
    if problem is not None:
        return call.deny("invalid", key, invalid=problem)
    owner = (
        (AuthorityLimit.role == row.role) & AuthorityLimit.user_id.is_(None)
        if row.role is not None
        else AuthorityLimit.user_id == row.user_id
    )
    existing = session.scalar(
        select(AuthorityLimit).where(owner, AuthorityLimit.concession_type == row.type)
    )
    before = None if existing is None else row_json(existing)
    target = existing or AuthorityLimit(
        role=row.role, user_id=row.user_id, concession_type=row.type
    )
    target.allowed = row.allowed
    target.max_amount_cents = row.max_amount_cents
    target.max_percent = row.max_percent
    target.daily_budget_cents = row.daily_budget_cents
    target.period_days = row.period_days
    target.max_total_per_period_cents = row.max_total_per_period_cents
    target.valid_from = row.valid_from
    target.valid_until = row.valid_until
    if existing is None:
        session.add(target)
    session.flush()
    _audit(
        session,
        login,
        now,
        "authority.limit",
        "authority_limit",
        target.id,
        detail,
        before=before,
        after=row_json(target),
    )
    return _store(session, key, {"status": "saved"})


def delete_limit(session: Session, login: str, now: dt.datetime, limit_id: int) -> Json:
    call = _Call(
        session,
        login,
        now,
        "authority.denied",
        "authority_limit",
        limit_id,
        {"action": "delete_limit"},
    )
    refused = _admin(call)
    if refused is not None:
        return refused
    row = session.get(AuthorityLimit, limit_id)
    if row is None:
        return call.deny("not_found")
    if row.user_id is None:
        return call.deny("invalid", invalid="role_row")
    before = row_json(row)
    session.delete(row)
    session.flush()
    _audit(
        session,
        login,
        now,
        "authority.limit_delete",
        "authority_limit",
        limit_id,
        call.detail,
        before=before,
    )
    return {"status": "saved"}


def _role_value(role: Role | None) -> str | None:
    return None if role is None else role.value
