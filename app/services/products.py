"""Products as an agent looks them up on a call: price, stock per store, the next delivery
where none is left, and when a coming product launches ("from 16 Dec, in two weeks"),
so nobody tells a customer "quite some time" (S7).

Dates are the agent's calendar days at the injected clock's instant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.clock import Clock, local_today, system_clock
from app.services.authority import ProductAvailability
from models.catalog import Product, Store, StoreStock
from models.database import Database

_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six",
    "seven", "eight", "nine", "ten", "eleven", "twelve",
)  # fmt: skip
LOOKUP_MAX_CHARS = 80


def _number(n: int) -> str:
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


def _date(day: dt.date, today: dt.date) -> str:
    return f"{day.day} {day:%b}" if day.year == today.year else f"{day.day} {day:%b %Y}"


def _distance(days: int) -> str:
    """'in 3 days', 'in a week', 'in two weeks', 'in about a month' (days >= 2)."""
    if days < 7:
        return f"in {days} days"
    if days == 7:
        return "in a week"
    if days < 14:
        return f"in {days} days"
    if days <= 8 * 7:
        weeks, rest = divmod(days, 7)
        if rest == 0:
            return f"in {_number(weeks)} weeks"
        return f"in about {_number(round(days / 7))} weeks"
    if days >= 365:
        return "in over a year" if days > 380 else "in about a year"
    months = round(days / 30.44)
    return "in about a month" if months <= 1 else f"in about {_number(months)} months"


def launch_note(launch: dt.date | None, today: dt.date) -> str | None:
    """When a product not yet on sale launches, in words; None when it is on sale."""
    if launch is None or launch < today:
        return None
    days = (launch - today).days
    when = _date(launch, today)
    if days == 0:
        return f"from today, {when}"
    if days == 1:
        return f"from tomorrow, {when}"
    return f"from {when}, {_distance(days)}"


class ProductService:
    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self._db = db
        self.clock = clock

    def lookup(self, text: str, limit: int = 20) -> list[ProductAvailability]:
        """Products whose name contains `text` or whose SKU starts with it (any case)."""
        needle = " ".join(text.split())[:LOOKUP_MAX_CHARS].lower()
        if not needle:
            return []
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        today = local_today(self.clock)
        query = (
            select(Product)
            .where(
                or_(Product.active.is_(True), Product.launch_date >= today),
                or_(
                    func.lower(Product.name).like(f"%{escaped}%", escape="\\"),
                    func.lower(Product.sku).like(f"{escaped}%", escape="\\"),
                ),
            )
            .order_by(func.lower(Product.sku) != needle, Product.name, Product.id)
            .limit(max(1, min(limit, 200)))
        )
        with self._db.read() as session:
            products = session.scalars(query).all()
            return self._availability(session, products, today)

    def launches(self, within_days: int = 60) -> list[ProductAvailability]:
        """Products launching from today to `within_days` ahead, soonest first."""
        today = local_today(self.clock)
        query = (
            select(Product)
            .where(
                Product.launch_date >= today,
                Product.launch_date <= today + dt.timedelta(days=within_days),
            )
            .order_by(Product.launch_date, Product.name)
        )
        with self._db.read() as session:
            products = session.scalars(query).all()
            return self._availability(session, products, today)

    def _availability(
        self, session: Session, rows: Sequence[Product], today: dt.date
    ) -> list[ProductAvailability]:
        ids = [p.id for p in rows]
        stock: dict[int, list[tuple[str, int, dt.date | None]]] = {i: [] for i in ids}
        if ids:
            for product_id, store, quantity, expected in session.execute(
                select(
                    StoreStock.product_id, Store.name, StoreStock.quantity, StoreStock.expected_at
                )
                .join(Store, Store.id == StoreStock.store_id)
                .where(StoreStock.product_id.in_(ids))
                .order_by(StoreStock.quantity.desc(), Store.name)
            ):
                stock[product_id].append((store, int(quantity), expected))
        return [
            ProductAvailability(
                product_id=p.id,
                sku=p.sku,
                name=p.name,
                category=p.category,
                price_cents=p.price_cents,
                launch_date=p.launch_date,
                launch_note=launch_note(p.launch_date, today),
                in_stock=sum(q for _s, q, _e in stock[p.id]),
                stores=tuple(stock[p.id]),
            )
            for p in rows
        ]
