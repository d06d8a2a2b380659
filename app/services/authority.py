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

import datetime as dt
import enum
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from models.enums import ConcessionType, OverrideDecisionKind, OverrideStatus, Role

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
    churn_risk: str | None  # None until next-best-action computes it


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
