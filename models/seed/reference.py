"""The rows every database holds before any customer: departments, staff, limits, policies,
stores, the catalogue and store stock.

Written first, so customers can point at them (`ctx.departments`, `ctx.users`,
`ctx.stores`, `ctx.catalog`). The story products keep fixed SKUs that the stories
and their tests refer to.
"""

from __future__ import annotations

import datetime as dt

from models.seed import story_customers as story
from models.seed.context import SeedContext
from models.seed.data import BRANDS, CATALOG, DEPARTMENTS, STORES

LOGIN_PREFIX = {"supervisor": "super", "senior_agent": "senior"}
# role -> type -> (max per concession, max discount %, daily budget per person), cents
AUTHORITY: dict[str, dict[str, tuple[int, float | None, int | None]]] = {
    "agent": {
        "discount": (2000, 10, 10000),
        "credit": (2500, None, 10000),
        "sample": (1500, None, 5000),
        "goodwill_gift": (3000, None, 10000),
        "fee_waiver": (0, None, None),
        "policy_exception": (0, None, None),
    },
    "senior_agent": {
        "discount": (5000, 15, 25000),
        "credit": (5000, None, 25000),
        "sample": (3000, None, 10000),
        "goodwill_gift": (6000, None, 25000),
        "fee_waiver": (10000, None, 30000),
        "policy_exception": (0, None, None),
    },
    "supervisor": {
        "discount": (10000, 25, 100000),
        "credit": (15000, None, 100000),
        "sample": (5000, None, 20000),
        "goodwill_gift": (15000, None, 100000),
        "fee_waiver": (40000, None, 200000),
        "policy_exception": (40000, None, 200000),
    },
    "manager": {
        "discount": (50000, 50, None),
        "credit": (100000, None, None),
        "sample": (20000, None, None),
        "goodwill_gift": (50000, None, None),
        "fee_waiver": (200000, None, None),
        "policy_exception": (200000, None, None),
    },
}


def write_reference_data(ctx: SeedContext) -> None:
    for code, name in DEPARTMENTS:
        ctx.departments[code] = ctx.writer.add("departments", code=code, name=name)
    staff = [
        ("agent", 40, "call_centre"),
        ("senior_agent", 4, "call_centre"),
        ("supervisor", 6, "call_centre"),
        ("manager", 2, "call_centre"),
        ("admin", 1, "it"),
    ]
    for role, count, dept in staff:
        for n in range(1, count + 1):
            login = "admin" if role == "admin" else f"{LOGIN_PREFIX.get(role, role)}{n:02d}"
            pool = ctx.pools["US"]
            first = ctx.rng.choice(pool["first_female"] + pool["first_male"])
            display = f"{first} {ctx.rng.choice(pool['last'])}"
            uid = ctx.writer.add(
                "users",
                login=login,
                display_name=display,
                role=role,
                department_id=ctx.departments[dept],
                team=f"Team {1 + n % 4}",
                email=f"{login}@rapport.example",
                active=True,
                created_at=ctx.now,
            )
            ctx.users[role].append(uid)
    for dept in ("warehouse", "delivery", "it", "billing", "field_service", "stores"):
        for n in range(1, 3):
            uid = ctx.writer.add(
                "users",
                login=f"{dept[:4]}{n:02d}",
                display_name=f"{dept.replace('_', ' ').title()} {n}",
                role="agent",
                department_id=ctx.departments[dept],
                team=dept,
                email=None,
                active=True,
                created_at=ctx.now,
            )
            ctx.users[dept].append(uid)
    # The authority matrix (docs/it-deployment.md, "What the database enforces"):
    # per role and type, the most one concession may be worth, a discount's percentage,
    # what one person may give per day, and what one customer may get over 30 days.
    for role, caps in AUTHORITY.items():
        for kind, (cap, percent, budget) in caps.items():
            ctx.writer.add(
                "authority_limits",
                role=role,
                user_id=None,
                concession_type=kind,
                allowed=cap > 0,
                max_amount_cents=cap,
                max_percent=percent,
                daily_budget_cents=budget,
                period_days=30,
                max_total_per_period_cents=cap * 10 if cap else None,
                valid_from=None,
                valid_until=None,
            )
    # One agent trusted with more goodwill than their role (a per-user adjustment).
    ctx.writer.add(
        "authority_limits",
        role=None,
        user_id=ctx.users["agent"][1],
        concession_type="goodwill_gift",
        allowed=True,
        max_amount_cents=5000,
        max_percent=None,
        daily_budget_cents=20000,
        period_days=30,
        max_total_per_period_cents=50000,
        valid_from=None,
        valid_until=None,
    )
    policies = [
        (
            "EARLY_UPGRADE_FEE",
            "Early upgrade fee",
            "Upgrading a device within 12 months of a contract renewal costs the upgrade fee.",
            {"months_since_renewal_lt": 12, "fee": "contract.upgrade_fee_cents"},
            "supervisor",
            35000,
            {
                "min_tenure_years": 10,
                "min_bundle_services": 3,
                "top_value_percent": 10,
                "max_open_complaints": 0,
            },
        ),
        (
            "RETURN_WINDOW_30D",
            "30-day return window",
            "Items can be returned within 30 days of delivery.",
            {"days": 30},
            "supervisor",
            None,
            {"min_tenure_years": 3, "max_open_complaints": 1},
        ),
        (
            "GOODWILL_CAP",
            "Goodwill cap",
            "Goodwill gestures above the agent's limit need a supervisor.",
            {"per_case_cents": 3000},
            "supervisor",
            None,
            None,
        ),
    ]
    for code, name, description, rule, role, fee, eligibility in policies:
        ctx.writer.add(
            "policies",
            code=code,
            name=name,
            description=description,
            rule=rule,
            override_role=role,
            active=True,
            fee_cents=fee,
            currency="USD",
            eligibility=eligibility,
        )
    for code, name, city, country, lat, lon in STORES:
        sid = ctx.writer.add(
            "stores",
            code=code,
            name=f"Rapport {name}",
            address=f"{name}, {city}",
            city=city,
            country=country,
            latitude=lat,
            longitude=lon,
            phone=None,
        )
        ctx.stores.append({"id": sid, "country": country, "lat": lat, "lon": lon})
    products(ctx)
    s1_catalogue(ctx)
    for store in ctx.stores:
        for product in ctx.catalog.products:
            if ctx.rng.random() < 0.85:
                qty = ctx.rng.choice((0, 0, 1, 2, 3, 5, 8, 12, 20))
                ctx.writer.add(
                    "store_stock",
                    store_id=store["id"],
                    product_id=product["id"],
                    quantity=qty,
                    expected_at=ctx.today + dt.timedelta(days=ctx.rng.randint(3, 21))
                    if qty == 0
                    else None,
                    updated_at=ctx.now,
                )
    # The coming phone (S7): in no store until its launch, when every store receives it.
    launch = ctx.catalog.by_type[story.S7_LAUNCH_SKU][0]
    for store in ctx.stores:
        ctx.writer.add(
            "store_stock",
            store_id=store["id"],
            product_id=launch["id"],
            quantity=0,
            expected_at=launch["launch_date"],
            updated_at=ctx.now,
        )


# The story products' names, which the catalogue's brand-and-type names must not repeat.
STORY_PRODUCT_NAMES = frozenset({"Aubade Eau de Parfum 50 ml"})


def products(ctx: SeedContext) -> None:
    sku_seq = 0
    for category, types in CATALOG.items():
        for type_name, (low, high), replenish, companions in types:
            for brand in ctx.rng.sample(BRANDS, 5):
                sku_seq += 1
                price = ctx.rng.randrange(low, high, 100) - 1 if high > low else low
                launch = ctx.today - dt.timedelta(days=ctx.rng.randint(200, 4000))
                name = f"{brand} {type_name}"
                if name in STORY_PRODUCT_NAMES:  # two products of one name read as one
                    name += " Classic"
                product = {
                    "sku": f"{category[:3].upper()}-{sku_seq:05d}",
                    "name": name,
                    "category": category,
                    "price_cents": price,
                    "replenish_days": replenish,
                    "launch_date": launch,
                    "active": True,
                    "description": f"{type_name} by {brand}",
                    "product_line": type_name,  # a down-sell is a cheaper one of the line
                }
                product["id"] = ctx.writer.add("products", **product)
                product["companions"] = companions
                product["type"] = type_name
                ctx.catalog.products.append(product)
                ctx.catalog.by_type[type_name].append(product)
                ctx.catalog.by_category[category].append(product)
    # Story products with fixed SKUs, and a launch two weeks out (S7). After them, S1's
    # catalogue relations: the "his" counterpart of her perfume, and two newer lines that
    # complement it (one on sale, one coming).
    for sku, name, category, price, replenish, launch_in, line in (
        (
            story.S1_REFILL_SKU,
            "Aubade Eau de Parfum 50 ml",
            "Fragrance",
            11800,
            90,
            -1500,
            "Eau de Parfum 50 ml",
        ),
        (
            "WAT-ENGR-01",
            "Orrery Automatic Watch (engraved)",
            "Watches",
            64900,
            None,
            -900,
            "Automatic Watch",
        ),
        (
            "CLK-CHIME-01",
            "Kestrel Chiming Mantel Clock",
            "Clocks",
            34900,
            None,
            -700,
            "Chiming Mantel Clock",
        ),
        (
            story.S7_LAUNCH_SKU,
            story.S7_LAUNCH_PRODUCT,
            "Mobile",
            109900,
            None,
            story.S7_LAUNCH_IN_DAYS,
            "Smartphone",
        ),
        (
            story.S1_COUNTERPART_SKU,
            story.S1_COUNTERPART_PRODUCT,
            "Fragrance",
            9800,
            90,
            -1200,
            "Eau de Toilette 50 ml",
        ),
        (
            story.S1_NEW_LINE_SKU,
            story.S1_NEW_LINE_PRODUCT,
            "Fragrance",
            5400,
            60,
            -story.S1_NEW_LINE_DAYS_AGO,
            "Body Oil",
        ),
        (
            story.S1_COMING_SKU,
            story.S1_COMING_PRODUCT,
            "Fragrance",
            6900,
            60,
            story.S1_COMING_IN_DAYS,
            "Hair Mist",
        ),
    ):
        product = {
            "sku": sku,
            "name": name,
            "category": category,
            "price_cents": price,
            "replenish_days": replenish,
            "launch_date": ctx.today + dt.timedelta(days=launch_in),
            "active": True,  # on sale from its launch_date (a coming one is announced)
            "description": name,
            "product_line": line,
        }
        product["id"] = ctx.writer.add("products", **product)
        product["companions"] = ()
        product["type"] = name
        ctx.catalog.by_type[sku].append(product)


def s1_catalogue(ctx: SeedContext) -> None:
    """S1's story products in every store (the coming one expected at its launch), their
    relations, and the offers kept ready (retention and welcome, S2). No random draws:
    the population after them stays the same."""
    perfume = ctx.catalog.by_type[story.S1_REFILL_SKU][0]
    counterpart = ctx.catalog.by_type[story.S1_COUNTERPART_SKU][0]
    new_line = ctx.catalog.by_type[story.S1_NEW_LINE_SKU][0]
    coming = ctx.catalog.by_type[story.S1_COMING_SKU][0]
    for n, store in enumerate(ctx.stores):
        for product, qty in ((perfume, 6), (counterpart, 4), (new_line, 5), (coming, 0)):
            ctx.writer.add(
                "store_stock",
                store_id=store["id"],
                product_id=product["id"],
                quantity=qty + n % 3 if qty else 0,
                expected_at=None if qty else product["launch_date"],
                updated_at=ctx.now,
            )
    for related, kind, note in (
        (counterpart, "counterpart", "his and hers"),
        (new_line, "complements", None),
        (coming, "complements", None),
    ):
        ctx.writer.add(
            "product_relations",
            product_id=perfume["id"],
            related_product_id=related["id"],
            kind=kind,
            note=note,
            created_at=ctx.now,
        )
    for code, name, kind, concession, amount, percent, description in OFFERS:
        ctx.writer.add(
            "offers",
            code=code,
            name=name,
            kind=kind,
            concession_type=concession,
            amount_cents=amount,
            percent=percent,
            currency="USD",
            description=description,
            active=True,
        )


# The offers kept ready (issue 13): within an agent's own authority (AUTHORITY above:
# a credit up to $25, a discount up to $20 and 10%), so the agent can grant either at once.
OFFERS = (
    (
        story.RETENTION_OFFER_CODE,
        "$25 credit on the next bill",
        "retention",
        "credit",
        2500,
        None,
        "For a valued customer at high churn risk: a credit while we put things right.",
    ),
    (
        story.WELCOME_OFFER_CODE,
        "Welcome: 10% off the first order (up to $15)",
        "welcome",
        "discount",
        1500,
        10,
        "For a newcomer who had a bad experience elsewhere.",
    ),
)
