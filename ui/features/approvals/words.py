"""What the approvals page says, in words: the request, its countdown, the customer's
relationship, the policy hints and the outcome of a decision. Pure functions, no Qt,
so they are tested without a window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from app.agent import AgentContext
from app.services.authority import (
    Denial,
    LimitRow,
    Outcome,
    OverrideView,
    PolicyHint,
    RelationshipSummary,
    Status,
)
from models.enums import ConcessionType, OverrideStatus, Role
from ui import formatting as fmt

TYPE_WORDS = {
    ConcessionType.DISCOUNT: "Discount",
    ConcessionType.CREDIT: "Account credit",
    ConcessionType.SAMPLE: "Free sample",
    ConcessionType.GOODWILL_GIFT: "Goodwill gift",
    ConcessionType.FEE_WAIVER: "Fee waiver",
    ConcessionType.POLICY_EXCEPTION: "Policy exception",
}
ROLE_WORDS = {
    Role.AGENT: "agent",
    Role.SENIOR_AGENT: "senior agent",
    Role.SUPERVISOR: "supervisor",
    Role.MANAGER: "manager",
    Role.ADMIN: "admin",
}
STATUS_WORDS = {
    OverrideStatus.PENDING: "waiting",
    OverrideStatus.APPROVED: "approved",
    OverrideStatus.REJECTED: "rejected",
    OverrideStatus.COUNTERED: "counter-offered",
    OverrideStatus.WITHDRAWN: "withdrawn by the agent",
    OverrideStatus.EXPIRED: "expired",
}


def type_words(kind: ConcessionType) -> str:
    return TYPE_WORDS.get(kind, fmt.label(kind.value))


def role_words(role: Role | None) -> str:
    return ROLE_WORDS.get(role, "") if role is not None else ""


def window_title(agent: AgentContext) -> str:
    """Who is acting, in the title bar: "Rapport — Maria Lopez (supervisor)"."""
    return f"Rapport — {agent.display_name} ({role_words(agent.role)})"


def percent_text(percent: Decimal | None) -> str:
    if percent is None:
        return ""
    return f"{percent.normalize():f}%"


def what(view: OverrideView) -> str:
    """What is asked: "Fee waiver $150.00 · EARLY-UPGRADE", "Discount 15% ($45.00)"."""
    amount = fmt.money(view.amount_cents, view.currency)
    if view.percent is not None:
        text = f"{type_words(view.type)} {percent_text(view.percent)} ({amount})"
    else:
        text = f"{type_words(view.type)} {amount}"
    policy = view.policy_name or view.policy_code
    return f"{text} · {policy}" if policy else text


def ago(since: dt.datetime, now: dt.datetime) -> str:
    """How long ago a request was made: "just now", "4 min ago", "2 h 5 min ago"."""
    seconds = int((now - since).total_seconds())
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min ago"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min ago" if minutes else f"{hours} h ago"
    return f"{fmt.plural(hours // 24, 'day')} ago"


def seconds_left(expires_at: dt.datetime | None, now: dt.datetime) -> int | None:
    if expires_at is None:
        return None
    return int((expires_at - now).total_seconds())


def countdown(expires_at: dt.datetime | None, now: dt.datetime) -> str:
    """Time left before the request expires: "4:32 left", "Expired", or "" (no expiry)."""
    left = seconds_left(expires_at, now)
    if left is None:
        return ""
    if left <= 0:
        return "Expired"
    return f"{fmt.duration(left)} left"


SERVICE_WORDS = {"tv": "TV"}


def service_words(name: str) -> str:
    return SERVICE_WORDS.get(name.lower(), name)


def relationship_lines(summary: RelationshipSummary) -> list[str]:
    """The relationship a supervisor weighs, one fact a line; churn risk only when known.
    Money in the currency the customer buys in most (`summary.currency`)."""
    currency = summary.currency
    lines: list[str] = []
    if summary.customer_since is not None:
        years = summary.tenure_years
        tenure = f" ({fmt.plural(years, 'year')})" if years else ""
        lines.append(f"Customer since {summary.customer_since.year}{tenure}")
    value = f"Lifetime value {fmt.money(summary.lifetime_value_cents, currency)}"
    if summary.value_top_percent is not None:
        value += f", top {summary.value_top_percent}% by value"
    lines.append(value)
    if summary.tier:
        lines.append(f"Tier: {fmt.label(summary.tier)}")
    services = ", ".join(service_words(s) for s in summary.services)
    if summary.bundle and summary.services:
        lines.append(
            f"Bundle: {summary.bundle} ({fmt.plural(len(summary.services), 'service')}: {services})"
        )
    elif summary.bundle:
        lines.append(f"Bundle: {summary.bundle}")
    elif summary.services:
        lines.append(f"Services: {services}")
    if summary.concessions_12m:
        lines.append(
            f"{fmt.plural(summary.concessions_12m, 'concession')} in 12 months "
            f"({fmt.money(summary.concessions_12m_cents, currency)})"
        )
    else:
        lines.append("No concessions in 12 months")
    lines.append(
        fmt.plural(summary.open_complaints, "open complaint")
        if summary.open_complaints
        else "No open complaints"
    )
    lines.append(
        fmt.plural(summary.open_cases, "open case") if summary.open_cases else "No open cases"
    )
    if summary.churn_risk:
        lines.append(f"Churn risk: {summary.churn_risk}")
    return lines


def hints_for(hints: Sequence[PolicyHint], policy_code: str | None) -> list[PolicyHint]:
    """The hints worth a supervisor's eye for a request: the request's own policy first
    (qualifying or not: it is the one being decided), then the other policies the
    customer qualifies for an exception to. Policies they do not qualify for and that
    the request is not about are noise here."""
    own = [h for h in hints if policy_code is not None and h.code == policy_code]
    return own + [h for h in hints if h.qualifies and h not in own]


def asked_words(view: OverrideView) -> str:
    """The ask in a sentence's words: "a $350.00 fee waiver", "a 15% discount ($45.00)"."""
    amount = fmt.money(view.amount_cents, view.currency)
    kind = type_words(view.type).lower()
    if view.percent is not None:
        return f"a {percent_text(view.percent)} {kind} ({amount})"
    article = "an" if kind[:1] in "aeiou" else "a"
    return f"{article} {amount} {kind}"


def hint_line(hint: PolicyHint) -> str:
    """A policy hint in words: "Qualifies for a loyalty exception to Early upgrade fee
    ($150.00): customer since 1997, 4 services in one bundle", or "Does not qualify ...:
    <what is missing>"."""
    fee = f" ({fmt.money(hint.fee_cents, hint.currency)})" if hint.fee_cents else ""
    if hint.qualifies:
        why = f": {', '.join(hint.reasons)}" if hint.reasons else ""
        return f"Qualifies for a loyalty exception to {hint.name}{fee}{why}"
    missing = f": {', '.join(hint.missing)}" if hint.missing else ""
    return f"Does not qualify for an exception to {hint.name}{fee}{missing}"


def request_status(view: OverrideView, now: dt.datetime) -> str:
    """What became of a request that left the queue (or is about to)."""
    if view.status is OverrideStatus.PENDING:
        left = seconds_left(view.expires_at, now)
        if left is not None and left <= 0:
            return "Expired: the agent's request ran out of time; nothing was granted."
        return "Waiting for a decision."
    if view.decided_by and view.decided_at is not None:
        at = view.decided_at.astimezone().strftime("%H:%M")
        verb = STATUS_WORDS.get(view.status, view.status.value)
        text = f"{verb.capitalize()} by {view.decided_by} at {at}"
        if view.status is OverrideStatus.COUNTERED and view.counter_amount_cents is not None:
            text += f" (counter-offer {fmt.money(view.counter_amount_cents, view.currency)})"
        return text + "."
    return f"{STATUS_WORDS.get(view.status, view.status.value).capitalize()}."


def decision_outcome(outcome: Outcome, view: OverrideView | None = None) -> str:
    """The outcome of Approve / Reject / Counter-offer for the approver, in words."""
    currency = view.currency if view is not None else "USD"
    if outcome.status is Status.APPROVED:
        return "Approved — the agent sees it now."
    if outcome.status is Status.REJECTED:
        return "Rejected — the agent sees your comment now."
    if outcome.status is Status.COUNTERED:
        amount = outcome.counter_amount_cents
        offer = f" of {fmt.money(amount, currency)}" if amount is not None else ""
        return f"Counter-offer{offer} sent — the agent can accept it now."
    if outcome.status is Status.EXPIRED:
        return "Expired: the request ran out of time before your decision; nothing was granted."
    if outcome.reason is Denial.ABOVE_YOUR_LIMIT:
        limit = (
            f" of {fmt.money(outcome.limit_cents, currency)}"
            if outcome.limit_cents is not None
            else ""
        )
        return (
            f"Above your limit{limit}: it goes to a manager. "
            + (outcome.message if outcome.message else "")
        ).strip()
    if outcome.message:
        return outcome.message
    reason = outcome.reason.value if outcome.reason is not None else outcome.status.value
    return f"Not done: {fmt.label(reason).lower()}."


def save_outcome(outcome: Outcome) -> str:
    """The outcome of saving or deleting a matrix row, in words."""
    if outcome.ok:
        return outcome.message or "Saved."
    if outcome.reason is Denial.NOT_ADMIN:
        return "Only an admin changes the authority matrix: nothing was saved."
    if outcome.message:
        return outcome.message
    reason = outcome.reason.value if outcome.reason is not None else outcome.status.value
    return f"Not saved: {fmt.label(reason).lower()}."


# -- the authority matrix ------------------------------------------------------------


def optional_money(cents: int | None, none: str = "none") -> str:
    return none if cents is None else fmt.money(cents)


def who(row: LimitRow) -> str:
    if row.role is not None:
        return f"Role: {role_words(row.role)}"
    return f"User: {row.user_name or row.user_id}"


def validity(row: LimitRow) -> str:
    if row.valid_from is None and row.valid_until is None:
        return "always"
    start = fmt.day(row.valid_from) if row.valid_from else "…"
    end = fmt.day(row.valid_until) if row.valid_until else "…"
    return f"{start} – {end}"


def per_customer(row: LimitRow) -> str:
    if row.max_total_per_period_cents is None:
        return "no limit"
    return f"{fmt.money(row.max_total_per_period_cents)} / {fmt.plural(row.period_days, 'day')}"


def parse_money(text: str) -> int | None:
    """Cents from what an admin or approver typed ("45", "$1,234.50"); None when blank.

    Raises ValueError with a sentence when it is no amount."""
    cleaned = text.strip().replace(",", "").replace("$", "").strip()
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except ArithmeticError as exc:
        raise ValueError(f"“{text.strip()}” is not an amount (e.g. 45 or 45.50)") from exc
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"“{text.strip()}” is not an amount in dollars and cents")
    if value < 0:
        raise ValueError("An amount cannot be negative")
    if value > Decimal("21474836.47"):
        raise ValueError("That amount is too large")
    return int(value * 100)


def join_lines(lines: Sequence[str]) -> str:
    return "\n".join(lines)
