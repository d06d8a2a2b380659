"""Churn risk from the facts (app/churn.py) and the welcome detector (app/welcome.py)."""

from __future__ import annotations

import pytest

from app import churn
from app.churn import ChurnFacts, churn_risk
from app.welcome import bad_experience_elsewhere

# S2's Sandra as models/seed/stories.py writes her: a platinum customer for 10 years,
# two broken promises, 7 calls about the coverage case, that case and the billing
# dispute open for weeks, one angry e-mail.
SANDRA = ChurnFacts(
    tenure_years=10,
    tier="platinum",
    broken_commitments=2,
    repeat_contacts=7,
    unresolved_cases=2,
    negative_feedback=1,
)


def test_sandra_is_high_with_her_factors_heaviest_first() -> None:
    risk = churn_risk(SANDRA)
    assert risk.level == "high"
    assert [f.code for f in risk.factors] == [
        "broken_commitments",
        "unresolved_cases",
        "repeat_contacts",
        "negative_feedback",
        "value",
    ]
    assert risk.summary == (
        "2 broken promises in the last 6 months; 2 cases open for over 14 days; "
        "7 contacts about one open case; 1 negative feedback in the last 6 months; "
        "customer for 10 years, platinum"
    )
    assert risk.score == sum(f.points for f in risk.factors) >= churn.HIGH_FROM


def test_a_happy_long_standing_customer_is_at_no_risk() -> None:
    risk = churn_risk(ChurnFacts(tenure_years=25, tier="platinum", spend_last_year_cents=90000))
    assert (risk.level, risk.score, risk.factors) == ("none", 0, ())


@pytest.mark.parametrize(
    ("facts", "code", "text", "level"),
    [
        (
            ChurnFacts(broken_commitments=1),
            "broken_commitments",
            "1 broken promise in the last 6 months",
            "watch",
        ),
        (
            ChurnFacts(broken_commitments=5),
            "broken_commitments",
            "5 broken promises in the last 6 months",
            "watch",
        ),
        (
            ChurnFacts(repeat_contacts=3),
            "repeat_contacts",
            "3 contacts about one open case",
            "none",
        ),
        (
            ChurnFacts(repeat_contacts=6),
            "repeat_contacts",
            "6 contacts about one open case",
            "watch",
        ),
        (
            ChurnFacts(unresolved_cases=1),
            "unresolved_cases",
            "1 case open for over 14 days",
            "none",
        ),
        (
            ChurnFacts(negative_feedback=2),
            "negative_feedback",
            "2 negative feedbacks in the last 6 months",
            "watch",
        ),
        (
            ChurnFacts(
                spend_last_year_cents=20000, spend_year_before_cents=80000, orders_year_before=5
            ),
            "falling_spend",
            "spend down 75% on the year before",
            "none",
        ),
    ],
)
def test_each_factor_in_words(facts: ChurnFacts, code: str, text: str, level: str) -> None:
    risk = churn_risk(facts)
    assert [(f.code, f.text) for f in risk.factors] == [(code, text)]
    assert risk.level == level


def test_caps_and_the_stake() -> None:
    assert churn_risk(ChurnFacts(broken_commitments=9)).score == churn.BROKEN_CAP
    # Tenure and value count only when there is trouble: they are what is at stake.
    calm = churn_risk(ChurnFacts(tenure_years=12, tier="gold"))
    assert calm.factors == ()
    worried = churn_risk(ChurnFacts(tenure_years=12, tier="gold", broken_commitments=1))
    assert worried.factors[-1].text == "customer for 12 years, gold"
    assert worried.level == "watch"
    assert (
        churn_risk(ChurnFacts(tenure_years=2, tier="standard", broken_commitments=1))
        .factors[-1]
        .code
        == "broken_commitments"
    )


def test_falling_spend_needs_a_regular_buyer() -> None:
    one_phone = ChurnFacts(
        spend_last_year_cents=0, spend_year_before_cents=71299, orders_year_before=1
    )
    assert not one_phone.spend_falling
    regular = ChurnFacts(
        spend_last_year_cents=59000, spend_year_before_cents=100000, orders_year_before=4
    )
    assert regular.spend_falling
    steady = ChurnFacts(
        spend_last_year_cents=61000, spend_year_before_cents=100000, orders_year_before=4
    )
    assert not steady.spend_falling


@pytest.mark.parametrize(
    "note",
    [
        "Signed up today. She left her previous provider after a bad experience.",
        "Had a terrible experience with her old bank",
        "Switched from Telco One last week",
        "came over from another operator",
        "Customer left Verizon in March",
        "unhappy with her previous provider",
    ],
)
def test_a_bad_experience_elsewhere_is_found(note: str) -> None:
    assert bad_experience_elsewhere(note)


@pytest.mark.parametrize(
    "note",
    [
        None,
        "",
        "Left a message on her voicemail",
        "Customer left Monday for a trip",
        "Great experience in store today",
        "Prefers e-mail after 6 pm",
    ],
)
def test_nothing_else_is_taken_for_one(note: str | None) -> None:
    assert bad_experience_elsewhere(note) is None
