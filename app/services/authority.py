"""Authority: what an agent may grant alone, override requests and their answers.

The rules live in one place per database. On PostgreSQL they are the SECURITY DEFINER
functions of migration 0011 (`models/migrations/versions/0011_authority.sql`): this
service only calls them, so a client that skips it gains nothing. On the embedded
SQLite database (one user, demos) `app/services/authority_local.py` applies the same
rules in one `BEGIN IMMEDIATE` transaction. Both return the same `Outcome` keys, and
`tests/test_authority_rules.py` runs one set of cases against both.

Every write carries a client-made idempotency key (`new_key()`): a retry with the same
key and the same parameters returns the first outcome (`replayed` true); the same key
with other parameters is refused (`key_reused`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import math
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session, aliased

from app.agent import AgentContext
from app.clock import Clock, local_today, system_clock
from app.errors import UserError
from app.services import authority_local as local
from app.services import churn_facts
from models.authority import (
    AuthorityLimit,
    Concession,
    OverrideDecision,
    OverrideRequest,
    Policy,
    StaffPresence,
)
from models.commerce import Bundle, Contract, Order
from models.database import Database
from models.enums import (
    OPEN_CASE_STATUSES,
    ConcessionType,
    ContractStatus,
    OrderStatus,
    OverrideDecisionKind,
    OverrideStatus,
    Role,
)
from models.people import Customer, User
from models.service import Case

# How long a heartbeat keeps someone "available" to approve (app sends one every 10 s).
PRESENCE_FRESH = dt.timedelta(seconds=30)
# Who may approve what: a request needing `supervisor` goes to supervisors and managers.
ROLE_RANK = {
    Role.AGENT: 1,
    Role.SENIOR_AGENT: 2,
    Role.SUPERVISOR: 3,
    Role.MANAGER: 4,
    Role.ADMIN: 0,  # edits the matrix; approves nothing
}
APPROVER_ROLES = (Role.SUPERVISOR, Role.MANAGER)


def new_key() -> str:
    """An idempotency key for one click (kept for the retries of that click)."""
    return uuid.uuid4().hex


class Status(enum.StrEnum):
    """What an authority call did (the `status` key of every outcome)."""

    GRANTED = "granted"  # a concession was recorded
    PENDING = "pending"  # an override request is waiting for an approver
    APPROVED = "approved"  # the request was approved and its concession recorded
    REJECTED = "rejected"
    COUNTERED = "countered"  # the approver offered less (counter_amount_cents)
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    NO_APPROVER = "no_approver"  # nobody who could approve is available: told at once
    NOT_NEEDED = "not_needed"  # within the agent's own authority: grant it instead
    DENIED = "denied"  # refused; `reason` says why (and it was audited)
    SAVED = "saved"  # a matrix row was written


class Denial(enum.StrEnum):
    """Why an authority call was refused (the `reason` key)."""

    NOT_STAFF = "not_staff"  # the login has no active staff row
    INVALID = "invalid"  # bad input (amount, percent, reason, currency, ids)
    KEY_REUSED = "key_reused"  # same key, other parameters
    TYPE_NOT_ALLOWED = "type_not_allowed"  # no valid matrix row, or allowed is false
    ABOVE_LIMIT = "above_limit"  # amount > max_amount_cents or percent > max_percent
    CUSTOMER_LIMIT = "customer_limit"  # this customer's total over the period
    OVER_BUDGET = "over_budget"  # the granter's daily budget for the type
    ABOVE_EVERY_LIMIT = "above_every_limit"  # not even a manager may grant it
    NOT_APPROVER = "not_approver"  # caller's role cannot decide this request
    OWN_REQUEST = "own_request"  # nobody decides their own request
    ABOVE_YOUR_LIMIT = "above_your_limit"  # the approver's own limit is lower
    ALREADY_DECIDED = "already_decided"  # a second decision changes nothing
    NOT_PENDING = "not_pending"  # withdraw/accept on a request in another state
    NOT_YOURS = "not_yours"  # withdraw/accept by someone other than the requester
    NOT_FOUND = "not_found"
    NOT_ADMIN = "not_admin"  # only admins edit the matrix


@dataclass(frozen=True)
class ConcessionAsk:
    """What the agent wants to give the customer."""

    customer_id: int
    type: ConcessionType
    amount_cents: int  # the value given; for a percentage discount, the discount's value
    reason: str
    currency: str = "USD"
    case_id: int | None = None
    order_id: int | None = None
    order_line_id: int | None = None
    percent: Decimal | None = None  # a discount given as a percentage (0 < p <= 100)
    policy_id: int | None = None  # the policy waived or excepted


@dataclass(frozen=True)
class Outcome:
    """The result of grant / request / decide / withdraw / accept / set_limit.

    PostgreSQL functions return it as jsonb with these keys; `message` is made here
    (`describe`), in the agent's words, from `status`, `reason` and the numbers."""

    status: Status
    reason: Denial | None = None
    message: str = ""
    concession_id: int | None = None
    request_id: int | None = None
    required_role: Role | None = None
    limit_cents: int | None = None  # the limit that refused, when one did
    remaining_budget_cents: int | None = None  # of the type, today, after this call
    expires_at: dt.datetime | None = None
    counter_amount_cents: int | None = None
    request_status: OverrideStatus | None = None  # with already_decided / not_pending
    approvers: int | None = None  # how many could approve now (request)
    replayed: bool = False  # a retry with the same key: the first outcome, unchanged
    # Added by the service (not required in the functions' jsonb) for the words:
    detail: str | None = None  # with `invalid`: what is wrong, in words
    limit_percent: Decimal | None = None  # with above_limit on a percentage
    period_days: int | None = None  # with customer_limit: the period of the limit
    limit_id: int | None = None  # with saved: the matrix row written or deleted
    type: ConcessionType | None = None  # what was asked / decided (the ask or the request)
    amount_cents: int | None = None
    currency: str | None = None
    decided_by: str | None = None  # with already_decided: who decided, display name
    decided_at: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.status not in (Status.DENIED, Status.NO_APPROVER)


@dataclass(frozen=True)
class TypeAuthority:
    """One concession type as the acting user may grant it today."""

    type: ConcessionType
    allowed: bool
    max_amount_cents: int | None
    max_percent: Decimal | None
    daily_budget_cents: int | None  # None: no daily budget
    spent_today_cents: int
    customer_period_days: int | None
    customer_period_cents: int | None

    @property
    def remaining_today_cents(self) -> int | None:
        if self.daily_budget_cents is None:
            return None
        return max(0, self.daily_budget_cents - self.spent_today_cents)


@dataclass(frozen=True)
class Check:
    """Would this ask be granted alone? (a read; the write decides for real)"""

    within: bool
    reason: Denial | None
    message: str
    required_role: Role | None  # who must approve when not within


@dataclass(frozen=True)
class LedgerRow:
    """One concession a customer received."""

    id: int
    granted_at: dt.datetime
    type: ConcessionType
    amount_cents: int
    currency: str
    percent: Decimal | None
    reason: str
    granted_by: str  # display name
    approved_by: str | None  # display name, when an override approved it
    case_reference: str | None
    order_number: str | None
    policy_code: str | None


@dataclass(frozen=True)
class RelationshipSummary:
    """What a supervisor sees beside a request."""

    customer_id: int
    name: str
    customer_since: dt.date | None
    tenure_years: int | None
    tier: str | None
    lifetime_value_cents: int
    value_top_percent: int | None  # 5 means "top 5% by value"
    services: tuple[str, ...]  # active contracts / bundle services
    bundle: str | None
    concessions_12m: int
    concessions_12m_cents: int
    open_complaints: int
    open_cases: int
    churn_risk: str | None  # "high: 2 broken promises in the last 6 months; ..." or "none"
    bundle_services: int = 0  # active services in the biggest bundle (added by authsvc)
    currency: str = "USD"  # of lifetime_value_cents (added by authsvc)


@dataclass(frozen=True)
class PolicyHint:
    """A policy and whether this customer qualifies for an exception, with why."""

    policy_id: int
    code: str
    name: str
    rule_text: str
    fee_cents: int | None
    currency: str
    override_role: Role
    qualifies: bool
    reasons: tuple[str, ...]  # "customer since 1997", "4 services in one bundle", ...
    missing: tuple[str, ...]  # what keeps them from qualifying


@dataclass(frozen=True)
class OverrideView:
    """An override request as the requester or an approver sees it."""

    id: int
    status: OverrideStatus
    customer_id: int
    customer_name: str
    case_id: int | None
    case_reference: str | None
    type: ConcessionType
    amount_cents: int
    currency: str
    percent: Decimal | None
    policy_code: str | None
    reason: str
    requested_by: str  # display name
    requested_by_login: str
    requested_at: dt.datetime
    required_role: Role
    expires_at: dt.datetime | None
    decided_by: str | None = None
    decision: OverrideDecisionKind | None = None
    comment: str | None = None
    counter_amount_cents: int | None = None
    decided_at: dt.datetime | None = None
    concession_id: int | None = None
    policy_name: str | None = None  # "Early upgrade fee"


@dataclass(frozen=True)
class LimitRow:
    """One row of the authority matrix (role or user, type)."""

    id: int | None
    role: Role | None
    user_id: int | None
    user_name: str | None
    type: ConcessionType
    allowed: bool
    max_amount_cents: int
    max_percent: Decimal | None
    daily_budget_cents: int | None
    period_days: int
    max_total_per_period_cents: int | None
    valid_from: dt.date | None
    valid_until: dt.date | None


@dataclass(frozen=True)
class ProductAvailability:
    """A product looked up: price, stock per store, and its launch when it is coming."""

    product_id: int
    sku: str
    name: str
    category: str
    price_cents: int
    launch_date: dt.date | None
    launch_note: str | None  # "from 16 Dec, in two weeks"; None when on sale
    in_stock: int  # units over all stores
    stores: tuple[tuple[str, int, dt.date | None], ...] = field(default=())  # (store, qty, next)


# -- words ------------------------------------------------------------------------------

# What a concession type is called in a sentence ("a $25.00 goodwill gift").
TYPE_LABELS = {
    ConcessionType.DISCOUNT: "discount",
    ConcessionType.CREDIT: "account credit",
    ConcessionType.SAMPLE: "free sample",
    ConcessionType.GOODWILL_GIFT: "goodwill gift",
    ConcessionType.FEE_WAIVER: "fee waiver",
    ConcessionType.POLICY_EXCEPTION: "policy exception",
}
# ...and its daily budget ("today's goodwill budget").
BUDGET_LABELS = {
    ConcessionType.DISCOUNT: "discount",
    ConcessionType.CREDIT: "credit",
    ConcessionType.SAMPLE: "sample",
    ConcessionType.GOODWILL_GIFT: "goodwill",
    ConcessionType.FEE_WAIVER: "fee waiver",
    ConcessionType.POLICY_EXCEPTION: "policy exception",
}
ROLE_LABELS = {
    Role.AGENT: "agent",
    Role.SENIOR_AGENT: "senior agent",
    Role.SUPERVISOR: "supervisor",
    Role.MANAGER: "manager",
    Role.ADMIN: "administrator",
}
_CURRENCY_SIGNS = {"USD": "$", "GBP": "£", "EUR": "€", "AUD": "A$"}


def money(cents: int, currency: str = "USD") -> str:
    """'$1,234.50': as ui/formatting.money writes it (app/ may not import ui/)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{_CURRENCY_SIGNS.get(currency, currency + ' ')}{abs(cents) / 100:,.2f}"


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def _a(role: Role | None) -> str:
    return "a manager" if role is Role.MANAGER else f"a {ROLE_LABELS.get(role or Role.SUPERVISOR)}"


def _what(outcome: Outcome) -> str:
    """'$25.00 goodwill gift' (or just 'goodwill gift' when the amount is unknown)."""
    label = TYPE_LABELS.get(outcome.type, "concession") if outcome.type else "concession"
    if outcome.amount_cents is None:
        return label
    return f"{money(outcome.amount_cents, outcome.currency or 'USD')} {label}"


def _clock_time(value: dt.datetime | None) -> str:
    return "" if value is None else f"{value.astimezone():%H:%M}"


def describe(outcome: Outcome) -> str:
    """The agent's words for an outcome, from its status, reason and numbers."""
    currency = outcome.currency or "USD"
    label = TYPE_LABELS.get(outcome.type, "concession") if outcome.type else "concession"
    status = outcome.status
    if status is Status.GRANTED:
        amount = outcome.counter_amount_cents or outcome.amount_cents
        what = f"{money(amount, currency)} {label}" if amount is not None else label
        text = f"Granted: {what}."
        if outcome.remaining_budget_cents is not None and outcome.type is not None:
            left = money(outcome.remaining_budget_cents, currency)
            text += f" {left} of today's {BUDGET_LABELS[outcome.type]} budget left."
        return f"{text} (Recorded before: nothing changed.)" if outcome.replayed else text
    if status is Status.PENDING:
        who = ROLE_LABELS[outcome.required_role or Role.SUPERVISOR]
        count = outcome.approvers or 0
        plural = "s" if count != 1 else ""
        until = (
            f" The request waits until {_clock_time(outcome.expires_at)}."
            if (outcome.expires_at)
            else ""
        )
        return f"Asked {count} {who}{plural} to approve {_what(outcome)}.{until}"
    if status is Status.APPROVED:
        return f"Approved: {_what(outcome)} granted."
    if status is Status.REJECTED:
        return f"Rejected: {_what(outcome)} not granted."
    if status is Status.COUNTERED:
        offer = money(outcome.counter_amount_cents or 0, currency)
        return f"Counter-offer: {offer} instead of {_what(outcome)}."
    if status is Status.WITHDRAWN:
        return "Request withdrawn: nothing was granted."
    if status is Status.EXPIRED:
        return "The request expired before anyone decided: nothing was granted."
    if status is Status.NO_APPROVER:
        who = ROLE_LABELS[outcome.required_role or Role.SUPERVISOR]
        why = outcome.detail or "none signed in"
        return f"No {who} is available right now ({why}): offer a callback instead."
    if status is Status.NOT_NEEDED:
        return f"Within your authority: grant the {label} yourself."
    if status is Status.SAVED:
        return "Saved."
    return _denial_words(outcome, label, currency)


def _denial_words(outcome: Outcome, label: str, currency: str) -> str:
    reason = outcome.reason
    # Overrides go to supervisors and managers: where a senior agent's role would cover
    # it, the agent still asks a supervisor.
    asked = outcome.required_role
    if asked is not None and ROLE_RANK.get(asked, 0) < ROLE_RANK[Role.SUPERVISOR]:
        asked = Role.SUPERVISOR
    ask = f"ask {_a(asked)}" if asked else ""
    nobody = "no role may grant it alone"
    if reason is Denial.NOT_STAFF:
        return "You are not on this database's staff list: ask an administrator."
    if reason is Denial.INVALID:
        return f"Not recorded: {outcome.detail or 'check the details'}."
    if reason is Denial.KEY_REUSED:
        return "This click was already used for something else: nothing changed, try again."
    if reason is Denial.TYPE_NOT_ALLOWED:
        return f"You may not grant a {label} alone: {ask or nobody}."
    if reason is Denial.ABOVE_LIMIT:
        if outcome.limit_percent is not None:
            limit = _percent(outcome.limit_percent)
        else:
            limit = money(outcome.limit_cents or 0, currency)
        return f"Above your limit of {limit} for a {label}: {ask or nobody}."
    if reason is Denial.CUSTOMER_LIMIT:
        period = f" in {outcome.period_days} days" if outcome.period_days else ""
        limit = money(outcome.limit_cents or 0, currency)
        return (
            f"This customer would pass the limit of {limit} for a {label}{period}: {ask or nobody}."
        )
    if reason is Denial.OVER_BUDGET:
        left = money(outcome.remaining_budget_cents or 0, currency)
        budget = BUDGET_LABELS.get(outcome.type, label) if outcome.type else label
        of = money(outcome.limit_cents or 0, currency)
        return f"Over your daily {budget} budget ({left} of {of} left): {ask or nobody}."
    if reason is Denial.ABOVE_EVERY_LIMIT:
        return f"Above every limit for a {label}, a manager's too: lower the amount."
    if reason is Denial.NOT_APPROVER:
        if outcome.required_role is Role.MANAGER:
            return "This request needs a manager."
        return "Only a supervisor or a manager can decide a request."
    if reason is Denial.OWN_REQUEST:
        return "You cannot decide your own request: another approver must."
    if reason is Denial.ABOVE_YOUR_LIMIT:
        limit = money(outcome.limit_cents or 0, currency)
        return f"Above your own limit of {limit} for a {label}: a manager must decide."
    if reason is Denial.ALREADY_DECIDED:
        state = outcome.request_status.value if outcome.request_status else "decided"
        by = f" by {outcome.decided_by}" if outcome.decided_by else ""
        at = f" at {_clock_time(outcome.decided_at)}" if outcome.decided_at else ""
        return f"Already {state}{by}{at}: nothing changed."
    if reason is Denial.NOT_PENDING:
        state = outcome.request_status.value if outcome.request_status else "decided"
        return f"The request is no longer waiting ({state}): nothing changed."
    if reason is Denial.NOT_YOURS:
        return "Only the agent who asked can do that."
    if reason is Denial.NOT_FOUND:
        return "That request no longer exists."
    if reason is Denial.NOT_ADMIN:
        return "Only an administrator can change the authority matrix."
    return "Refused."


# -- the service ------------------------------------------------------------------------

_OUTCOME_INTS = (
    "concession_id",
    "request_id",
    "limit_cents",
    "remaining_budget_cents",
    "counter_amount_cents",
    "approvers",
    "period_days",
    "limit_id",
)
VALUE_SAMPLE = 4000  # customers sampled for "top N% by value" (exact below this many)


def outcome_from(data: dict[str, Any], **known: Any) -> Outcome:
    """An Outcome from a function's jsonb or authority_local's dict (+ what the caller knows)."""
    values: dict[str, Any] = {"status": Status(data["status"])}
    if data.get("reason"):
        values["reason"] = Denial(data["reason"])
    for name in _OUTCOME_INTS:
        if data.get(name) is not None:
            values[name] = int(data[name])
    if data.get("required_role"):
        values["required_role"] = Role(data["required_role"])
    if data.get("request_status"):
        values["request_status"] = OverrideStatus(data["request_status"])
    if data.get("expires_at"):
        values["expires_at"] = _instant(data["expires_at"])
    if data.get("limit_percent") is not None:
        values["limit_percent"] = Decimal(str(data["limit_percent"]))
    if data.get("detail"):
        values["detail"] = str(data["detail"])
    values["replayed"] = bool(data.get("replayed", False))
    for name, value in known.items():
        if value is not None and values.get(name) is None:
            values[name] = value
    outcome = Outcome(**values)
    return dataclasses.replace(outcome, message=describe(outcome))


def _instant(value: Any) -> dt.datetime:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _round_percent(value: Decimal | float | int | None) -> Decimal | None:
    """Percentages are rounded half away from zero to 2 decimals, then validated,
    compared, stored and hashed (as round(p, 2) in the PostgreSQL functions)."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# What `invalid` was about, in words (the codes are the PostgreSQL functions').
INVALID_WORDS = {
    "type": "choose what to give",
    "amount": "the amount cannot be negative",
    "reason": "give a reason (at most 2,000 characters)",
    "currency": "the currency must be three capital letters, such as USD",
    "percent": "a percentage must be above 0 and at most 100",
    "customer": "that customer does not exist",
    "case": "that case is not this customer's",
    "order": "that order is not this customer's",
    "order_line": "that order line is not on this customer's order",
    "policy": "that policy does not exist",
    "key": "the click carried no usable key; try again",
    "decision": "choose approve, reject or counter-offer",
    "comment": "add a comment (at most 2,000 characters)",
    "counter_amount": "a counter-offer must be more than nothing and less than the amount asked",
    "role_or_user": "a limit belongs to a role or to one person",
    "user": "that person is not on the staff list",
    "max_amount": "amounts cannot be negative",
    "daily_budget": "amounts cannot be negative",
    "max_total": "amounts cannot be negative",
    "max_percent": "a percentage is between 0 and 100",
    "period_days": "the period is at least one day",
    "validity": "the end of validity is before its start",
    "role_row": "a role's row is edited, never deleted",
}


def _local(ask: ConcessionAsk) -> local.Ask:
    return local.Ask(
        customer_id=ask.customer_id,
        type=ConcessionType(ask.type),
        amount_cents=ask.amount_cents,
        reason=ask.reason,
        currency=ask.currency,
        case_id=ask.case_id,
        order_id=ask.order_id,
        order_line_id=ask.order_line_id,
        percent=_round_percent(ask.percent),
        policy_id=ask.policy_id,
    )


def _ask_params(ask: ConcessionAsk, key: str) -> dict[str, Any]:
    return {
        "key": key,
        "customer": ask.customer_id,
        "type": ConcessionType(ask.type).value,
        "amount": ask.amount_cents,
        "reason": ask.reason,
        "currency": ask.currency,
        "case": ask.case_id,
        "order": ask.order_id,
        "line": ask.order_line_id,
        "percent": ask.percent,
        "policy": ask.policy_id,
    }


_ASK_ARGS = (
    "CAST(:key AS text), CAST(:customer AS integer), CAST(:type AS text), "
    "CAST(:amount AS integer), CAST(:reason AS text), CAST(:currency AS text), "
    "CAST(:case AS integer), CAST(:order AS integer), CAST(:line AS integer), "
    "CAST(:percent AS numeric), CAST(:policy AS integer)"
)


class AuthorityService:
    """What the acting agent may grant, and the override flow, on either database.

    Writes on PostgreSQL call the SECURITY DEFINER functions (the database decides and
    audits, as the connected login); on SQLite `authority_local` applies the same rules
    in one BEGIN IMMEDIATE transaction with the service's clock. Reads are plain
    SELECTs on both."""

    def __init__(self, db: Database, clock: Clock = system_clock, *, agent: AgentContext) -> None:
        self._db = db
        self.clock = clock
        self.agent = agent

    @property
    def backend(self) -> str:
        return self._db.backend

    @property
    def _pg(self) -> bool:
        return self._db.backend == "postgresql"

    def _call(self, sql: str, params: dict[str, Any]) -> dict[str, Any]:
        """Call an authority function; its jsonb outcome as a dict. Every login may
        call each of them: a refusal is the function's own, audited by the database."""
        with self._db.write() as session:
            value = session.execute(text(sql), params).scalar()
        if isinstance(value, str):
            value = json.loads(value)
        if not isinstance(value, dict):
            raise UserError("The database gave no answer for that: try again.")
        return value

    # -- writes ---------------------------------------------------------------------------

    def grant(self, ask: ConcessionAsk, key: str) -> Outcome:
        """Grant within the agent's authority, once per key (a retry returns the first)."""
        if self._pg:
            data = self._call(
                f"SELECT rapport_grant_concession({_ASK_ARGS})", _ask_params(ask, key)
            )
        else:
            with self._db.write() as session:
                data = local.grant(session, self.agent.login, self.clock(), key, _local(ask))
        return outcome_from(data, **_ask_known(ask), **self._why_denied(data, ask, key))

    def request_override(self, ask: ConcessionAsk, key: str) -> Outcome:
        """Ask the available supervisors (or managers) to approve what is above my limit."""
        if self._pg:
            data = self._call(
                f"SELECT rapport_request_override({_ASK_ARGS})", _ask_params(ask, key)
            )
        else:
            with self._db.write() as session:
                data = local.request_override(
                    session, self.agent.login, self.clock(), key, _local(ask)
                )
        extra = self._why_denied(data, ask, key)
        if data.get("status") == Status.NO_APPROVER.value:
            extra["detail"] = self._why_nobody(Role(data.get("required_role") or "supervisor"))
        return outcome_from(data, **_ask_known(ask), **extra)

    def withdraw(self, request_id: int) -> Outcome:
        if self._pg:
            data = self._call(
                "SELECT rapport_withdraw_override(CAST(:id AS integer))", {"id": request_id}
            )
        else:
            with self._db.write() as session:
                data = local.withdraw(session, self.agent.login, self.clock(), request_id)
        return self._about_request(data, request_id)

    def decide(
        self,
        request_id: int,
        decision: OverrideDecisionKind,
        comment: str,
        counter_amount_cents: int | None = None,
    ) -> Outcome:
        kind = OverrideDecisionKind(decision)
        if self._pg:
            data = self._call(
                "SELECT rapport_decide_override(CAST(:id AS integer), CAST(:decision AS text), "
                "CAST(:comment AS text), CAST(:counter AS integer))",
                {
                    "id": request_id,
                    "decision": kind.value,
                    "comment": comment,
                    "counter": counter_amount_cents,
                },
            )
        else:
            with self._db.write() as session:
                data = local.decide(
                    session,
                    self.agent.login,
                    self.clock(),
                    request_id,
                    kind,
                    comment,
                    counter_amount_cents,
                )
        detail = None
        if data.get("reason") == Denial.INVALID.value:
            if kind is not OverrideDecisionKind.APPROVE and local.is_blank(comment):
                detail = INVALID_WORDS["comment"]
            elif len(comment or "") > local.REASON_MAX_CHARS:
                detail = INVALID_WORDS["comment"]
            else:
                detail = INVALID_WORDS["counter_amount"]
        return self._about_request(data, request_id, detail=detail)

    def accept_counter(self, request_id: int, key: str) -> Outcome:
        if self._pg:
            data = self._call(
                "SELECT rapport_accept_counter(CAST(:id AS integer), CAST(:key AS text))",
                {"id": request_id, "key": key},
            )
        else:
            with self._db.write() as session:
                data = local.accept_counter(
                    session, self.agent.login, self.clock(), request_id, key
                )
        detail = INVALID_WORDS["key"] if data.get("reason") == Denial.INVALID.value else None
        return self._about_request(data, request_id, detail=detail)

    def expire_due(self) -> int:
        """Pending requests past their expiry become expired (audited); how many."""
        return len(self.expire_due_requests())

    def expire_due_requests(self, at: dt.datetime | None = None) -> list[tuple[int, int]]:
        """As expire_due, naming the (request id, customer id) expired, at `at` (default:
        the clock). On PostgreSQL the function uses the server's clock and returns a count
        only (the ids are (0, 0)): the change bus announces each request it expired."""
        if self._pg:
            with self._db.write() as session:
                count = int(
                    session.execute(text("SELECT rapport_expire_overrides()")).scalar() or 0
                )
            return [(0, 0)] * count
        with self._db.write() as session:
            return local.expire_due(session, self.agent.login, at or self.clock())

    def set_presence(self, available: bool) -> None:
        """A heartbeat: I am here (and available to approve, or not)."""
        if self._pg:
            with self._db.write() as session:
                session.execute(
                    text("SELECT rapport_set_presence(CAST(:available AS boolean))"),
                    {"available": available},
                )
            return
        with self._db.write() as session:
            local.set_presence(session, self.agent.login, self.clock(), available)

    def set_limit(self, row: LimitRow, key: str) -> Outcome:
        """Write one matrix row (admins only; audited with before and after)."""
        values = local.LimitValues(
            role=None if row.role is None else Role(row.role),
            user_id=row.user_id,
            type=ConcessionType(row.type),
            allowed=row.allowed,
            max_amount_cents=row.max_amount_cents,
            max_percent=_round_percent(row.max_percent),
            daily_budget_cents=row.daily_budget_cents,
            period_days=row.period_days,
            max_total_per_period_cents=row.max_total_per_period_cents,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
        )
        if self._pg:
            data = self._call(
                "SELECT rapport_set_limit(CAST(:key AS text), CAST(:role AS text), "
                "CAST(:user_id AS integer), CAST(:type AS text), CAST(:allowed AS boolean), "
                "CAST(:max_amount AS integer), CAST(:max_percent AS numeric), "
                "CAST(:budget AS integer), CAST(:period AS integer), "
                "CAST(:period_total AS integer), CAST(:valid_from AS date), "
                "CAST(:valid_until AS date))",
                {
                    "key": key,
                    "role": None if values.role is None else values.role.value,
                    "user_id": values.user_id,
                    "type": values.type.value,
                    "allowed": values.allowed,
                    "max_amount": values.max_amount_cents,
                    "max_percent": values.max_percent,
                    "budget": values.daily_budget_cents,
                    "period": values.period_days,
                    "period_total": values.max_total_per_period_cents,
                    "valid_from": values.valid_from,
                    "valid_until": values.valid_until,
                },
            )
        else:
            with self._db.write() as session:
                data = local.set_limit(session, self.agent.login, self.clock(), key, values)
        known: dict[str, Any] = {"type": values.type}
        if data.get("status") == Status.SAVED.value:
            known["limit_id"] = self._limit_id(values)
        elif data.get("reason") == Denial.INVALID.value:
            if local.key_problem(key):
                known["detail"] = INVALID_WORDS["key"]
            else:
                with self._db.read() as session:
                    problem = local.limit_problem(session, values)
                known["detail"] = INVALID_WORDS.get(problem or "", "check the row")
        return outcome_from(data, **known)

    def _limit_id(self, values: local.LimitValues) -> int | None:
        owner = (
            (AuthorityLimit.role == values.role) & AuthorityLimit.user_id.is_(None)
            if values.role is not None
            else AuthorityLimit.user_id == values.user_id
        )
        with self._db.read() as session:
            return session.scalar(
                select(AuthorityLimit.id).where(
                    owner, AuthorityLimit.concession_type == values.type
                )
            )

    def delete_limit(self, limit_id: int) -> Outcome:
        """Delete a person's adjustment (their role's row applies again)."""
        if self._pg:
            data = self._call(
                "SELECT rapport_delete_limit(CAST(:id AS integer))",
                {"id": limit_id},
            )
        else:
            with self._db.write() as session:
                data = local.delete_limit(session, self.agent.login, self.clock(), limit_id)
        detail = INVALID_WORDS["role_row"] if data.get("reason") == Denial.INVALID.value else None
        return outcome_from(data, limit_id=limit_id, detail=detail)

    def _why_denied(self, data: dict[str, Any], ask: ConcessionAsk, key: str) -> dict[str, Any]:
        """What the words of a denial need beyond the outcome's keys: what is invalid,
        a percentage limit, the customer limit's period (read here on both databases)."""
        reason = data.get("reason")
        if reason == Denial.INVALID.value:
            if local.key_problem(key):
                return {"detail": INVALID_WORDS["key"]}
            with self._db.read() as session:
                problem = local.validate(session, _local(ask))
            return {"detail": INVALID_WORDS.get(problem or "", "check the details")}
        if reason not in (Denial.ABOVE_LIMIT.value, Denial.CUSTOMER_LIMIT.value):
            return {}
        with self._db.read() as session:
            me = local.staff(session, self.agent.login)
            if me is None:
                return {}
            day = local.budget_day(session, self.clock())
            row = local.effective_limit(session, me.id, me.role, ConcessionType(ask.type), day)
        if row is None:
            return {}
        if reason == Denial.CUSTOMER_LIMIT.value:
            return {"period_days": row.period_days}
        percent = _round_percent(ask.percent)
        if (
            percent is not None
            and row.max_percent is not None
            and percent > row.max_percent
            and ask.amount_cents <= row.max_amount_cents
        ):
            return {"limit_percent": row.max_percent}
        return {}

    def _about_request(
        self, data: dict[str, Any], request_id: int, detail: str | None = None
    ) -> Outcome:
        """An outcome about a request, with its type, amount and decider for the words."""
        with self._db.read() as session:
            row = session.execute(
                select(
                    OverrideRequest.concession_type,
                    OverrideRequest.amount_cents,
                    OverrideRequest.currency,
                    User.display_name,
                    OverrideDecision.decided_at,
                )
                .outerjoin(OverrideDecision, OverrideDecision.request_id == OverrideRequest.id)
                .outerjoin(User, User.id == OverrideDecision.decided_by_id)
                .where(OverrideRequest.id == request_id)
            ).first()
        if row is None:
            return outcome_from(data, request_id=request_id, detail=detail)
        return outcome_from(
            data,
            request_id=request_id,
            detail=detail,
            type=row[0],
            amount_cents=row[1],
            currency=row[2],
            decided_by=row[3],
            decided_at=row[4],
        )

    def _why_nobody(self, needed: Role) -> str:
        """'none signed in' or 'none available': whether any approver is here at all."""
        now = self.clock()
        roles = [r for r in APPROVER_ROLES if ROLE_RANK[r] >= ROLE_RANK[needed]]
        with self._db.read() as session:
            here = session.scalar(
                select(func.count())
                .select_from(User)
                .join(StaffPresence, StaffPresence.user_id == User.id)
                .where(
                    User.active.is_(True),
                    User.role.in_(roles),
                    StaffPresence.seen_at >= now - PRESENCE_FRESH,
                    User.id != (self.agent.user_id or 0),
                )
            )
        return f"{here} signed in, none available" if here else "none signed in"

    # -- reads ----------------------------------------------------------------------------

    def my_authority(self) -> list[TypeAuthority]:
        """What I may grant alone today, per type (with today's budget spent)."""
        if self._pg:
            with self._db.read() as session:
                rows = session.execute(text("SELECT * FROM rapport_my_authority()")).mappings()
                found = {
                    ConcessionType(r["concession_type"]): TypeAuthority(
                        type=ConcessionType(r["concession_type"]),
                        allowed=bool(r["allowed"]),
                        max_amount_cents=r["max_amount_cents"],
                        max_percent=r["max_percent"],
                        daily_budget_cents=r["daily_budget_cents"],
                        spent_today_cents=int(r["spent_today_cents"] or 0),
                        customer_period_days=r["period_days"],
                        customer_period_cents=r["max_total_per_period_cents"],
                    )
                    for r in rows
                }
            return [found.get(kind) or _not_allowed(kind) for kind in ConcessionType]
        who = self.agent
        with self._db.read() as session:
            staff = local.staff(session, who.login)
            if staff is None:
                return [_not_allowed(kind) for kind in ConcessionType]
            day = local.budget_day(session, self.clock())
            result = []
            for kind in ConcessionType:
                row = local.effective_limit(session, staff.id, staff.role, kind, day)
                if row is None:
                    result.append(_not_allowed(kind))
                    continue
                result.append(
                    TypeAuthority(
                        type=kind,
                        allowed=row.allowed,
                        max_amount_cents=row.max_amount_cents,
                        max_percent=row.max_percent,
                        daily_budget_cents=row.daily_budget_cents,
                        spent_today_cents=local.spent_today(session, staff.id, kind, day),
                        customer_period_days=row.period_days,
                        customer_period_cents=row.max_total_per_period_cents,
                    )
                )
            return result

    def check(self, ask: ConcessionAsk) -> Check:
        """Would this be granted if I granted it now? (a read; `grant` decides for real)"""
        now = self.clock()
        request = _local(ask)
        with self._db.read() as session:
            staff = local.staff(session, self.agent.login)
            if staff is None:
                return Check(False, Denial.NOT_STAFF, describe(_denied(Denial.NOT_STAFF)), None)
            problem = local.validate(session, request)
            if problem is not None:
                out = _denied(Denial.INVALID, detail=INVALID_WORDS.get(problem, problem))
                return Check(False, Denial.INVALID, describe(out), None)
            day = local.budget_day(session, now)
            denial = local.evaluate(session, staff, request, day, now)
            if denial is None:
                return Check(True, None, "Within your authority.", None)
            needed = local.required_role(
                session,
                request.type,
                request.amount_cents,
                request.percent,
                day,
                (Role.SUPERVISOR, Role.MANAGER),
            )
        out = outcome_from(
            {**denial, "required_role": None if needed is None else needed.value},
            **_ask_known(ask),
            **self._why_denied(denial, ask, "check"),
        )
        if needed is None:
            message = (
                f"{out.message.split(':')[0]}, and above every limit: "
                "not even a manager may grant it."
            )
        else:
            message = f"{out.message.split(':')[0]}: {_a(needed)} must approve."
        return Check(False, out.reason, message, needed)

    def approvers_available(self, required_role: Role = Role.SUPERVISOR) -> int:
        with self._db.read() as session:
            return local.approvers_count(
                session, Role(required_role), self.clock(), self.agent.user_id
            )

    def override(self, request_id: int) -> OverrideView | None:
        views = self._overrides(OverrideRequest.id == request_id, limit=1)
        return views[0] if views else None

    def approval_queue(self) -> list[OverrideView]:
        """Pending requests I may decide: my rank or above the required, not mine, not expired."""
        mine = ROLE_RANK.get(self.agent.role, 0)
        roles = [r for r in APPROVER_ROLES if ROLE_RANK[r] <= mine]
        if not roles or self.agent.role not in APPROVER_ROLES:
            return []
        return self._overrides(
            OverrideRequest.status == OverrideStatus.PENDING,
            OverrideRequest.required_role.in_(roles),
            OverrideRequest.requested_by_id != (self.agent.user_id or 0),
            or_(OverrideRequest.expires_at.is_(None), OverrideRequest.expires_at >= self._now()),
            limit=200,
        )

    def _now(self) -> Any:
        """The instant expiry is judged at: on PostgreSQL the server's (its functions
        expire requests by it, whatever this PC's clock says), else the service's clock."""
        return func.now() if self._pg else self.clock()

    def my_requests(self, limit: int = 20) -> list[OverrideView]:
        if self.agent.user_id is None:
            return []
        return self._overrides(OverrideRequest.requested_by_id == self.agent.user_id, limit=limit)

    def _overrides(self, *where: Any, limit: int) -> list[OverrideView]:
        requester = aliased(User)
        decider = aliased(User)
        query = (
            select(
                OverrideRequest,
                Customer.first_name,
                Customer.last_name,
                Case.reference,
                Policy.code,
                Policy.name,
                requester.display_name,
                requester.login,
                decider.display_name,
                OverrideDecision,
                Concession.id,
            )
            .join(Customer, Customer.id == OverrideRequest.customer_id)
            .join(requester, requester.id == OverrideRequest.requested_by_id)
            .outerjoin(Case, Case.id == OverrideRequest.case_id)
            .outerjoin(Policy, Policy.id == OverrideRequest.policy_id)
            .outerjoin(OverrideDecision, OverrideDecision.request_id == OverrideRequest.id)
            .outerjoin(decider, decider.id == OverrideDecision.decided_by_id)
            .outerjoin(Concession, Concession.override_request_id == OverrideRequest.id)
            .where(*where)
            .order_by(OverrideRequest.requested_at.desc(), OverrideRequest.id.desc())
            .limit(limit)
        )
        with self._db.read() as session:
            rows = session.execute(query).all()
        return [
            OverrideView(
                id=r.id,
                status=r.status,
                customer_id=r.customer_id,
                customer_name=f"{first} {last}".strip(),
                case_id=r.case_id,
                case_reference=reference,
                type=r.concession_type,
                amount_cents=r.amount_cents,
                currency=r.currency,
                percent=r.percent,
                policy_code=code,
                policy_name=policy_name,
                reason=r.reason,
                requested_by=by_name,
                requested_by_login=by_login,
                requested_at=r.requested_at,
                required_role=r.required_role,
                expires_at=r.expires_at,
                decided_by=decider_name,
                decision=None if d is None else d.decision,
                comment=None if d is None else d.comment,
                counter_amount_cents=None if d is None else d.counter_amount_cents,
                decided_at=None if d is None else d.decided_at,
                concession_id=concession_id,
            )
            for (
                r,
                first,
                last,
                reference,
                code,
                policy_name,
                by_name,
                by_login,
                decider_name,
                d,
                concession_id,
            ) in rows
        ]

    def ledger(self, customer_id: int, limit: int = 200) -> list[LedgerRow]:
        """What the customer received, newest first, with who granted and who approved."""
        granter = aliased(User)
        approver = aliased(User)
        query = (
            select(
                Concession,
                granter.display_name,
                approver.display_name,
                Case.reference,
                Order.number,
                Policy.code,
            )
            .join(granter, granter.id == Concession.granted_by_id)
            .outerjoin(approver, approver.id == Concession.approved_by_id)
            .outerjoin(Case, Case.id == Concession.case_id)
            .outerjoin(Order, Order.id == Concession.order_id)
            .outerjoin(Policy, Policy.id == Concession.policy_id)
            .where(Concession.customer_id == customer_id)
            .order_by(Concession.granted_at.desc(), Concession.id.desc())
            .limit(limit)
        )
        with self._db.read() as session:
            rows = session.execute(query).all()
        return [
            LedgerRow(
                id=c.id,
                granted_at=c.granted_at,
                type=c.type,
                amount_cents=c.amount_cents,
                currency=c.currency,
                percent=c.percent,
                reason=c.reason,
                granted_by=by,
                approved_by=approved,
                case_reference=reference,
                order_number=number,
                policy_code=code,
            )
            for c, by, approved, reference, number, code in rows
        ]

    def relationship(self, customer_id: int) -> RelationshipSummary:
        """Tenure, value and its rank, bundle, past concessions, open complaints and cases."""
        with self._db.read() as session:
            return relationship_summary(session, customer_id, self.clock())

    def policy_hints(self, customer_id: int) -> list[PolicyHint]:
        """Each policy with exception rules, and whether (and why) this customer qualifies."""
        with self._db.read() as session:
            summary = relationship_summary(session, customer_id, self.clock())
            policies = session.scalars(
                select(Policy)
                .where(Policy.active.is_(True), Policy.eligibility.is_not(None))
                .order_by(Policy.id)
            ).all()
            return [_hint(p, summary) for p in policies if p.eligibility]

    def matrix(self) -> list[LimitRow]:
        """The authority matrix: role rows (by rank), then each person's adjustments."""
        with self._db.read() as session:
            rows = session.execute(
                select(AuthorityLimit, User.display_name).outerjoin(
                    User, User.id == AuthorityLimit.user_id
                )
            ).all()
        kinds = list(ConcessionType)
        result = [
            LimitRow(
                id=limit.id,
                role=limit.role,
                user_id=limit.user_id,
                user_name=name,
                type=limit.concession_type,
                allowed=limit.allowed,
                max_amount_cents=limit.max_amount_cents,
                max_percent=limit.max_percent,
                daily_budget_cents=limit.daily_budget_cents,
                period_days=limit.period_days,
                max_total_per_period_cents=limit.max_total_per_period_cents,
                valid_from=limit.valid_from,
                valid_until=limit.valid_until,
            )
            for limit, name in rows
        ]
        result.sort(
            key=lambda r: (
                r.role is None,
                ROLE_RANK.get(r.role, 9) if r.role else 0,
                r.user_name or "",
                kinds.index(r.type),
            )
        )
        return result

    def staff(self) -> list[tuple[int, str, Role]]:
        """Active staff (id, name, role), by name: the matrix editor's person picker."""
        with self._db.read() as session:
            rows = session.execute(
                select(User.id, User.display_name, User.role)
                .where(User.active.is_(True))
                .order_by(User.display_name, User.id)
            ).all()
        return [(r[0], r[1], Role(r[2])) for r in rows]

    def describe(self, outcome: Outcome) -> str:
        return describe(outcome)


def _ask_known(ask: ConcessionAsk) -> dict[str, Any]:
    return {
        "type": ConcessionType(ask.type),
        "amount_cents": ask.amount_cents,
        "currency": ask.currency,
    }


def _denied(reason: Denial, **values: Any) -> Outcome:
    return Outcome(status=Status.DENIED, reason=reason, **values)


def _not_allowed(kind: ConcessionType) -> TypeAuthority:
    return TypeAuthority(kind, False, None, None, None, 0, None, None)


# -- the relationship -------------------------------------------------------------------


def relationship_summary(
    session: Session, customer_id: int, now: dt.datetime
) -> RelationshipSummary:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise UserError(f"customer {customer_id} does not exist")
    today = local_today(lambda: now)
    since = customer.customer_since
    tenure = None if since is None else _full_years(since, today)
    totals = session.execute(
        select(Order.currency, func.sum(Order.total_cents), func.count())
        .where(Order.customer_id == customer_id, Order.status != OrderStatus.CANCELLED)
        .group_by(Order.currency)
    ).all()
    main = max(totals, key=lambda t: (t[2], t[1], t[0]), default=None)
    value = int(main[1]) if main else 0
    currency = str(main[0]) if main else "USD"
    contracts = session.execute(
        select(Contract.service, Contract.bundle_id, Bundle.name)
        .outerjoin(Bundle, Bundle.id == Contract.bundle_id)
        .where(Contract.customer_id == customer_id, Contract.status == ContractStatus.ACTIVE)
        .order_by(Contract.start_date, Contract.id)
    ).all()
    per_bundle: dict[int, list[str]] = {}
    names: dict[int, str] = {}
    for service, bundle_id, name in contracts:
        if bundle_id is not None:
            per_bundle.setdefault(bundle_id, []).append(service)
            names[bundle_id] = name
    biggest = max(per_bundle, key=lambda b: len(per_bundle[b]), default=None)
    year_ago = now - dt.timedelta(days=365)
    given = session.execute(
        select(func.count(), func.coalesce(func.sum(Concession.amount_cents), 0)).where(
            Concession.customer_id == customer_id, Concession.granted_at >= year_ago
        )
    ).one()
    open_cases = session.execute(
        select(Case.category, func.count())
        .where(Case.customer_id == customer_id, Case.status.in_(OPEN_CASE_STATUSES))
        .group_by(Case.category)
    ).all()
    return RelationshipSummary(
        customer_id=customer_id,
        name=customer.display_name,
        customer_since=since,
        tenure_years=tenure,
        tier=customer.tier.value if customer.tier else None,
        lifetime_value_cents=value,
        value_top_percent=value_top_percent(session, value, currency, customer_id)
        if value > 0
        else None,
        services=tuple(service for service, _b, _n in contracts),
        bundle=None if biggest is None else names[biggest],
        concessions_12m=int(given[0]),
        concessions_12m_cents=int(given[1]),
        open_complaints=sum(int(n) for category, n in open_cases if category == "complaint"),
        open_cases=sum(int(n) for _c, n in open_cases),
        churn_risk=churn_facts.in_words(churn_facts.customer_churn(session, customer_id, now)),
        bundle_services=0 if biggest is None else len(per_bundle[biggest]),
        currency=currency,
    )


# Every `step`-th customer id from `first` to `top`, each summed from the order totals
# index (ix_orders_customer_totals, an index-only probe per id); the same SQL on both.
_SAMPLED_VALUES = text(
    "WITH RECURSIVE sample(id) AS ("
    " SELECT CAST(:first AS integer)"
    " UNION ALL SELECT id + CAST(:step AS integer) FROM sample"
    " WHERE id + CAST(:step AS integer) <= CAST(:top AS integer))"
    " SELECT o.customer_id, sum(o.total_cents) FROM sample"
    " JOIN orders o ON o.customer_id = sample.id"
    " WHERE o.status <> 'cancelled' AND o.currency = :currency"
    " GROUP BY o.customer_id"
)


def value_top_percent(
    session: Session, value_cents: int, currency: str, customer_id: int | None = None
) -> int:
    """In which top percent of customers by lifetime value `value_cents` is (5: top 5%).

    Ranked among the customers with orders in `currency` (no rates to convert with).
    Exact up to VALUE_SAMPLE customers; above, a fixed sample of VALUE_SAMPLE customer
    ids spread evenly over the id range, each summed from the order totals index: a
    few thousand index probes whatever the size of the database (about 30 ms at 100,000
    customers on PostgreSQL, the same at a million), instead of summing every
    customer's orders (400 ms at 100,000)."""
    top_id = int(session.scalar(select(func.max(Customer.id))) or 0)
    if top_id == 0:
        return 100
    step = max(1, top_id // VALUE_SAMPLE)
    first = 1 + (step // 2 if step > 1 else 0)
    sums = session.execute(
        _SAMPLED_VALUES, {"first": first, "step": step, "top": top_id, "currency": currency}
    ).all()
    if not sums:
        return 100
    above = sum(1 for c, total in sums if int(total) > value_cents and c != customer_id)
    ranked = len(sums) + (0 if any(c == customer_id for c, _t in sums) else 1)
    return max(1, min(100, math.ceil(100 * (above + 1) / ranked)))


def _full_years(since: dt.date, today: dt.date) -> int:
    years = today.year - since.year
    if (today.month, today.day) < (since.month, since.day):
        years -= 1
    return max(0, years)


def _hint(policy: Policy, summary: RelationshipSummary) -> PolicyHint:
    rules = policy.eligibility or {}
    reasons: list[str] = []
    missing: list[str] = []
    since = summary.customer_since
    if "min_tenure_years" in rules:
        need = int(rules["min_tenure_years"])
        years = summary.tenure_years or 0
        if since is not None and years >= need:
            reasons.append(f"customer since {since.year}")
        else:
            missing.append(f"a customer for {years} years ({need} needed)")
    if "min_bundle_services" in rules:
        need = int(rules["min_bundle_services"])
        have = summary.bundle_services
        if have >= need:
            reasons.append(f"{have} services in one bundle")
        else:
            missing.append(f"{have} services in one bundle ({need} needed)")
    if "top_value_percent" in rules:
        need = int(rules["top_value_percent"])
        top = summary.value_top_percent
        if top is not None and top <= need:
            reasons.append(f"top {top}% by value")
        elif top is None:
            missing.append(f"no purchases yet (top {need}% by value needed)")
        else:
            missing.append(f"top {top}% by value (top {need}% needed)")
    if "max_open_complaints" in rules:
        most = int(rules["max_open_complaints"])
        have = summary.open_complaints
        words = "no open complaints" if have == 0 else _count(have, "open complaint")
        if have <= most:
            reasons.append(words)
        else:
            missing.append(f"{words} (at most {most})")
    return PolicyHint(
        policy_id=policy.id,
        code=policy.code,
        name=policy.name,
        rule_text=policy.description,
        fee_cents=policy.fee_cents,
        currency=policy.currency,
        override_role=policy.override_role,
        qualifies=not missing,
        reasons=tuple(reasons),
        missing=tuple(missing),
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
