"""What the agent reads about authority: concession types, budgets, values, policy hints,
requests and countdowns in words. Pure functions over the service's data classes, no Qt,
so they are tested without a window."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from app.services.authority import OverrideView, PolicyHint, TypeAuthority
from models.enums import ConcessionType, OverrideStatus
from ui import formatting as fmt

# The order the grant dialog offers them: the everyday ones first.
TYPE_ORDER = (
    ConcessionType.GOODWILL_GIFT,
    ConcessionType.DISCOUNT,
    ConcessionType.CREDIT,
    ConcessionType.SAMPLE,
    ConcessionType.FEE_WAIVER,
    ConcessionType.POLICY_EXCEPTION,
)
TYPE_LABELS = {
    ConcessionType.GOODWILL_GIFT: "Goodwill gift",
    ConcessionType.DISCOUNT: "Discount",
    ConcessionType.CREDIT: "Account credit",
    ConcessionType.SAMPLE: "Free sample",
    ConcessionType.FEE_WAIVER: "Fee waiver",
    ConcessionType.POLICY_EXCEPTION: "Policy exception",
}
# How the budget line names each type ("goodwill $75.00 of $100.00 left").
BUDGET_NAMES = {
    ConcessionType.GOODWILL_GIFT: "goodwill",
    ConcessionType.DISCOUNT: "discount",
    ConcessionType.CREDIT: "credit",
    ConcessionType.SAMPLE: "samples",
    ConcessionType.FEE_WAIVER: "fee waivers",
    ConcessionType.POLICY_EXCEPTION: "policy exceptions",
}
# Types that waive or except a policy: the dialog offers the policy and its fee.
POLICY_TYPES = frozenset({ConcessionType.FEE_WAIVER, ConcessionType.POLICY_EXCEPTION})
SEPARATOR = " · "
_MONEY = re.compile(r"^\s*[$£€]?\s*(\d{1,3}(,\d{3})+|\d+)?(\.\d{1,2})?\s*$")


def type_label(kind: ConcessionType | str) -> str:
    return TYPE_LABELS.get(ConcessionType(kind), fmt.label(str(kind)))


def parse_money(text: str) -> int | None:
    """Cents from what an agent types: "25", "25.5", "$1,200.00"; None if it is not money."""
    match = _MONEY.match(text)
    if match is None or not (match.group(1) or match.group(3)):
        return None
    whole = int((match.group(1) or "0").replace(",", ""))
    fraction = (match.group(3) or ".")[1:].ljust(2, "0")
    return whole * 100 + int(fraction)


def parse_percent(text: str) -> Decimal | None:
    """A percentage as typed ("10", "12.5", "10%"); None if it is not a number."""
    cleaned = text.strip().removesuffix("%").strip()
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value.quantize(Decimal("0.01")) if value.is_finite() else None


def percent_text(value: Decimal) -> str:
    """10.00 -> "10%", 12.50 -> "12.5%"."""
    return f"{value.normalize():f}%"


def value_text(amount_cents: int, currency: str, percent: Decimal | None) -> str:
    """What a concession was worth: "$25.00", or "10% ($12.00)" for a percentage."""
    money = fmt.money(amount_cents, currency)
    return f"{percent_text(percent)} ({money})" if percent is not None else money


def budget_line(rows: Sequence[TypeAuthority], currency: str = "USD") -> str:
    """ "Your budget today: goodwill $75.00 of $100.00 left · discount $100.00 left · …",
    then the types the agent may not grant alone."""
    by_type = {row.type: row for row in rows}
    parts: list[str] = []
    unbudgeted: list[str] = []
    not_alone: list[str] = []
    for kind in TYPE_ORDER:
        row = by_type.get(kind)
        name = BUDGET_NAMES[kind]
        if row is None or not row.allowed:
            not_alone.append(name)
            continue
        remaining = row.remaining_today_cents
        if remaining is None or row.daily_budget_cents is None:
            unbudgeted.append(name)
        elif row.spent_today_cents:
            limit = fmt.money(row.daily_budget_cents, currency)
            parts.append(f"{name} {fmt.money(remaining, currency)} of {limit} left")
        else:
            parts.append(f"{name} {fmt.money(remaining, currency)} left")
    if unbudgeted:
        parts.append(f"{_join(unbudgeted)}: no daily budget")
    line = "Your budget today: " + (SEPARATOR.join(parts) if parts else "nothing to grant alone")
    if not_alone and parts:
        line += f". {_join(not_alone).capitalize()}: ask a supervisor."
    return line


def budget_tip(rows: Sequence[TypeAuthority], currency: str = "USD") -> str:
    """One line per type: the most one concession may be, and the percentage."""
    lines = []
    for kind in TYPE_ORDER:
        row = next((r for r in rows if r.type == kind), None)
        if row is None or not row.allowed:
            lines.append(f"{type_label(kind)}: a supervisor must approve")
            continue
        each = f"up to {fmt.money(row.max_amount_cents or 0, currency)} each"
        if row.max_percent is not None:
            each += f", at most {percent_text(row.max_percent)}"
        lines.append(f"{type_label(kind)}: {each}")
    return "\n".join(lines)


def _join(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def hint_text(hint: PolicyHint) -> str:
    """ "Qualifies for a loyalty exception to Early upgrade fee: customer since 1997, 4
    services in one bundle, top 5% by value" (or why not)."""
    if hint.qualifies:
        why = ", ".join(hint.reasons)
        return f"Qualifies for a loyalty exception to {hint.name}" + (f": {why}" if why else "")
    why_not = ", ".join(hint.missing)
    return f"No exception to {hint.name}" + (f": {why_not}" if why_not else "")


def worth_saying(hint: PolicyHint) -> bool:
    """A hint with something to say: a policy with eligibility rules (a policy without
    any, such as a cap, is neither qualified for nor missed)."""
    return hint.qualifies or bool(hint.missing)


def countdown(seconds_left: float | None) -> str:
    """ "4:32 left", "0:05 left", or "time is up"."""
    if seconds_left is None:
        return ""
    seconds = int(seconds_left)
    if seconds <= 0:
        return "time is up"
    return f"{fmt.duration(seconds)} left"


def asked_text(view: OverrideView, policy_name: str | None = None) -> str:
    """What was asked, as the waiting panel heads it: "Fee waiver of $350.00 (Early
    upgrade fee) for Dorothy Hargreaves"."""
    value = value_text(view.amount_cents, view.currency, view.percent)
    policy = policy_name or view.policy_code
    about = f" ({policy})" if policy else ""
    return f"{type_label(view.type)} of {value}{about} for {view.customer_name}"


def answer_text(view: OverrideView, asked: int | None = None) -> str:
    """The answer in words, for the waiting panel and the toast (`asked`: how many
    approvers the request reached, while it waits)."""
    who = view.decided_by or "A supervisor"
    said = f' "{view.comment}"' if view.comment else ""
    if view.status == OverrideStatus.PENDING:
        role = fmt.label(str(view.required_role)).lower()
        reached = f" ({fmt.plural(asked, role)} notified)" if asked else ""
        return f"Waiting for a {role} to answer{reached}."
    if view.status == OverrideStatus.APPROVED:
        return f"Approved by {who}: tell the customer it is granted.{said}"
    if view.status == OverrideStatus.REJECTED:
        return f"Rejected by {who}.{said}"
    if view.status == OverrideStatus.COUNTERED:
        offer = fmt.money(view.counter_amount_cents or 0, view.currency)
        if view.concession_id is not None:
            return f"{who} offered {offer} and you accepted: it is granted."
        return f"{who} offers {offer} instead.{said}"
    if view.status == OverrideStatus.WITHDRAWN:
        return "You withdrew the request: nothing was granted."
    return "Nobody answered in time: the request expired. Offer a callback, or ask again."


def is_open(view: OverrideView) -> bool:
    """Still something for the agent to do: waiting, or a counter-offer not yet taken."""
    return view.status == OverrideStatus.PENDING or (
        view.status == OverrideStatus.COUNTERED and view.concession_id is None
    )


def within_text(row: TypeAuthority | None, currency: str = "USD") -> str:
    """ "Within your authority (goodwill $30.00 each, $75.00 left today)"."""
    if row is None or not row.allowed:
        return "Within your authority."
    limits = [fmt.money(row.max_amount_cents or 0, currency)]
    if row.max_percent is not None:
        limits.append(f"at most {percent_text(row.max_percent)}")
    words = f"{BUDGET_NAMES[row.type]} {' and '.join(limits)} each"
    remaining = row.remaining_today_cents
    if remaining is not None:
        words += f", {fmt.money(remaining, currency)} left today"
    return f"Within your authority ({words})"
