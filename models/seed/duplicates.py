"""A few duplicate customers in the demo data (S8), so the review queue has work.

Written after the random population, so the story customers keep ids 1..6 and the
population is drawn exactly as before. Each pair is a way legacy data goes wrong
(docs/demo-data.md, "Duplicates"): a typo'd copy of Eleanor Whitfield from the old
CRM, a nickname, a swapped first and last name, a copy with fields missing. No pair
shares an e-mail address (every seeded e-mail is unique), so none of them changes what
an e-mail search finds. Two records that must NOT be flagged are here too: a namesake,
and (from S1) Eleanor and Thomas Whitfield, who share a landline and an address.
`app/seeding.py` runs the detection after seeding and stores what it finds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import phonenumbers

from models.seed import people
from models.seed.context import SeedContext

# S1: Eleanor's date of birth (stories.py), which her legacy copy carries too.
ELEANOR_BORN = dt.date(1971, 4, 22)
LEGACY_ELEANOR = ("Elenor", "Whitfield", "CRM7-004211")
NICKNAME_PAIR = (("Robert", "Ashdown"), ("Bob", "Ashdown", "CRM7-001876"))
SWAPPED_PAIR = (("Grace", "Okonkwo"), ("Okonkwo", "Grace", "CRM7-002390"))
MISSING_FIELDS_PAIR = (("Margaret", "Pryce"), ("Peggy", "Pryce", "CRM7-000517"))
NAMESAKES = (("James", "Carter"), ("James", "Carter"))


def write_demo_duplicates(ctx: SeedContext) -> None:
    since = ctx.today - dt.timedelta(days=9 * 365)
    eleanor_copy = _customer(ctx, "US", *LEGACY_ELEANOR, since)
    people.address(ctx, eleanor_copy, ("San Francisco", 37.79, -122.41))  # an old one
    people.key_date(ctx, eleanor_copy["id"], "birthday", ELEANOR_BORN)

    (first, last), (nick, nick_last, ref) = NICKNAME_PAIR
    robert = _customer(ctx, "GB", first, last, None, since)
    bob = _customer(ctx, "GB", nick, nick_last, ref, since)
    born = people.birthday(ctx)
    _same_phone(ctx, (robert, bob), "GB")
    for c in (robert, bob):
        people.key_date(ctx, c["id"], "birthday", born)
        people.email(ctx, c)
    people.address(ctx, bob)  # an old address: he has moved since

    (first, last), (swapped_first, swapped_last, ref) = SWAPPED_PAIR
    grace = _customer(ctx, "US", first, last, None, since)
    swapped = _customer(ctx, "US", swapped_first, swapped_last, ref, since)
    _same_phone(ctx, (grace, swapped), "US")
    home = people.address(ctx, grace)
    ctx.writer.add("customer_addresses", **{**home, "customer_id": swapped["id"]})
    people.email(ctx, grace)

    (first, last), (nick, nick_last, ref) = MISSING_FIELDS_PAIR
    margaret = _customer(ctx, "GB", first, last, None, since)
    peggy = _customer(ctx, "GB", nick, nick_last, ref, since)  # no phone, no e-mail
    born = people.birthday(ctx, 60, 85)
    home = people.address(ctx, margaret)
    ctx.writer.add("customer_addresses", **{**home, "customer_id": peggy["id"]})
    for c in (margaret, peggy):
        people.key_date(ctx, c["id"], "birthday", born)
    raw, e164 = people.phone(ctx, "GB")
    people.add_phone(ctx, margaret["id"], raw, e164, "home", True)

    for first, last in NAMESAKES:  # two people of one common name: not a duplicate
        c = _customer(ctx, "US", first, last, None, since)
        raw, e164 = people.phone(ctx, "US")
        people.add_phone(ctx, c["id"], raw, e164, "mobile", True)
        people.address(ctx, c)
        people.email(ctx, c)
        people.key_date(ctx, c["id"], "birthday", people.birthday(ctx))


def _customer(
    ctx: SeedContext, region: str, first: str, last: str, ref: str | None, since: dt.date
) -> dict[str, Any]:
    c = people.customer(ctx, region, first=first, last=last, since=since, tier="standard")
    c["row"]["external_ref"] = ref
    return c


def _same_phone(ctx: SeedContext, pair: tuple[dict[str, Any], ...], region: str) -> None:
    """One number, written the way each record's system wrote it."""
    raw, e164 = people.phone(ctx, region)
    parsed = phonenumbers.parse(e164)
    international = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    people.add_phone(ctx, pair[0]["id"], raw, e164, "mobile", True)
    people.add_phone(ctx, pair[1]["id"], international, e164, "mobile", True)
