"""bench.lookup: find a customer by E.164 phone, e-mail and order number.

Through the service (SQLAlchemy ORM, the path the app uses) against the same
lookup written by hand on the raw driver, in the same run. Seeds the database
with --size customers first if it holds none.

    python -m bench.lookup --db sqlite:////tmp/bench.db --size 100000 --json
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, func, select

from app.services.customers import CustomerService
from bench.common import backend_name, emit, parser, summary, time_calls, with_baseline
from models.commerce import Order
from models.database import Database, make_engine
from models.migrate import upgrade
from models.people import Customer, CustomerEmail, CustomerPhone

SAMPLES = 300

# The same answer the service gives (customer, name, a city, last order date),
# written as one hand-made query per key kind.
RAW_SQL = {
    "phone": "customer_phones p JOIN customers c ON c.id = p.customer_id WHERE p.e164 = {}",
    "email": (
        "customer_emails e JOIN customers c ON c.id = e.customer_id WHERE e.address_normalized = {}"
    ),
    "order": "orders o JOIN customers c ON c.id = o.customer_id WHERE o.number = {}",
}
RAW_SELECT = (
    "SELECT c.id, c.first_name, c.last_name, "
    "(SELECT min(a.city) FROM customer_addresses a WHERE a.customer_id = c.id), "
    "(SELECT max(o2.placed_at) FROM orders o2 WHERE o2.customer_id = c.id) FROM "
)


def ensure_seeded(engine: Engine, size: int) -> int:
    upgrade(engine)
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(Customer)) or 0
    if count == 0:
        from models.seed import seed_database

        seed_database(engine, size)
        with engine.connect() as conn:
            count = conn.scalar(select(func.count()).select_from(Customer)) or 0
    return int(count)


def sample_keys(engine: Engine, rng: random.Random) -> dict[str, list[str]]:
    """Random existing keys of each kind (ids drawn at random, then looked up)."""
    columns: dict[str, Any] = {
        "phone": (CustomerPhone.id, CustomerPhone.e164),
        "email": (CustomerEmail.id, CustomerEmail.address_normalized),
        "order": (Order.id, Order.number),
    }
    keys: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for kind, (id_column, key_column) in columns.items():
            top = conn.scalar(select(func.max(id_column))) or 1
            ids = [rng.randint(1, top) for _ in range(SAMPLES * 2)]
            rows = conn.execute(
                select(key_column).where(id_column.in_(ids), key_column.is_not(None))
            )
            keys[kind] = [row[0] for row in rows][:SAMPLES]
    return keys


def raw_lookup(engine: Engine) -> Callable[[str, str], list[Any]]:
    """The same lookups on the raw driver, in the transaction mode of the service's
    `Database.lookup()`: autocommit on PostgreSQL (no BEGIN/ROLLBACK round trips),
    BEGIN ... ROLLBACK on SQLite (what the session sends there)."""
    connection: Any = engine.raw_connection()
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        connection.driver_connection.autocommit = True
    placeholder = "%s" if postgres else "?"
    statements = {k: RAW_SELECT + v.format(placeholder) for k, v in RAW_SQL.items()}

    def lookup(kind: str, key: str) -> list[Any]:
        cursor = connection.cursor()
        if not postgres:
            cursor.execute("BEGIN")
        cursor.execute(statements[kind], (key,))
        rows = cursor.fetchall()
        cursor.close()
        if not postgres:
            connection.rollback()
        return list(rows)

    return lookup


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    engine = make_engine(args.db)
    size = ensure_seeded(engine, args.size)
    rng = random.Random(7)
    keys = sample_keys(engine, rng)
    service = CustomerService(Database(engine), "US")
    methods = {
        "phone": service.find_by_phone,
        "email": service.find_by_email,
        "order": service.find_by_order_number,
    }
    raw = raw_lookup(engine)
    for kind, found in methods.items():
        sample = keys[kind]
        assert sample, f"no {kind} keys in the database"
        for key in sample[:20]:  # both paths must find the same customers
            service_ids = sorted({h.customer_id for h in found(key)})
            raw_ids = sorted({row[0] for row in raw(kind, key)})
            assert service_ids == raw_ids, (kind, key, service_ids, raw_ids)
        cycle = iter(sample * 10)
        service_ms = time_calls(lambda find=found, it=cycle: find(next(it)), len(sample))
        cycle_raw = iter(sample * 10)
        raw_ms = time_calls(lambda k=kind, it=cycle_raw: raw(k, next(it)), len(sample))
        record: dict[str, Any] = {
            "bench": "lookup",
            "op": f"by_{kind}",
            "backend": backend_name(engine),
            "size": size,
            **summary(service_ms),
        }
        emit(with_baseline(record, raw_ms), args.json)
    engine.dispose()


if __name__ == "__main__":
    main()
