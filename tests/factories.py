"""Small records the tests build again and again, made in one place."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from models.database import Database
from models.people import Customer


def add_ada(engine: Engine) -> int:
    """A customer with a name and nothing else (no phones, orders or cases); her id."""
    with Database(engine).write() as session:
        customer = Customer(
            first_name="Ada",
            last_name="Lovelace",
            search_name="ada lovelace",
            customer_since=dt.date(2001, 5, 1),
        )
        session.add(customer)
        session.flush()
        return customer.id
