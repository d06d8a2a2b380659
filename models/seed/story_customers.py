"""The customers of the stories (S1, S2 and its newcomer, S4, S7) that every seeded
database holds.

`stories.py` writes them; tests, the UI walkthroughs and docs/demo-data.md refer to
these exact names, numbers and order numbers, so they live here as constants and
nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoryCustomer:
    key: str  # the story it plays ("S1", "S1-household", ...)
    first_name: str
    last_name: str
    phone_e164: str  # the number the customer gives first (mobile, or landline for S7)
    phone_raw: str  # as it was typed when the record was created
    email: str
    order_number: str | None  # an order that the story's walkthrough opens


STORY_CUSTOMERS: dict[str, StoryCustomer] = {
    "S1": StoryCustomer(
        key="S1",
        first_name="Eleanor",
        last_name="Whitfield",
        phone_e164="+14155550134",
        phone_raw="(415) 555-0134",
        email="eleanor.whitfield@example.com",
        order_number="R20190001",
    ),
    "S1-household": StoryCustomer(
        key="S1-household",
        first_name="Thomas",
        last_name="Whitfield",
        phone_e164="+14155550177",
        phone_raw="415-555-0177",
        email="tom.whitfield@example.net",
        order_number="R20190002",
    ),
    "S2": StoryCustomer(
        key="S2",
        first_name="Sandra",
        last_name="Kowalski",
        phone_e164="+16175550142",
        phone_raw="617.555.0142",
        email="sandra.kowalski@example.com",
        order_number="R20150912",
    ),
    "S2-newcomer": StoryCustomer(
        key="S2-newcomer",
        first_name="Maya",
        last_name="Okafor",
        phone_e164="+16175550163",
        phone_raw="617-555-0163",
        email="maya.okafor@example.com",
        order_number=None,
    ),
    "S4": StoryCustomer(
        key="S4",
        first_name="Priya",
        last_name="Raman",
        phone_e164="+442079460018",
        phone_raw="020 7946 0018",
        email="priya.raman@example.co.uk",
        order_number="R20240417",
    ),
    "S7": StoryCustomer(
        key="S7",
        first_name="Dorothy",
        last_name="Hargreaves",
        phone_e164="+61293744000",
        phone_raw="(02) 9374 4000",
        email="dorothy.hargreaves@example.com.au",
        order_number="R20240801",
    ),
}

# S1: the landline Eleanor and Thomas share; a lookup by it returns both.
S1_SHARED_HOME_E164 = "+14155550188"
S1_SHARED_HOME_RAW = "415 555 0188"
# S1: the perfume she re-buys about every 90 days.
S1_REFILL_SKU = "FRG-AUB-50"
# S1's catalogue relations of that perfume (issue 13): its "his" counterpart, a newer
# line that complements it, and another that launches soon.
S1_COUNTERPART_SKU = "FRG-AUB-H50"
S1_COUNTERPART_PRODUCT = "Aubade Homme Eau de Toilette 50 ml"
S1_NEW_LINE_SKU = "FRG-AUB-OIL"
S1_NEW_LINE_PRODUCT = "Aubade Silk Body Oil"
S1_NEW_LINE_DAYS_AGO = 45
S1_COMING_SKU = "FRG-AUB-MIST"
S1_COMING_PRODUCT = "Aubade Hair Mist"
S1_COMING_IN_DAYS = 13
# S1: what she said about the price (a down-sell is then suggested).
S1_PRICE_FEEDBACK = "Lovely as ever, but the Aubade is getting expensive for me."

# S2: the office phone she wants to be called on, weekdays after 18:00.
S2_OFFICE_E164 = "+16175550199"
S2_OFFICE_RAW = "(617) 555-0199"
S2_COVERAGE_CASE_SUBJECT = "No mobile coverage at home"
S2_BILLING_CASE_SUBJECT = "Billing dispute: dues already paid"
S2_BROKEN_COMMITMENTS = ("Technician visit, any weekday after 6 pm", "Callback by Friday")
S2_OPEN_COMMITMENT = "Call back with the coverage survey result"
S2_AVOID_NOTE = "No coverage at home: do not use the mobile"
# S2, the other side: a newcomer who left her previous provider after a bad experience;
# the note made at sign-up makes a welcome offer appear for the next agent.
S2_NEWCOMER_SINCE_DAYS = 12
S2_NEWCOMER_NOTE = (
    "Signed up today. She left her previous provider after a bad experience: "
    "three months without coverage and nobody called back."
)
# The offers kept ready (models/seed/reference.py OFFERS).
RETENTION_OFFER_CODE = "RET-CREDIT-25"
WELCOME_OFFER_CODE = "WELCOME-10"

# S4: the engraving as ordered, and what was engraved instead.
S4_ENGRAVING = "Priya & Kevin 10 years"
S4_WRONG_ENGRAVING = "Priya & Kelvin 10 years"
S4_RELATION_NAME = "Kevin Raman"
S4_COMPLAINT_SUBJECT = "Engraving on watch is wrong"
S4_KEVIN_BIRTHDAY_IN_DAYS = 2
S4_OWN_BIRTHDAY_IN_DAYS = 20

# S7: the bundle, the renewed mobile contract and the phone she wants.
S7_BUNDLE_NAME = "Home Complete"
S7_CUSTOMER_SINCE = (1997, 3, 1)
S7_MOBILE_RENEWED_MONTHS_AGO = 2
S7_MOBILE_TERM_MONTHS = 24
S7_UPGRADE_FEE_CENTS = 35000
S7_LAUNCH_PRODUCT = "Aurora X2 phone"
S7_LAUNCH_SKU = "PHN-AUR-X2"
S7_LAUNCH_IN_DAYS = 14
# Her orders over the years (a handset at most renewals) add up to this: about the top
# 5% of the customers who buy in Australian dollars, whatever the population's size
# (the loyalty exception to EARLY_UPGRADE_FEE needs the top 10%).
S7_LIFETIME_VALUE_CENTS = 260000
