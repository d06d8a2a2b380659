"""Churn risk from the facts of a relationship (S2: the 10-year Platinum customer lost
after months of broken promises). Pure: `app/services/churn_facts.py` gathers the facts.

The score adds points per sign of trouble; tenure and value add points only when there
is trouble (they are what is at stake, not a risk in themselves: a happy ten-year
customer is at no risk). The thresholds are named below with why.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.services.views import ChurnFactor, ChurnRisk

# Windows the facts are counted over (the service passes counts over these).
BROKEN_WINDOW_DAYS = 180  # a broken promise is remembered for about half a year
FEEDBACK_WINDOW_DAYS = 180
STALE_CASE_DAYS = 14  # an open case older than two weeks is "unresolved", not "in hand"

# Points. A broken promise is the heaviest single sign (S2: "promised technician visits
# never come"); two of them alone make a customer worth watching closely.
BROKEN_POINTS, BROKEN_CAP = 3, 6
# Contacts about one open case: the third call is the customer starting from scratch
# again; five or more is the story S2 tells.
REPEAT_FROM, REPEAT_MANY = 3, 5
REPEAT_POINTS, REPEAT_MANY_POINTS = 2, 3
UNRESOLVED_POINTS, UNRESOLVED_CAP = 2, 4
NEGATIVE_POINTS, NEGATIVE_CAP = 2, 4
# Spend over the last 12 months below 60% of the 12 before: a clear fall, not noise;
# and only for a regular buyer (a one-off purchase, a phone, is no habit that can fall).
FALLING_SPEND_RATIO = 0.6
FALLING_MIN_ORDERS = 3  # orders in the year before
FALLING_POINTS = 2
# What is at stake, when there is trouble at all.
LONG_TENURE_YEARS = 5
HIGH_VALUE_TIERS = ("gold", "platinum")
STAKE_POINTS = 2

# Levels: "watch" from one broken promise or two separate lesser signs; "high" at about
# three kinds of trouble together (the case where a retention offer is worth its cost).
WATCH_FROM = 3
HIGH_FROM = 8


@dataclass(frozen=True)
class ChurnFacts:
    tenure_years: int | None = None
    tier: str | None = None
    broken_commitments: int = 0  # in the last BROKEN_WINDOW_DAYS
    repeat_contacts: int = 0  # most contacts about one open case
    unresolved_cases: int = 0  # open for more than STALE_CASE_DAYS
    negative_feedback: int = 0  # in the last FEEDBACK_WINDOW_DAYS
    spend_last_year_cents: int = 0
    spend_year_before_cents: int = 0
    orders_year_before: int = 0

    @property
    def spend_falling(self) -> bool:
        before = self.spend_year_before_cents
        return (
            self.orders_year_before >= FALLING_MIN_ORDERS
            and before > 0
            and self.spend_last_year_cents < FALLING_SPEND_RATIO * before
        )


def churn_risk(facts: ChurnFacts) -> ChurnRisk:
    """The level ("none", "watch", "high"), the score and the factors that counted."""
    factors: list[ChurnFactor] = []
    if facts.broken_commitments:
        n = facts.broken_commitments
        factors.append(
            ChurnFactor(
                "broken_commitments",
                f"{_count(n, 'broken promise')} in the last {BROKEN_WINDOW_DAYS // 30} months",
                min(BROKEN_CAP, BROKEN_POINTS * n),
            )
        )
    if facts.repeat_contacts >= REPEAT_FROM:
        n = facts.repeat_contacts
        factors.append(
            ChurnFactor(
                "repeat_contacts",
                f"{_count(n, 'contact')} about one open case",
                REPEAT_MANY_POINTS if n >= REPEAT_MANY else REPEAT_POINTS,
            )
        )
    if facts.unresolved_cases:
        n = facts.unresolved_cases
        factors.append(
            ChurnFactor(
                "unresolved_cases",
                f"{_count(n, 'case')} open for over {STALE_CASE_DAYS} days",
                min(UNRESOLVED_CAP, UNRESOLVED_POINTS * n),
            )
        )
    if facts.negative_feedback:
        n = facts.negative_feedback
        factors.append(
            ChurnFactor(
                "negative_feedback",
                f"{_count(n, 'negative feedback', 'negative feedbacks')}"
                f" in the last {FEEDBACK_WINDOW_DAYS // 30} months",
                min(NEGATIVE_CAP, NEGATIVE_POINTS * n),
            )
        )
    if facts.spend_falling:
        before, now = facts.spend_year_before_cents, facts.spend_last_year_cents
        down = round(100 * (before - now) / before)
        factors.append(
            ChurnFactor("falling_spend", f"spend down {down}% on the year before", FALLING_POINTS)
        )
    trouble = sum(f.points for f in factors)
    if trouble:
        stake = _stake(facts)
        if stake:
            factors.append(ChurnFactor("value", stake, STAKE_POINTS))
    score = sum(f.points for f in factors)
    level = "high" if score >= HIGH_FROM else "watch" if score >= WATCH_FROM else "none"
    factors.sort(key=lambda f: -f.points)  # stable: equal points keep the order above
    return ChurnRisk(level=level, score=score, factors=tuple(factors))


def _stake(facts: ChurnFacts) -> str | None:
    parts = []
    if facts.tenure_years is not None and facts.tenure_years >= LONG_TENURE_YEARS:
        parts.append(f"customer for {facts.tenure_years} years")
    if facts.tier in HIGH_VALUE_TIERS:
        parts.append(str(facts.tier))
    return ", ".join(parts) or None


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
