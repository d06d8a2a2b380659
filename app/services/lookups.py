"""Who is this? Customers found by phone, e-mail, order number or case reference.

Each lookup is one indexed query (`customer_phones.e164`, `digits_tail`,
`customer_emails.address_normalized`, `orders.number`, `cases.reference`) that
returns the same short summary per customer (`summaries`): name, tier, a city and
the last order date, what tells namesakes apart. The search box (search.py) and the
screen pop (calls.py) ask these; the customer's record is customers.py.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from app import phones
from app.errors import UserError
from app.services import views as v
from models.commerce import Order
from models.database import Database
from models.enums import CustomerStatus
from models.people import Customer, CustomerAddress, CustomerEmail, CustomerPhone
from models.service import Case


class CustomerLookups:
    """Exact lookups; each call is one read-only statement (`Database.lookup`)."""

    def __init__(self, db: Database, default_region: str) -> None:
        self._db = db
        self.default_region = default_region

    def find_by_phone(self, raw: str) -> list[v.SearchHit]:
        """Customers with this number: exact E.164 first, else the last digits."""
        query = phones.normalize(raw, self.default_region)
        if query.e164 is None and query.tail is None:
            raise UserError(f"{raw.strip()!r} is not a phone number")
        with self._db.lookup() as session:
            hits: list[v.SearchHit] = []
            if query.e164:
                hits = _run(session, LOOKUPS["e164"], query.e164, "phone")
            if not hits and query.tail:
                # The last digits find a number said in a form that does not parse
                # ("0415 555 0134"). A valid number that is not on file must not
                # match a stranger's number with the same ending, so then only
                # legacy numbers that never parsed are considered.
                lookup = "tail_unparsed" if query.e164 else "tail"
                hits = _run(session, LOOKUPS[lookup], query.tail, "phone")
            return [
                dataclasses.replace(
                    h, matched_text=phones.display(h.matched_text, self.default_region)
                )
                for h in hits
            ]

    def find_by_email(self, address: str) -> list[v.SearchHit]:
        with self._db.lookup() as session:
            return _run(session, LOOKUPS["email"], address.strip().lower(), "email")

    def find_by_order_number(self, number: str) -> list[v.SearchHit]:
        with self._db.lookup() as session:
            return _run(session, LOOKUPS["order"], number.strip().upper(), "order")

    def find_by_case_reference(self, reference: str) -> list[v.SearchHit]:
        with self._db.lookup() as session:
            return _run(session, LOOKUPS["case"], reference.strip().upper(), "case")

    def first_customer_id(self) -> int | None:
        with self._db.lookup() as session:
            return session.scalar(
                select(func.min(Customer.id)).where(Customer.status == CustomerStatus.ACTIVE)
            )


# -- the lookup queries (each takes an open session) ----------------------------------


def _summary_columns() -> Select[Any]:
    """Name, tier, a city and the last order date: what tells namesakes apart.

    Correlated subqueries, so each matched customer costs two index probes
    (ix_orders_customer_placed, the addresses' customer index) in one round trip.
    """
    city = (
        select(func.min(CustomerAddress.city))
        .where(CustomerAddress.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )
    last_order = (
        select(func.max(Order.placed_at))
        .where(Order.customer_id == Customer.id)
        .correlate(Customer)
        .scalar_subquery()
    )
    return select(
        Customer.id, Customer.first_name, Customer.last_name, Customer.tier, city, last_order
    ).where(Customer.status != CustomerStatus.MERGED)


def _hits_from(
    rows: Any,
    matched_on: str,
    scores: dict[int, float] | None = None,
    matched: dict[int, str] | None = None,
) -> list[v.SearchHit]:
    hits: dict[int, v.SearchHit] = {}
    for row in rows:
        cid, first, last, tier, city, last_at = row[:6]
        text = row[6] if len(row) > 6 else (matched or {}).get(cid, "")
        hits.setdefault(
            cid,
            v.SearchHit(
                customer_id=cid,
                name=f"{first} {last}".strip(),
                city=city,
                last_order_at=aware(last_at),
                matched_on=matched_on,
                matched_text=text,
                score=(scores or {}).get(cid, 1.0),
                tier=tier.value if hasattr(tier, "value") else str(tier),
            ),
        )
    result = list(hits.values())
    result.sort(key=lambda h: (-h.score, h.name, h.customer_id))
    return result


def _lookup(key: Any, condition: Any, table: Any = None) -> Select[Any]:
    """Customers whose row in `key`'s table (or `table`) meets `condition` (bound as :value)."""
    table = table if table is not None else key.class_
    return (
        _summary_columns()
        .add_columns(key)
        .join(table, table.customer_id == Customer.id)
        .where(condition)
    )


# A matched phone is shown from its E.164 value (phones.display); legacy numbers that
# never parsed only as typed.
_PHONE_SHOWN = func.coalesce(CustomerPhone.e164, CustomerPhone.raw)


def _run(
    session: Session, statement: Select[Any], value: str, matched_on: str
) -> list[v.SearchHit]:
    return _hits_from(session.execute(statement, {"value": value}).all(), matched_on)


def summaries(
    session: Session, matched: dict[int, str], matched_on: str, scores: dict[int, float]
) -> list[v.SearchHit]:
    """Name, city and last order date for each matched customer, best score first."""
    rows = session.execute(_summary_columns().where(Customer.id.in_(list(matched)))).all()
    return _hits_from(rows, matched_on, scores, matched)


LOOKUPS: dict[str, Select[Any]] = {
    "e164": _lookup(_PHONE_SHOWN, CustomerPhone.e164 == bindparam("value"), CustomerPhone),
    "tail": _lookup(_PHONE_SHOWN, CustomerPhone.digits_tail == bindparam("value"), CustomerPhone),
    "tail_unparsed": _lookup(
        _PHONE_SHOWN,
        (CustomerPhone.digits_tail == bindparam("value")) & CustomerPhone.e164.is_(None),
        CustomerPhone,
    ),
    "email": _lookup(CustomerEmail.address, CustomerEmail.address_normalized == bindparam("value")),
    "order": _lookup(Order.number, Order.number == bindparam("value")),
    "case": _lookup(Case.reference, Case.reference == bindparam("value")),
}


def aware(value: dt.datetime | str | None) -> dt.datetime | None:
    """An aggregate's timestamp as aware UTC.

    Aggregates (max, min) bypass the column type, so SQLite hands back a string.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
