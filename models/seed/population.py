"""The random customers that fill the database after the stories, each with a history.

`random_customer` decides, one draw after another, what a customer has: phones,
e-mail, key dates, orders, contacts, a case, a partner, contracts, and sometimes a
household with a second customer.
"""

from __future__ import annotations

import datetime as dt

from models.seed import commerce, people, service
from models.seed.context import SeedContext, at, shift_years


def random_customer(ctx: SeedContext, room: int) -> int:
    """One customer (and, room allowing, a partner in the same household); how many."""
    rng = ctx.rng
    region = rng.choices(ctx.regions, ctx.region_weights)[0]
    c = people.customer(ctx, region)
    home = people.address(ctx, c)
    raw, e164 = people.phone(ctx, region)
    people.add_phone(ctx, c["id"], raw, e164, "mobile", True)
    home_phone = None
    if rng.random() < 0.4:
        home_phone = people.phone(ctx, region)
        people.add_phone(ctx, c["id"], *home_phone, "home", False)
    if rng.random() < 0.9:
        people.email(ctx, c)
    if rng.random() < 0.7:
        people.key_date(ctx, c["id"], "birthday", people.birthday(ctx))
    if rng.random() < 0.25:
        people.contact_preferences(ctx, c)
    commerce.orders_for(ctx, c)
    service.interactions_for(ctx, c, int(rng.expovariate(1 / 3)) + 1)
    if rng.random() < 0.3:
        service.case_for(ctx, c)
    if rng.random() < 0.08:
        product = rng.choice(ctx.catalog.products)
        ctx.writer.add(
            "offer_events",
            customer_id=c["id"],
            product_id=product["id"],
            interaction_id=None,
            agent_id=ctx.agent(),
            kind=rng.choice(("refill", "cross_sell", "up_sell", "down_sell")),
            reason="Bought together by customers with a similar basket",
            outcome=rng.choices(("shown", "accepted", "declined"), (50, 20, 30))[0],
            value_cents=product["price_cents"],
            at=at(ctx.today - dt.timedelta(days=rng.randint(0, 700)), rng),
        )
    if rng.random() < 0.3:
        name = rng.choice(ctx.pools[region]["first_female" if not c["female"] else "first_male"])
        relation = "husband" if c["female"] else "wife"
        rid = ctx.writer.add(
            "customer_relations",
            customer_id=c["id"],
            related_customer_id=None,
            related_name=f"{name} {c['last']}",
            relation=relation,
            version=1,
        )
        people.key_date(ctx, c["id"], "birthday", people.birthday(ctx), f"{name}'s birthday", rid)
        if rng.random() < 0.5:
            wedding = shift_years(ctx.today, -rng.randint(2, 40)) - dt.timedelta(
                days=rng.randint(0, 364)
            )
            people.key_date(ctx, c["id"], "anniversary", wedding, "Wedding anniversary")
    if rng.random() < 0.12:
        since = ctx.today - dt.timedelta(days=rng.randint(30, 2000))
        services = rng.sample(("landline", "internet", "tv", "mobile"), rng.randint(1, 4))
        commerce.contracts_for(
            ctx, c, services, "Home bundle" if len(services) > 2 else None, since
        )
        people.key_date(
            ctx,
            c["id"],
            "contract_renewal",
            shift_years(since, 2),
            "Contract renewal",
            recurring=False,
        )
    # A household: a partner who is a customer too, sharing address and home phone.
    if room > 1 and rng.random() < 0.2:
        h = ctx.writer.add("households", name=f"{c['last']} household")
        c["row"]["household_id"] = h
        p = people.customer(ctx, region, last=c["last"], household_id=h, not_first=c["first"])
        ctx.writer.add("customer_addresses", **{**home, "customer_id": p["id"]})
        people.add_phone(ctx, p["id"], *people.phone(ctx, region), "mobile", True)
        if home_phone:
            people.add_phone(ctx, p["id"], *home_phone, "home", False)
        people.email(ctx, p)
        ctx.writer.add(
            "customer_relations",
            customer_id=c["id"],
            related_customer_id=p["id"],
            related_name=None,
            relation="partner",
            version=1,
        )
        ctx.writer.add(
            "customer_relations",
            customer_id=p["id"],
            related_customer_id=c["id"],
            related_name=None,
            relation="partner",
            version=1,
        )
        commerce.orders_for(ctx, p)
        service.interactions_for(ctx, p, 1)
        return 2
    return 1
