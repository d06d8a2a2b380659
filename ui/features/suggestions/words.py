"""What the agent reads about suggestions and churn: kinds, prices against the usual
order, launch dates, churn levels, decline reasons and outcomes in words. Pure functions
over the service's data classes, no Qt, so they are tested without a window."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from app.services import views as v
from app.services.products import launch_note
from ui import formatting as fmt

# Offers are granted as a concession (their type and value come with the suggestion).
OFFER_KINDS = frozenset({"retention", "welcome"})
DECLINE_LABELS = {
    "not_interested": "Not interested",
    "already_has": "Already has it",
    "too_expensive": "Too expensive",
    "not_now": "Not now",
    "other": "Other reason",
}
OUTCOME_LABELS = {
    "shown": "",
    "accepted": "Accepted",
    "declined": "Declined",
    "offered": "Offered",
}
ABOVE_BUDGET = "above usual budget"
SEPARATOR = " · "


def kind_label(kind: str) -> str:
    return fmt.offer_kind(kind)


def decline_label(reason: str) -> str:
    return DECLINE_LABELS.get(reason, fmt.label(reason))


def is_offer(item: v.Suggestion) -> bool:
    return item.kind in OFFER_KINDS


def offer_value(item: v.Suggestion) -> str:
    """What an offer is worth: "15% off", "$20.00 credit", or "" for a product."""
    if item.percent is not None:
        percent = Decimal(str(item.percent)).normalize()
        cap = f" (up to {fmt.money(item.amount_cents, item.currency)})" if item.amount_cents else ""
        return f"{percent:f}% off{cap}"
    if item.amount_cents is not None:
        kind = fmt.label(item.concession_type or "").lower()
        return f"{fmt.money(item.amount_cents, item.currency)} {kind}".rstrip()
    return ""


def price_text(item: v.Suggestion, usual_cents: int, currency: str) -> str:
    """ "$42.00 · usual order $85.00" (the usual order only in the same currency); an
    offer says what it is worth instead."""
    if is_offer(item) or item.price_cents is None:
        return offer_value(item)
    price = fmt.money(item.price_cents, item.currency)
    if usual_cents and item.currency == currency:
        return f"{price}{SEPARATOR}usual order {fmt.money(usual_cents, currency)}"
    return price


def budget_text(item: v.Suggestion) -> str:
    return ABOVE_BUDGET if item.budget == "above" else ""


def launch_text(item: v.Suggestion, today: dt.date) -> str:
    """ "from 16 Dec, in two weeks" for a coming launch (the product lookup's words)."""
    if item.available_from is None:
        return ""
    return launch_note(item.available_from, today) or ""


def title_text(item: v.Suggestion, today: dt.date) -> str:
    """The product or offer, and its coming launch: "Aubade Intense (from 16 Dec, in two
    weeks)"."""
    launch = launch_text(item, today)
    return f"{item.title} ({launch})" if launch else item.title


def authority_text(item: v.Suggestion) -> str:
    """For an offer: whether this agent may grant it at once."""
    if item.within_authority is None:
        return ""
    return "within your authority" if item.within_authority else "needs a supervisor"


def detail_text(item: v.Suggestion, usual_cents: int, currency: str, today: dt.date) -> str:
    """The selected suggestion in full, under the list: kind and title, price against the
    usual order, the budget mark, the launch, authority, and why."""
    parts = [f"{kind_label(item.kind)}: {title_text(item, today)}"]
    for extra in (
        price_text(item, usual_cents, currency),
        budget_text(item),
        authority_text(item),
    ):
        if extra:
            parts.append(extra)
    return SEPARATOR.join(parts) + f"\nWhy: {item.reason}"


def outcome_text(impression: v.Impression | None) -> str:
    """ "Declined: too expensive", "Offered", "Accepted", or "" while only shown."""
    if impression is None:
        return ""
    label = OUTCOME_LABELS.get(impression.outcome, fmt.label(impression.outcome))
    if impression.outcome == "declined" and impression.decline_reason:
        return f"{label}: {decline_label(impression.decline_reason).lower()}"
    return label


def churn_badge(churn: v.ChurnRisk) -> str:
    """ "Churn risk: high"; "" at "none" (nothing is shown)."""
    return "" if churn.level == "none" else f"Churn risk: {churn.level}"


def churn_line(churn: v.ChurnRisk) -> str:
    """ "High churn risk: 2 broken promises in 90 days; 4 contacts in 30 days; open
    complaint"; "" at "none"."""
    if churn.level == "none":
        return ""
    lead = "High churn risk" if churn.level == "high" else "Churn risk to watch"
    summary = churn.summary
    return f"{lead}: {summary}" if summary else lead


def churn_tip(churn: v.ChurnRisk) -> str:
    """The badge's tooltip: one factor a line, with what it adds."""
    lines = [f"Churn risk {churn.level} (score {churn.score})"]
    lines += [f"• {f.text} (+{f.points})" for f in churn.factors]
    return "\n".join(lines)


__all__ = [
    "DECLINE_LABELS",
    "churn_badge",
    "churn_line",
    "detail_text",
    "kind_label",
    "outcome_text",
    "price_text",
]
