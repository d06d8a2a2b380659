"""Customers, products and orders for the segment and marketing-list tests, written
with known values so the scores, lists and counts are exact."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import Engine

from models.catalog import Product, Store
from models.commerce import Order, OrderLine
from models.database import Database
from models.enums import Channel, CustomerStatus, KeyDateKind, OrderStatus, PhoneKind, Tier
from models.people import (
    ContactPreference,
    Customer,
    CustomerAddress,
    CustomerEmail,
    CustomerPhone,
    KeyDate,
)

NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
_numbers = itertools.count(1)


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def add_customer(
    engine: Engine,
    name: str,
    *,
    email: str | None = None,
    mobile: str | None = None,
    address: str | None = None,
    tier: Tier = Tier.STANDARD,
    status: CustomerStatus = CustomerStatus.ACTIVE,
    **flags: bool,
) -> int:
    first, _, last = name.partition(" ")
    with Database(engine).write() as session:
        customer = Customer(
            first_name=first,
            last_name=last,
            search_name=name.lower(),
            customer_since=dt.date(2020, 1, 1),
            tier=tier,
            status=status,
            **flags,
        )
        session.add(customer)
        session.flush()
        if email:
            session.add(
                CustomerEmail(
                    customer_id=customer.id,
                    address=email,
                    address_normalized=email.lower(),
                    is_primary=True,
                )
            )
        if mobile:
            session.add(
                CustomerPhone(
                    customer_id=customer.id,
                    raw=mobile,
                    e164=mobile,
                    digits_tail=mobile[-7:],
                    kind=PhoneKind.MOBILE,
                    is_primary=True,
                )
            )
        if address:
            session.add(
                CustomerAddress(
                    customer_id=customer.id, line1=address, city="Springfield", country="US"
                )
            )
        return customer.id


def add_product(engine: Engine, sku: str, line: str | None, price: int = 1000) -> int:
    with Database(engine).write() as session:
        product = Product(
            sku=sku, name=f"Product {sku}", category="care", price_cents=price, product_line=line
        )
        session.add(product)
        session.flush()
        return product.id


def add_store(engine: Engine, code: str) -> int:
    with Database(engine).write() as session:
        store = Store(
            code=code,
            name=f"Store {code}",
            address="1 Main St",
            city="Springfield",
            country="US",
            latitude=0.0,
            longitude=0.0,
        )
        session.add(store)
        session.flush()
        return store.id


def add_order(
    engine: Engine,
    customer_id: int,
    placed_at: dt.datetime,
    total_cents: int,
    products: tuple[int, ...] = (),
    *,
    status: OrderStatus = OrderStatus.DELIVERED,
    store_id: int | None = None,
) -> int:
    with Database(engine).write() as session:
        order = Order(
            number=f"T-{next(_numbers):06d}",
            customer_id=customer_id,
            channel=Channel.STORE if store_id else Channel.WEB,
            store_id=store_id,
            placed_at=placed_at,
            status=status,
            subtotal_cents=total_cents,
            total_cents=total_cents,
        )
        session.add(order)
        session.flush()
        for line_no, product_id in enumerate(products, start=1):
            session.add(
                OrderLine(
                    order_id=order.id,
                    line_no=line_no,
                    product_id=product_id,
                    quantity=1,
                    unit_price_cents=total_cents // max(1, len(products)),
                )
            )
        return order.id


def avoid(engine: Engine, customer_id: int, channel: Channel, phone_id: int | None = None) -> None:
    with Database(engine).write() as session:
        session.add(
            ContactPreference(
                customer_id=customer_id, channel=channel, phone_id=phone_id, avoid=True
            )
        )


def add_key_date(
    engine: Engine,
    customer_id: int,
    kind: KeyDateKind,
    date: dt.date,
    relation_id: int | None = None,
) -> None:
    with Database(engine).write() as session:
        session.add(
            KeyDate(
                customer_id=customer_id,
                relation_id=relation_id,
                kind=kind,
                date=date,
                month_day=f"{date:%m-%d}",
            )
        )
