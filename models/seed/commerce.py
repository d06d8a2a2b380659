"""What customers buy and hold: orders with their lines and shipments, and contracts.

The rows of models/commerce.py. Baskets follow the catalogue's companions (a
machine with its beans), and some customers re-buy a consumable on a rhythm of
their own, which is what the refill suggestions look for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from models.seed.context import UTC, Line, SeedContext, at, shift_years
from models.seed.data import REGIONS


def order(
    ctx: SeedContext,
    c: dict[str, Any],
    placed: dt.datetime,
    lines: Sequence[Line],
    channel: str | None = None,
    number: str | None = None,
    status: str | None = None,
) -> tuple[int, list[int]]:
    rng = ctx.rng
    channel = channel or rng.choices(("web", "store", "phone"), (55, 35, 10))[0]
    store_id = None
    if channel == "store":
        local = [s for s in ctx.stores if s["country"] == c["region"]] or ctx.stores
        store_id = rng.choice(local)["id"]
    age = (ctx.now - placed).days
    if status is None:
        status = "delivered" if age > 10 else rng.choice(("paid", "shipped", "delivered"))
        if rng.random() < 0.03:
            status = rng.choice(("returned", "cancelled"))
    if number is None:
        ctx.order_seq += 1
        number = f"R{30000000 + ctx.order_seq}"
    subtotal = sum(p["price_cents"] * q for p, q, _d, _t in lines)
    discount = sum(d for _p, _q, d, _t in lines)
    oid = ctx.writer.add(
        "orders",
        number=number,
        customer_id=c["id"],
        channel=channel,
        store_id=store_id,
        placed_at=placed,
        status=status,
        currency=REGIONS[c["region"]][2],
        subtotal_cents=subtotal,
        discount_cents=discount,
        total_cents=subtotal - discount,
        version=1,
    )
    line_ids = []
    for n, (product, qty, disc, text) in enumerate(lines, start=1):
        line_ids.append(
            ctx.writer.add(
                "order_lines",
                order_id=oid,
                line_no=n,
                product_id=product["id"],
                quantity=qty,
                unit_price_cents=product["price_cents"],
                discount_cents=disc,
                personalisation=text,
            )
        )
    if channel != "store" and status != "cancelled":
        promised = (placed + dt.timedelta(days=rng.randint(2, 5))).date()
        late = rng.random() < 0.12
        delivered = None
        ship_status = "in_transit"
        if status in ("delivered", "returned"):
            delivered = ctx.past(
                at(
                    promised + dt.timedelta(days=rng.randint(1, 4) if late else -rng.randint(0, 1)),
                    rng,
                ),
                placed,
            )
            ship_status = "delivered"
        elif rng.random() < 0.02:
            ship_status = "failed"
        ctx.writer.add(
            "shipments",
            order_id=oid,
            carrier=rng.choice(("UPS", "DHL", "FedEx", "Royal Mail", "DPD")),
            tracking_number=f"1Z{rng.randint(10**9, 10**10 - 1)}",
            promised_date=promised,
            shipped_at=ctx.past(placed + dt.timedelta(days=1), placed),
            delivered_at=delivered,
            status=ship_status,
        )
    return oid, line_ids


def basket(ctx: SeedContext) -> list[Line]:
    rng = ctx.rng
    category = rng.choice(list(ctx.catalog.by_category))
    first = rng.choice(ctx.catalog.by_category[category])
    lines: list[Line] = [(first, 1, 0, None)]
    for companion in first["companions"]:
        if rng.random() < 0.55:
            lines.append((rng.choice(ctx.catalog.by_type[companion]), 1, 0, None))
    if rng.random() < 0.1:
        product, qty, _d, text = lines[0]
        lines[0] = (product, qty, product["price_cents"] // 10, text)
    return lines[:4]


def orders_for(ctx: SeedContext, c: dict[str, Any]) -> None:
    rng = ctx.rng
    start = dt.datetime(c["since"].year, c["since"].month, c["since"].day, tzinfo=UTC)
    span = max((ctx.now - start).days, 1)
    count = min(int(rng.expovariate(1 / 4)) + 1, 40)
    for _ in range(count):
        placed = start + dt.timedelta(days=rng.randint(0, span), seconds=rng.randint(28800, 72000))
        order(ctx, c, ctx.past(placed, start), basket(ctx))
    # A consumable re-bought on the customer's own rhythm.
    if rng.random() < 0.35:
        candidates = [p for p in ctx.catalog.products if p["replenish_days"]]
        product = rng.choice(candidates)
        rhythm = product["replenish_days"] * rng.uniform(0.8, 1.3)
        when = ctx.now - dt.timedelta(days=rng.randint(20, 600))
        first_when = max(start, when - dt.timedelta(days=rhythm * rng.randint(2, 6)))
        moment = first_when
        while moment < ctx.now - dt.timedelta(days=3):
            order(ctx, c, moment, [(product, 1, 0, None)])
            moment += dt.timedelta(days=rhythm * rng.uniform(0.85, 1.15))


def contracts_for(
    ctx: SeedContext,
    c: dict[str, Any],
    services: Iterable[str],
    bundle_name: str | None,
    since: dt.date,
) -> dict[str, int]:
    bundle_id = None
    if bundle_name:
        bundle_id = ctx.writer.add(
            "bundles", customer_id=c["id"], name=bundle_name, discount_percent=10
        )
    ids = {}
    plans = {
        "landline": ("Home Phone Unlimited", 2500),
        "internet": ("Fibre 500", 4500),
        "tv": ("TV Essentials", 3000),
        "mobile": ("Mobile 20 GB", 3500),
    }
    for service in services:
        ctx.contract_seq += 1
        plan, fee = plans[service]
        ids[service] = ctx.writer.add(
            "contracts",
            number=f"K{7000000 + ctx.contract_seq}",
            customer_id=c["id"],
            bundle_id=bundle_id,
            service=service,
            plan=plan,
            start_date=since,
            end_date=shift_years(since, 2) if service == "mobile" else None,
            monthly_fee_cents=fee,
            early_termination_fee_cents=fee * 6,
            upgrade_fee_cents=25000 if service == "mobile" else 0,
            status="active",
            version=1,
        )
    return ids
