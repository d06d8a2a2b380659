"""The story customers of S1, S2, S4 and S7 (../shared/product/scenarios.md), with their
histories, and S2's newcomer (the provider she moved to).

They are written first, so they get ids 1..6, and relative to `ctx.now`, so their
key dates stay near whenever the seed runs. Their names, numbers and order numbers
are in `story_customers.py`, where the tests read them.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from models.seed import commerce, people, service
from models.seed import story_customers as story
from models.seed.context import UTC, SeedContext, shift_years


def write_stories(ctx: SeedContext) -> None:
    story_s1(ctx)
    story_s2(ctx)
    story_s4(ctx)
    story_s7(ctx)
    story_s2_newcomer(ctx)


def _story_customer(ctx: SeedContext, key: str, region: str, **kwargs: Any) -> dict[str, Any]:
    s = story.STORY_CUSTOMERS[key]
    c = people.customer(ctx, region, first=s.first_name, last=s.last_name, **kwargs)
    c["row"].update(
        do_not_call=False,
        do_not_email=False,
        do_not_sms=False,
        do_not_mail=False,
        external_ref=None,
    )
    c["phone_id"] = people.add_phone(ctx, c["id"], s.phone_raw, s.phone_e164, "mobile", True)
    ctx.used_e164.add(s.phone_e164)
    c["email_id"] = people.email(ctx, c, s.email)
    return c


def story_s1(ctx: SeedContext) -> None:
    h = ctx.writer.add("households", name="Whitfield household")
    since = ctx.today - dt.timedelta(days=6 * 365 + 40)
    eleanor = _story_customer(ctx, "S1", "US", since=since, tier="gold", household_id=h)
    eleanor["row"]["segment"] = "premium"
    thomas = _story_customer(
        ctx,
        "S1-household",
        "US",
        since=since + dt.timedelta(days=200),
        tier="silver",
        household_id=h,
    )
    sf = ("San Francisco", 37.79, -122.41)
    home = people.address(ctx, eleanor, sf)
    ctx.writer.add("customer_addresses", **{**home, "customer_id": thomas["id"]})
    for c in (eleanor, thomas):
        people.add_phone(
            ctx, c["id"], story.S1_SHARED_HOME_RAW, story.S1_SHARED_HOME_E164, "home", False
        )
    ctx.writer.add(
        "customer_relations",
        customer_id=eleanor["id"],
        related_customer_id=thomas["id"],
        related_name=None,
        relation="husband",
        version=1,
    )
    ctx.writer.add(
        "customer_relations",
        customer_id=thomas["id"],
        related_customer_id=eleanor["id"],
        related_name=None,
        relation="wife",
        version=1,
    )
    people.key_date(ctx, eleanor["id"], "birthday", dt.date(1971, 4, 22))
    perfume = ctx.catalog.by_type[story.S1_REFILL_SKU][0]
    # Her perfume about every 90 days, the last one 80 days ago: refill time.
    moment = ctx.now - dt.timedelta(days=80)
    purchases = []
    while moment > dt.datetime(since.year, since.month, since.day, tzinfo=UTC):
        purchases.append(moment)
        moment -= dt.timedelta(days=ctx.rng.randint(84, 96))
    first = True
    for placed in reversed(purchases):
        lines = [(perfume, 1, 0, None)]
        if ctx.rng.random() < 0.5:
            lines.append((ctx.rng.choice(ctx.catalog.by_type["Body Lotion"]), 1, 0, None))
        if ctx.rng.random() < 0.3:
            lines.append((ctx.rng.choice(ctx.catalog.by_type["Day Cream"]), 1, 0, None))
        number = story.STORY_CUSTOMERS["S1"].order_number if first else None
        commerce.order(
            ctx, eleanor, placed, lines, channel="store", number=number, status="delivered"
        )
        first = False
    for _ in range(6):
        placed = ctx.now - dt.timedelta(days=ctx.rng.randint(100, 2000))
        commerce.order(
            ctx,
            eleanor,
            placed,
            [(ctx.rng.choice(ctx.catalog.by_type["Scented Candle"]), 2, 0, None)],
        )
    commerce.order(
        ctx,
        thomas,
        ctx.now - dt.timedelta(days=400),
        [(ctx.rng.choice(ctx.catalog.by_type["Quartz Watch"]), 1, 0, None)],
        number=story.STORY_CUSTOMERS["S1-household"].order_number,
        status="delivered",
    )
    service.interactions_for(ctx, eleanor, 6)
    ctx.writer.add(
        "feedback",
        customer_id=eleanor["id"],
        interaction_id=None,
        case_id=None,
        rating=5,
        sentiment="positive",
        text="Always remembered what I like. Lovely service.",
        source="store",
        received_at=ctx.now - dt.timedelta(days=80),
    )
    # About the price (issue 13): the cheaper alternative of her range is suggested.
    ctx.writer.add(
        "feedback",
        customer_id=eleanor["id"],
        interaction_id=None,
        case_id=None,
        rating=3,
        sentiment="neutral",
        text=story.S1_PRICE_FEEDBACK,
        source="phone",
        received_at=ctx.now - dt.timedelta(days=30),
    )


def story_s2(ctx: SeedContext) -> None:
    since = ctx.today - dt.timedelta(days=10 * 365 + 20)
    sandra = _story_customer(ctx, "S2", "US", since=since, tier="platinum")
    sandra["row"]["segment"] = "business"
    office = people.add_phone(
        ctx, sandra["id"], story.S2_OFFICE_RAW, story.S2_OFFICE_E164, "work", False
    )
    people.address(ctx, sandra, ("Boston", 42.35, -71.07))
    prefs = [
        dict(
            channel="phone",
            phone_id=sandra["phone_id"],
            email_id=None,
            allowed_days=127,
            allowed_from=None,
            allowed_until=None,
            rank=9,
            avoid=True,
            note=story.S2_AVOID_NOTE,
        ),
        dict(
            channel="phone",
            phone_id=office,
            email_id=None,
            allowed_days=31,
            allowed_from=dt.time(18, 0),
            allowed_until=None,
            rank=1,
            avoid=False,
            note="Office phone, weekdays after 6 pm",
        ),
        dict(
            channel="email",
            phone_id=None,
            email_id=sandra["email_id"],
            allowed_days=127,
            allowed_from=None,
            allowed_until=None,
            rank=2,
            avoid=False,
            note=None,
        ),
    ]
    for pref in prefs:
        ctx.writer.add("contact_preferences", customer_id=sandra["id"], version=1, **pref)
    contracts = commerce.contracts_for(
        ctx, sandra, ("mobile",), None, ctx.today - dt.timedelta(days=400)
    )
    commerce.order(
        ctx,
        sandra,
        ctx.now - dt.timedelta(days=400),
        [(ctx.rng.choice(ctx.catalog.by_type["Smartphone"]), 1, 0, None)],
        channel="web",
        number=story.STORY_CUSTOMERS["S2"].order_number,
        status="delivered",
    )
    opened = ctx.now - dt.timedelta(days=150)
    case_id, _ref, _opened = service.case_for(
        ctx,
        sandra,
        topic=("network", story.S2_COVERAGE_CASE_SUBJECT, "field_service"),
        opened=opened,
        open_=True,
        contract_id=contracts["mobile"],
        priority="high",
        extras=False,
        description="No mobile signal at home since spring. Each call starts from scratch.",
    )
    ctx.writer.rows["cases"][-1]["status"] = "open"
    # The demo acts as this agent (app/bootstrap.py DEMO_AGENT): her case is in My work.
    ctx.writer.rows["cases"][-1]["assignee_id"] = ctx.demo_agent
    for n in range(7):
        started = opened + dt.timedelta(days=n * 20 + 1, hours=n)
        ctx.writer.add(
            "interactions",
            customer_id=sandra["id"],
            case_id=case_id,
            channel="phone",
            direction="inbound",
            outcome="completed",
            started_at=started,
            answered_at=started + dt.timedelta(seconds=30),
            ended_at=started + dt.timedelta(minutes=12),
            agent_id=ctx.agent(),
            store_id=None,
            call_id=None,
            phone_number=story.S2_OFFICE_E164,
            wrap_up_code="complaint",
            summary=f"Still no coverage at home (call {n + 1})",
            version=1,
        )
        ctx.writer.add(
            "case_events",
            case_id=case_id,
            at=started,
            kind="contact",
            author_id=None,
            department_id=ctx.departments["call_centre"],
            body=f"Customer called again ({n + 1})",
            data=None,
        )
    visit_due = opened + dt.timedelta(days=30)
    service.commitment(
        ctx,
        sandra["id"],
        case_id,
        story.S2_BROKEN_COMMITMENTS[0],
        visit_due,
        "broken",
        created=opened,
        due_from=visit_due - dt.timedelta(days=7),
        kind="visit",
        owner=ctx.demo_agent,
    )
    service.commitment(
        ctx,
        sandra["id"],
        case_id,
        story.S2_BROKEN_COMMITMENTS[1],
        opened + dt.timedelta(days=60),
        "broken",
        created=opened + dt.timedelta(days=56),
        kind="callback",
        owner=ctx.demo_agent,
    )
    service.commitment(
        ctx,
        sandra["id"],
        case_id,
        story.S2_OPEN_COMMITMENT,
        ctx.now - dt.timedelta(days=3),
        "open",
        created=ctx.now - dt.timedelta(days=10),
        kind="callback",
        owner=ctx.demo_agent,
    )
    service.case_for(
        ctx,
        sandra,
        topic=("billing", story.S2_BILLING_CASE_SUBJECT, "billing"),
        opened=ctx.now - dt.timedelta(days=20),
        open_=True,
        priority="normal",
        contract_id=contracts["mobile"],
        extras=False,
    )
    ctx.writer.rows["cases"][-1]["status"] = "waiting_internal"
    ctx.writer.add(
        "feedback",
        customer_id=sandra["id"],
        interaction_id=None,
        case_id=case_id,
        rating=1,
        sentiment="negative",
        text="Ten years a customer and nobody fixes my coverage.",
        source="email",
        received_at=ctx.now - dt.timedelta(days=12),
    )


def story_s2_newcomer(ctx: SeedContext) -> None:
    """S2 seen from the provider she moved to: signed up days ago, and the agent noted
    why. Written last of the stories (id 6) with its own random numbers, so the
    population after it is drawn as before."""
    shared = ctx.rng
    ctx.rng = random.Random(13)
    try:
        since = ctx.today - dt.timedelta(days=story.S2_NEWCOMER_SINCE_DAYS)
        maya = _story_customer(ctx, "S2-newcomer", "US", since=since, tier="standard")
        people.address(ctx, maya, ("Boston", 42.35, -71.07))
        commerce.contracts_for(ctx, maya, ("mobile",), None, since)
        ctx.writer.add(
            "customer_notes",
            customer_id=maya["id"],
            author_id=ctx.users["agent"][1],
            body=story.S2_NEWCOMER_NOTE,
            pinned=False,
            created_at=dt.datetime(since.year, since.month, since.day, 10, 30, tzinfo=UTC),
            version=1,
            client_key=None,
        )
    finally:
        ctx.rng = shared


def story_s4(ctx: SeedContext) -> None:
    priya = _story_customer(
        ctx, "S4", "GB", since=ctx.today - dt.timedelta(days=4 * 365), tier="silver"
    )
    people.address(ctx, priya, ("London", 51.51, -0.13))
    kevin_birthday = ctx.today + dt.timedelta(days=story.S4_KEVIN_BIRTHDAY_IN_DAYS)
    own_birthday = ctx.today + dt.timedelta(days=story.S4_OWN_BIRTHDAY_IN_DAYS)
    rid = ctx.writer.add(
        "customer_relations",
        customer_id=priya["id"],
        related_customer_id=None,
        related_name=story.S4_RELATION_NAME,
        relation="husband",
        version=1,
    )
    people.key_date(
        ctx,
        priya["id"],
        "birthday",
        shift_years(kevin_birthday, -41),
        "Kevin's birthday",
        rid,
    )
    people.key_date(ctx, priya["id"], "birthday", shift_years(own_birthday, -38))
    people.key_date(
        ctx,
        priya["id"],
        "anniversary",
        shift_years(ctx.today + dt.timedelta(days=150), -10),
        "Wedding anniversary",
    )
    watch = ctx.catalog.by_type["WAT-ENGR-01"][0]
    placed = ctx.now - dt.timedelta(days=6)
    order_id, lines = commerce.order(
        ctx,
        priya,
        placed,
        [
            (watch, 1, 0, story.S4_ENGRAVING),
            (ctx.rng.choice(ctx.catalog.by_type["Watch Box"]), 1, 0, None),
        ],
        channel="web",
        number=story.STORY_CUSTOMERS["S4"].order_number,
        status="delivered",
    )
    for _ in range(3):
        commerce.order(
            ctx, priya, ctx.now - dt.timedelta(days=ctx.rng.randint(60, 1200)), commerce.basket(ctx)
        )
    case_id, _ref, opened = service.case_for(
        ctx,
        priya,
        topic=("product", story.S4_COMPLAINT_SUBJECT, "warehouse"),
        opened=ctx.now - dt.timedelta(hours=3),
        open_=True,
        order_id=order_id,
        line_id=lines[0],
        priority="urgent",
        extras=False,
        description=f"Ordered '{story.S4_ENGRAVING}', received '{story.S4_WRONG_ENGRAVING}'. "
        "Husband's birthday on Monday.",
    )
    ctx.writer.rows["cases"][-1]["status"] = "open"
    service.commitment(
        ctx,
        priya["id"],
        case_id,
        "Deliver the re-engraved watch before Kevin's birthday",
        ctx.now + dt.timedelta(days=1),
        "open",
        created=opened,
        kind="delivery",
        owner=ctx.demo_agent,
    )
    service.interactions_for(ctx, priya, 3)


def story_s7(ctx: SeedContext) -> None:
    since = dt.date(*story.S7_CUSTOMER_SINCE)
    dorothy = _story_customer(ctx, "S7", "AU", since=since, tier="gold")
    people.address(ctx, dorothy, ("Sydney", -33.87, 151.21))
    renewed = ctx.today - dt.timedelta(days=story.S7_MOBILE_RENEWED_MONTHS_AGO * 30)
    contracts = commerce.contracts_for(
        ctx, dorothy, ("landline", "internet", "tv"), story.S7_BUNDLE_NAME, dt.date(2008, 6, 1)
    )
    bundle_id = ctx.writer.rows["contracts"][-1]["bundle_id"]
    ctx.contract_seq += 1
    contracts["mobile"] = ctx.writer.add(
        "contracts",
        number=f"K{7000000 + ctx.contract_seq}",
        customer_id=dorothy["id"],
        bundle_id=bundle_id,
        service="mobile",
        plan="Mobile 40 GB",
        start_date=renewed,
        end_date=renewed + dt.timedelta(days=story.S7_MOBILE_TERM_MONTHS * 30),
        monthly_fee_cents=4500,
        early_termination_fee_cents=27000,
        upgrade_fee_cents=story.S7_UPGRADE_FEE_CENTS,
        status="active",
        version=1,
    )
    people.key_date(
        ctx,
        dorothy["id"],
        "contract_renewal",
        renewed + dt.timedelta(days=story.S7_MOBILE_TERM_MONTHS * 30),
        "Mobile contract renewal",
        recurring=False,
    )
    latest = [(ctx.rng.choice(ctx.catalog.by_type["Smartphone"]), 1, 0, None)]
    commerce.order(
        ctx,
        dorothy,
        ctx.now - dt.timedelta(days=story.S7_MOBILE_RENEWED_MONTHS_AGO * 30),
        latest,
        channel="store",
        number=story.STORY_CUSTOMERS["S7"].order_number,
        status="delivered",
    )
    _s7_earlier_handsets(ctx, dorothy, _total(latest))
    service.interactions_for(ctx, dorothy, 5)


def _total(lines: list[Any]) -> int:
    return sum(p["price_cents"] * q - d for p, q, d, _t in lines)


def _s7_earlier_handsets(ctx: SeedContext, dorothy: dict[str, Any], value: int) -> None:
    """A handset (and a case) at earlier renewals, every two years back, until her orders
    add up to S7_LIFETIME_VALUE_CENTS; the oldest one carries the discount that makes
    the sum exact, so her rank by value does not depend on the prices drawn."""
    placed = ctx.now - dt.timedelta(days=story.S7_MOBILE_RENEWED_MONTHS_AGO * 30)
    while value < story.S7_LIFETIME_VALUE_CENTS:
        placed -= dt.timedelta(days=730)
        remaining = story.S7_LIFETIME_VALUE_CENTS - value
        phone = ctx.rng.choice(ctx.catalog.by_type["Smartphone"])
        case = ctx.rng.choice(ctx.catalog.by_type["Phone Case"])
        lines: list[Any] = [(phone, 1, 0, None)]
        if phone["price_cents"] + case["price_cents"] <= remaining:
            lines.append((case, 1, 0, None))
        elif phone["price_cents"] > remaining:
            lines = [(phone, 1, phone["price_cents"] - remaining, None)]
        commerce.order(ctx, dorothy, placed, lines, channel="store", status="delivered")
        value += _total(lines)
