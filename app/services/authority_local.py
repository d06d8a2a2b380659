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
        return {
            "status": "denied",
            "reason": "above_limit",
            "limit_cents": row.max_amount_cents,
            "limit_percent": str(row.max_percent),
        }
    if row.max_total_per_period_cents is not None:
        total = customer_period_total(session, ask.customer_id, ask.type, row.period_days, now)
        if total + ask.amount_cents > row.max_total_per_period_cents:
            return {
                "status": "denied",
                "reason": "customer_limit",
                "limit_cents": row.max_total_per_period_cents,
                "period_days": row.period_days,
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


def validate(session: Session, ask: Ask) -> str | None:
    """Why the ask is invalid, in words; None when it is fine (step 3)."""
    if not isinstance(ask.amount_cents, int) or ask.amount_cents < 0:
        return "the amount cannot be negative"
    if not ask.reason or not ask.reason.strip():
        return "give a reason"
    if len(ask.reason) > REASON_MAX_CHARS:
        return f"the reason is longer than {REASON_MAX_CHARS} characters"
    if not _CURRENCY.match(ask.currency or ""):
        return "the currency must be three capital letters, such as USD"
    if ask.percent is not None and not (0 < ask.percent <= 100):
        return "a percentage must be above 0 and at most 100"
    if session.get(Customer, ask.customer_id) is None:
        return f"customer {ask.customer_id} does not exist"
    if ask.case_id is not None:
        owner = session.scalar(select(Case.customer_id).where(Case.id == ask.case_id))
        if owner is None:
            return f"case {ask.case_id} does not exist"
        if owner != ask.customer_id:
            return "that case is another customer's"
    if ask.order_id is not None:
        owner = session.scalar(select(Order.customer_id).where(Order.id == ask.order_id))
        if owner is None:
            return f"order {ask.order_id} does not exist"
        if owner != ask.customer_id:
            return "that order is another customer's"
    if ask.order_line_id is not None:
        line_order = session.scalar(
            select(OrderLine.order_id).where(OrderLine.id == ask.order_line_id)
        )
        if line_order is None:
            return f"order line {ask.order_line_id} does not exist"
        if ask.order_id is not None and line_order != ask.order_id:
            return "that order line is on another order"
        owner = session.scalar(select(Order.customer_id).where(Order.id == line_order))
        if owner != ask.customer_id:
            return "that order line is another customer's"
    if ask.policy_id is not None and session.get(Policy, ask.policy_id) is None:
        return f"policy {ask.policy_id} does not exist"
    return None


# -- helpers for the writes -----------------------------------------------------------


def row_json(row: Any) -> Json:
    """An ORM row as JSON-ready values (the audit's before/after)."""
    out: Json = {}
    for column in row.__table__.columns:
        out[column.name] = _json_value(getattr(row, column.key))
    return out


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "value") and isinstance(value.value, str):  # a StrEnum
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


def _deny(
    session: Session,
    actor: str,
    now: dt.datetime,
    outcome: Json,
    *,
    action: str = "concession.denied",
    entity: str = "customer",
    entity_id: int | None = None,
    detail: Json | None = None,
) -> Json:
    """Audit a denial (it is recorded even though nothing else is) and return it."""
    record = {k: v for k, v in outcome.items() if k != "status"}
    _audit(session, actor, now, action, entity, entity_id, {**record, **(detail or {})})
    return outcome


def _ask_detail(ask: Ask) -> Json:
    return {
        "type": ask.type.value,
        "amount_cents": ask.amount_cents,
        "currency": ask.currency,
        "percent": None if ask.percent is None else f"{Decimal(ask.percent):.2f}",
        "case_id": ask.case_id,
        "order_id": ask.order_id,
        "policy_id": ask.policy_id,
    }


def _claim_key(
    session: Session, key: str, action: str, login: str, digest: str, now: dt.datetime
) -> Json | None:
    """Step 2: the stored outcome (replayed) or a key_reused denial; None for a new key."""
    stored = session.get(AuthorityAction, key)
    if stored is None:
        session.add(
            AuthorityAction(
                idempotency_key=key, action=action, login=login, params_hash=digest, created_at=now
            )
        )
        session.flush()
        return None
    if stored.params_hash == digest and stored.login == login and stored.outcome is not None:
        return {**stored.outcome, "replayed": True}
    return {"status": "denied", "reason": "key_reused"}


def _store(session: Session, key: str, outcome: Json) -> Json:
    stored = session.get(AuthorityAction, key)
    if stored is not None:
        stored.outcome = dict(outcome)
        session.flush()
    return outcome


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _not_staff(session: Session, login: str, now: dt.datetime, entity: str, ident: int) -> Json:
    return _deny(
        session,
        login,
        now,
        {"status": "denied", "reason": "not_staff"},
        action="concession.denied" if entity == "customer" else "override.denied",
        entity=entity,
        entity_id=ident,
    )


def _ask_preamble(
    session: Session, login: str, now: dt.datetime, key: str, action: str, ask: Ask
) -> tuple[Staff | None, Json | None]:
    """Steps 1-3 of grant and request: (caller, None) to go on, or (_, the outcome)."""
    who = staff(session, login)
    if who is None:
        return None, _not_staff(session, login, now, "customer", ask.customer_id)
    early = _claim_key(session, key, action, login, params_hash(action, ask), now)
    if early is not None:
        if early.get("reason") == "key_reused":
            return who, _deny(
                session, login, now, early, entity_id=ask.customer_id, detail=_ask_detail(ask)
            )
        return who, early
    problem = validate(session, ask)
    if problem is not None:
        denial = {"status": "denied", "reason": "invalid", "detail": problem}
        _deny(session, login, now, denial, entity_id=ask.customer_id, detail=_ask_detail(ask))
        return who, _store(session, key, denial)
    return who, None


# -- the writes -----------------------------------------------------------------------


def grant(session: Session, login: str, now: dt.datetime, key: str, ask: Ask) -> Json:
    who, early = _ask_preamble(session, login, now, key, "grant", ask)
    if early is not None or who is None:
        assert early is not None
        return early
    day = budget_day(session, now)
    denial = evaluate(session, who, ask, day, now)
    if denial is not None:
        denial["required_role"] = _role_value(
            required_role(session, ask.type, ask.amount_cents, ask.percent, day)
        )
        _deny(session, login, now, denial, entity_id=ask.customer_id, detail=_ask_detail(ask))
        return _store(session, key, denial)
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
        reason=ask.reason.strip(),
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
        {"customer_id": ask.customer_id},
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
    """The (user, day, type) budget row, made on first use with today's limit."""
    statement = (
        sqlite.insert(ConcessionBudget)
        .values(user_id=user_id, day=day, concession_type=kind, limit_cents=limit, spent_cents=0)
        .on_conflict_do_nothing()
    )
    session.execute(statement)
    budget = session.get(ConcessionBudget, (user_id, day, kind), populate_existing=True)
    assert budget is not None
    if budget.limit_cents < limit:  # the matrix was raised today: the new limit holds
        budget.limit_cents = limit
    return budget


def request_override(session: Session, login: str, now: dt.datetime, key: str, ask: Ask) -> Json:
    who, early = _ask_preamble(session, login, now, key, "request", ask)
    if early is not None or who is None:
        assert early is not None
        return early
    day = budget_day(session, now)
    if evaluate(session, who, ask, day, now) is None:
        return _store(session, key, {"status": "not_needed"})
    needed = required_role(
        session, ask.type, ask.amount_cents, ask.percent, day, (Role.SUPERVISOR, Role.MANAGER)
    )
    if needed is None:
        denial: Json = {"status": "denied", "reason": "above_every_limit"}
        _deny(session, login, now, denial, entity_id=ask.customer_id, detail=_ask_detail(ask))
        return _store(session, key, denial)
    approvers = approvers_count(session, needed, now, who.id)
    if approvers == 0:
        outcome: Json = {"status": "no_approver", "required_role": needed.value, "approvers": 0}
        _audit(
            session,
            login,
            now,
            "override.no_approver",
            "customer",
            ask.customer_id,
            {**_ask_detail(ask), "required_role": needed.value},
        )
        return _store(session, key, outcome)
    _zone, ttl = settings(session)
    request = OverrideRequest(
        idempotency_key=key,
        customer_id=ask.customer_id,
        case_id=ask.case_id,
        policy_id=ask.policy_id,
        concession_type=ask.type,
        amount_cents=ask.amount_cents,
        reason=ask.reason.strip(),
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
        {"customer_id": ask.customer_id},
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


def decide(
    session: Session,
    login: str,
    now: dt.datetime,
    request_id: int,
    decision: OverrideDecisionKind,
    comment: str | None,
    counter_amount_cents: int | None,
) -> Json:
    who = staff(session, login)
    detail: Json = {"decision": decision.value, "request_id": request_id}
    if who is None:
        return _not_staff(session, login, now, "override", request_id)
    if who.role not in APPROVERS:
        return _deny(
            session,
            login,
            now,
            {"status": "denied", "reason": "not_approver"},
            action="override.denied",
            entity="override",
            entity_id=request_id,
            detail=detail,
        )
    request = session.get(OverrideRequest, request_id, populate_existing=True)
    if request is None:
        return {"status": "denied", "reason": "not_found", "request_id": request_id}
    base = {"request_id": request_id}
    if request.requested_by_id == who.id:
        return _deny(
            session,
            login,
            now,
            {**base, "status": "denied", "reason": "own_request"},
            action="override.denied",
            entity="override",
            entity_id=request_id,
            detail=detail,
        )
    if request.status != OverrideStatus.PENDING:
        return _deny(
            session,
            login,
            now,
            {
                **base,
                "status": "denied",
                "reason": "already_decided",
                "request_status": request.status.value,
            },
            action="override.decide_again",
            entity="override",
            entity_id=request_id,
            detail=detail,
        )
    if request.expires_at is not None and request.expires_at < now:
        _expire(session, login, now, request)
        return {**base, "status": "expired"}
    if RANK[who.role] < RANK[request.required_role]:
        return _deny(
            session,
            login,
            now,
            {
                **base,
                "status": "denied",
                "reason": "not_approver",
                "required_role": request.required_role.value,
            },
            action="override.denied",
            entity="override",
            entity_id=request_id,
            detail=detail,
        )
    day = budget_day(session, now)
    mine = effective_limit(session, who.id, who.role, request.concession_type, day)
    text = (comment or "").strip()
    if decision is OverrideDecisionKind.APPROVE:
        if not _covers(mine, request.amount_cents, request.percent):
            return _above_your_limit(session, login, now, base, mine, detail)
    else:
        if not text:
            return _deny(
                session,
                login,
                now,
                {**base, "status": "denied", "reason": "invalid", "detail": "add a comment"},
                action="override.denied",
                entity="override",
                entity_id=request_id,
                detail=detail,
            )
        if len(text) > REASON_MAX_CHARS:
            return _deny(
                session,
                login,
                now,
                {
                    **base,
                    "status": "denied",
                    "reason": "invalid",
                    "detail": f"the comment is longer than {REASON_MAX_CHARS} characters",
                },
                action="override.denied",
                entity="override",
                entity_id=request_id,
                detail=detail,
            )
    if decision is OverrideDecisionKind.COUNTER:
        counter = counter_amount_cents
        if counter is None or not (0 < counter < request.amount_cents):
            return _deny(
                session,
                login,
                now,
                {
                    **base,
                    "status": "denied",
                    "reason": "invalid",
                    "detail": "a counter-offer is above nothing and below the amount asked",
                },
                action="override.denied",
                entity="override",
                entity_id=request_id,
                detail={**detail, "counter_amount_cents": counter},
            )
        if not _covers(mine, counter, None):
            return _above_your_limit(session, login, now, base, mine, detail)
    before = row_json(request)
    session.add(
        OverrideDecision(
            request_id=request.id,
            decided_by_id=who.id,
            approved=decision is OverrideDecisionKind.APPROVE,
            comment=text or None,
            decided_at=now,
            decision=decision,
            counter_amount_cents=counter_amount_cents
            if decision is OverrideDecisionKind.COUNTER
            else None,
        )
    )
    outcome: Json = dict(base)
    concession_id: int | None = None
    if decision is OverrideDecisionKind.APPROVE:
        request.status = OverrideStatus.APPROVED
        concession_id = _override_concession(
            session, request, request.amount_cents, who.id, f"override-{request.id}", now
        )
        outcome.update(status="approved", concession_id=concession_id)
    elif decision is OverrideDecisionKind.REJECT:
        request.status = OverrideStatus.REJECTED
        outcome.update(status="rejected")
    else:
        request.status = OverrideStatus.COUNTERED
        outcome.update(status="countered", counter_amount_cents=counter_amount_cents)
    session.flush()
    _audit(
        session,
        login,
        now,
        f"override.{decision.value}",
        "override",
        request.id,
        {"comment": text or None, "concession_id": concession_id, **detail},
        before=before,
        after=row_json(request),
    )
    return outcome


def _above_your_limit(
    session: Session,
    login: str,
    now: dt.datetime,
    base: Json,
    mine: AuthorityLimit | None,
    detail: Json,
) -> Json:
    return _deny(
        session,
        login,
        now,
        {
            **base,
            "status": "denied",
            "reason": "above_your_limit",
            "limit_cents": None if mine is None or not mine.allowed else mine.max_amount_cents,
            "required_role": Role.MANAGER.value,
        },
        action="override.denied",
        entity="override",
        entity_id=base["request_id"],
        detail=detail,
    )


def _override_concession(
    session: Session,
    request: OverrideRequest,
    amount_cents: int,
    approver_id: int,
    key: str,
    now: dt.datetime,
) -> int:
    concession = Concession(
        idempotency_key=key,
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
        percent=request.percent,
        policy_id=request.policy_id,
    )
    session.add(concession)
    session.flush()
    return concession.id


def _expire(session: Session, login: str, now: dt.datetime, request: OverrideRequest) -> None:
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
        {"customer_id": request.customer_id},
        before=before,
        after=row_json(request),
    )


def withdraw(session: Session, login: str, now: dt.datetime, request_id: int) -> Json:
    who = staff(session, login)
    if who is None:
        return _not_staff(session, login, now, "override", request_id)
    request = session.get(OverrideRequest, request_id, populate_existing=True)
    base = {"request_id": request_id}
    if request is None:
        return {**base, "status": "denied", "reason": "not_found"}
    if request.requested_by_id != who.id:
        return _deny(
            session,
            login,
            now,
            {**base, "status": "denied", "reason": "not_yours"},
            action="override.denied",
            entity="override",
            entity_id=request_id,
            detail={"action": "withdraw"},
        )
    if request.status != OverrideStatus.PENDING:
        return _deny(
            session,
            login,
            now,
            {
                **base,
                "status": "denied",
                "reason": "not_pending",
                "request_status": request.status.value,
            },
            action="override.denied",
            entity="override",
            entity_id=request_id,
            detail={"action": "withdraw"},
        )
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
        {"customer_id": request.customer_id},
        before=before,
        after=row_json(request),
    )
    return {**base, "status": "withdrawn"}


def accept_counter(
    session: Session, login: str, now: dt.datetime, request_id: int, key: str
) -> Json:
    who = staff(session, login)
    if who is None:
        return _not_staff(session, login, now, "override", request_id)
    request = session.get(OverrideRequest, request_id, populate_existing=True)
    base: Json = {"request_id": request_id}
    if request is None:
        return {**base, "status": "denied", "reason": "not_found"}
    if request.requested_by_id != who.id:
        return _deny(
            session,
            login,
            now,
            {**base, "status": "denied", "reason": "not_yours"},
            action="override.denied",
            entity="override",
            entity_id=request_id,
            detail={"action": "accept_counter"},
        )
    if request.status != OverrideStatus.COUNTERED:
        return _deny(
            session,
            login,
            now,
            {
                **base,
                "status": "denied",
                "reason": "not_pending",
                "request_status": request.status.value,
            },
            action="override.denied",
            entity="override",
            entity_id=request_id,
            detail={"action": "accept_counter"},
        )
    decision = session.scalar(
        select(OverrideDecision).where(OverrideDecision.request_id == request_id)
    )
    assert decision is not None and decision.counter_amount_cents is not None
    existing = session.scalar(
        select(Concession.id).where(Concession.override_request_id == request_id)
    )
    if existing is not None:
        return {
            **base,
            "status": "granted",
            "concession_id": existing,
            "counter_amount_cents": decision.counter_amount_cents,
            "replayed": True,
        }
    concession_id = _override_concession(
        session, request, decision.counter_amount_cents, decision.decided_by_id, key, now
    )
    _audit(
        session,
        login,
        now,
        "override.accept_counter",
        "override",
        request.id,
        {"customer_id": request.customer_id, "concession_id": concession_id},
        after=row_json(request),
    )
    return {
        **base,
        "status": "granted",
        "concession_id": concession_id,
        "counter_amount_cents": decision.counter_amount_cents,
    }


def expire_due(session: Session, login: str, now: dt.datetime) -> list[tuple[int, int]]:
    """Pending requests past their expiry -> expired, each audited; (id, customer) each."""
    due = session.scalars(
        select(OverrideRequest).where(
            OverrideRequest.status == OverrideStatus.PENDING, OverrideRequest.expires_at < now
        )
    ).all()
    for request in due:
        _expire(session, login, now, request)
    return [(r.id, r.customer_id) for r in due]


def set_presence(session: Session, login: str, now: dt.datetime, available: bool) -> None:
    who = staff(session, login)
    if who is None:
        return
    statement = sqlite.insert(StaffPresence).values(
        user_id=who.id, available=available, seen_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[StaffPresence.user_id],
            set_={"available": statement.excluded.available, "seen_at": statement.excluded.seen_at},
        )
    )


@dataclass(frozen=True)
class LimitValues:
    """A matrix row as set_limit receives it."""

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
        parts = (
            "set_limit",
            _text(self.role),
            _text(self.user_id),
            self.type.value,
            "t" if self.allowed else "f",
            _text(self.max_amount_cents),
            "" if self.max_percent is None else f"{Decimal(self.max_percent):.2f}",
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
    if isinstance(value, Role):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _limit_problem(session: Session, row: LimitValues) -> str | None:
    if (row.role is None) == (row.user_id is None):
        return "a limit belongs to a role or to one person, not both"
    if row.user_id is not None and session.get(User, row.user_id) is None:
        return f"user {row.user_id} does not exist"
    if row.max_amount_cents < 0 or (row.daily_budget_cents or 0) < 0:
        return "amounts cannot be negative"
    if (row.max_total_per_period_cents or 0) < 0:
        return "amounts cannot be negative"
    if row.period_days < 1:
        return "the period is at least one day"
    if row.max_percent is not None and not (0 <= row.max_percent <= 100):
        return "a percentage is between 0 and 100"
    if row.valid_from and row.valid_until and row.valid_until < row.valid_from:
        return "the end of validity is before its start"
    return None


def _admin(session: Session, login: str, now: dt.datetime, entity_id: int | None) -> Json | None:
    who = staff(session, login)
    if who is None:
        return _not_staff(session, login, now, "authority_limit", entity_id or 0)
    if who.role is not Role.ADMIN:
        return _deny(
            session,
            login,
            now,
            {"status": "denied", "reason": "not_admin"},
            action="authority.denied",
            entity="authority_limit",
            entity_id=entity_id,
        )
    return None


def set_limit(session: Session, login: str, now: dt.datetime, key: str, row: LimitValues) -> Json:
    refused = _admin(session, login, now, None)
    if refused is not None:
        return refused
    early = _claim_key(session, key, "set_limit", login, row.digest(), now)
    if early is not None:
        if early.get("reason") == "key_reused":
            return _deny(
                session,
                login,
                now,
                early,
                action="authority.denied",
                entity="authority_limit",
                entity_id=None,
            )
        return early
    problem = _limit_problem(session, row)
    if problem is not None:
        denial = {"status": "denied", "reason": "invalid", "detail": problem}
        _deny(session, login, now, denial, action="authority.denied", entity="authority_limit")
        return _store(session, key, denial)
    owner = (
        AuthorityLimit.role == row.role
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
        None,
        before=before,
        after=row_json(target),
    )
    return _store(session, key, {"status": "saved", "limit_id": target.id})


def delete_limit(session: Session, login: str, now: dt.datetime, limit_id: int) -> Json:
    refused = _admin(session, login, now, limit_id)
    if refused is not None:
        return refused
    row = session.get(AuthorityLimit, limit_id)
    if row is None:
        return {"status": "denied", "reason": "not_found"}
    if row.user_id is None:
        return _deny(
            session,
            login,
            now,
            {
                "status": "denied",
                "reason": "invalid",
                "detail": "only a person's adjustment can be deleted; edit a role's row",
            },
            action="authority.denied",
            entity="authority_limit",
            entity_id=limit_id,
        )
    before = row_json(row)
    session.delete(row)
    session.flush()
    _audit(session, login, now, "authority.limit_delete", "authority_limit", limit_id, None, before)
    return {"status": "saved", "limit_id": limit_id}


def _role_value(role: Role | None) -> str | None:
    return None if role is None else role.value
