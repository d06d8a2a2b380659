"""People and how to reach them: customers, phones, addresses, e-mails, key dates, preferences.

The rows of models/people.py. A customer is returned as a dict that the other
generators read (`id`, `region`, names, `since`, `tier`) and whose `row` the
stories may still change before it is flushed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import phonenumbers

from models.names import fold, search_name
from models.phone_kinds import kind_for
from models.seed.context import SeedContext, at
from models.seed.data import LANGUAGE, PHONE_FORMATS, PHONE_SHAPES, REGIONS, SEGMENTS
from models.seed.writer import SeedError


def phone(ctx: SeedContext, region: str, used: bool = True) -> tuple[str, str]:
    """A valid number of `region`: (raw as a person typed it, E.164)."""
    for _ in range(50):
        prefix, length = ctx.rng.choice(PHONE_SHAPES[region])
        national = prefix + "".join(str(ctx.rng.randint(0, 9)) for _ in range(length))
        if region == "US" and national[3] in "01":
            continue
        parsed = phonenumbers.parse(national, region)
        if not phonenumbers.is_valid_number(parsed):
            continue
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if used and e164 in ctx.used_e164:
            continue
        ctx.used_e164.add(e164)
        raw = phonenumbers.format_number(parsed, ctx.rng.choice(PHONE_FORMATS))
        if ctx.rng.random() < 0.2:
            raw = raw.replace(" ", ".").replace("-", ".")
        return raw, e164
    raise SeedError(f"could not generate a valid {region} phone number")


def add_phone(
    ctx: SeedContext, customer_id: int, raw: str, e164: str, kind: str, primary: bool
) -> int:
    """`kind` is what the story means; the number overrides it when it says otherwise
    (a London 020 number is no mobile), as the contact service does."""
    kind = kind_for(e164, hint=kind)
    return ctx.writer.add(
        "customer_phones",
        customer_id=customer_id,
        raw=raw,
        e164=e164,
        digits_tail=e164[-7:],
        kind=kind,
        is_primary=primary,
    )


def customer(
    ctx: SeedContext,
    region: str,
    *,
    first: str | None = None,
    last: str | None = None,
    since: dt.date | None = None,
    tier: str | None = None,
    household_id: int | None = None,
    not_first: str | None = None,
) -> dict[str, Any]:
    """`not_first`: a first name to avoid (a partner's), so two people of one household
    never share a whole name, which would make them look like one person duplicated."""
    rng = ctx.rng
    pool = ctx.pools[region]
    female = rng.random() < 0.55
    first = first or rng.choice(pool["first_female" if female else "first_male"])
    while first == not_first:
        first = rng.choice(pool["first_female" if female else "first_male"])
    last = last or rng.choice(pool["last"])
    if since is None:
        years = min(rng.expovariate(1 / 6), 30)
        since = ctx.today - dt.timedelta(days=int(years * 365) + rng.randint(0, 364))
    tier = tier or rng.choices(("standard", "silver", "gold", "platinum"), (60, 25, 12, 3))[0]
    cid = ctx.writer.add(
        "customers",
        first_name=first,
        last_name=last,
        search_name=search_name(first, last),
        preferred_language=LANGUAGE[region],
        segment=rng.choice(SEGMENTS),
        tier=tier,
        customer_since=since,
        do_not_call=rng.random() < 0.03,
        do_not_email=rng.random() < 0.05,
        do_not_sms=rng.random() < 0.08,
        do_not_mail=rng.random() < 0.1,
        status="active",
        merged_into_id=None,
        household_id=household_id,
        external_ref=None if rng.random() < 0.7 else f"LEG-{rng.randint(10**6, 10**7 - 1)}",
        created_at=at(since, rng),
        updated_at=ctx.now,
        version=1,
    )
    return {
        "id": cid,
        "region": region,
        "first": first,
        "last": last,
        "since": since,
        "female": female,
        "tier": tier,
        "row": ctx.writer.rows["customers"][-1],
    }


def address(
    ctx: SeedContext, c: dict[str, Any], city: tuple[str, float, float] | None = None
) -> dict[str, Any]:
    rng = ctx.rng
    pool = ctx.pools[c["region"]]
    name, lat, lon = city or rng.choice(REGIONS[c["region"]][3])
    row = {
        "customer_id": c["id"],
        "kind": "home",
        "line1": f"{rng.randint(1, 250)} {rng.choice(pool['street'])}",
        "line2": None,
        "city": name,
        "region": None,
        "postal_code": rng.choice(pool["postcode"]),
        "country": c["region"],
        "latitude": round(lat + rng.uniform(-0.08, 0.08), 5),
        "longitude": round(lon + rng.uniform(-0.08, 0.08), 5),
    }
    ctx.writer.add("customer_addresses", **row)
    return row


def email(ctx: SeedContext, c: dict[str, Any], address: str | None = None) -> int:
    if address is None:
        domain = ctx.rng.choice(("example.com", "example.net", "example.org", "mail.example"))
        local = fold(f"{c['first']}.{c['last']}").replace(" ", "").replace("'", "")
        local = "".join(ch for ch in local if ch.isalnum() or ch == ".")
        address = f"{local}{c['id']}@{domain}"
    return ctx.writer.add(
        "customer_emails",
        customer_id=c["id"],
        address=address,
        address_normalized=address.lower(),
        kind="personal",
        is_primary=True,
    )


def key_date(
    ctx: SeedContext,
    customer_id: int,
    kind: str,
    date: dt.date,
    label: str | None = None,
    relation_id: int | None = None,
    recurring: bool = True,
) -> None:
    ctx.writer.add(
        "key_dates",
        customer_id=customer_id,
        relation_id=relation_id,
        kind=kind,
        label=label,
        date=date,
        month_day=date.strftime("%m-%d"),
        recurring_yearly=recurring,
        version=1,
    )


def birthday(ctx: SeedContext, age_low: int = 20, age_high: int = 80) -> dt.date:
    born = ctx.today.year - ctx.rng.randint(age_low, age_high)
    return dt.date(born, 1, 1) + dt.timedelta(days=ctx.rng.randint(0, 364))


def contact_preferences(ctx: SeedContext, c: dict[str, Any]) -> None:
    rng = ctx.rng
    ctx.writer.add(
        "contact_preferences",
        customer_id=c["id"],
        channel=rng.choice(("email", "phone", "sms")),
        phone_id=None,
        email_id=None,
        allowed_days=rng.choice((127, 31, 96)),
        allowed_from=dt.time(rng.choice((8, 9, 17, 18))),
        allowed_until=None,
        rank=1,
        avoid=False,
        note=None,
        version=1,
    )
