"""bench.customer_view: from "open customer" to the customer view painted (offscreen).

Measures the whole view: the service call on the worker thread, building every
section (not only the Overview the window paints first) and painting each of
them (QWidget.grab forces a full paint), for CUSTOMERS customers with 500 orders
and as many with 10,000, in turn. The raw-driver baseline runs the same main
queries (orders page, header aggregates, last bought, timeline) by hand in the
same run and the same transaction mode (one transaction, as `Database.read()`).

    QT_QPA_PLATFORM=offscreen python -m bench.customer_view --db URL --size 100000 --json
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from typing import Any

from sqlalchemy import Engine, insert, select

from bench.common import (
    backend_name,
    emit,
    percentile,
    run_gui_bench,
    summary,
    with_baseline,
)
from bench.lookup import ensure_seeded
from models.catalog import Product
from models.commerce import Order, OrderLine
from models.database import Database
from models.enums import Channel, OrderStatus
from models.people import Customer

RUNS = 40
HEAVY = (500, 10_000)
CUSTOMERS = 3


def heavy_customer(engine: Engine, orders: int, copy: int = 0) -> int:
    """A customer with `orders` orders of two lines each (created once, then reused)."""
    db = Database(engine)
    marker = f"bench-heavy-{orders}" + (f"-{copy}" if copy else "")
    with db.read() as session:
        existing = session.scalar(select(Customer.id).where(Customer.external_ref == marker))
        if existing:
            return existing
        products = session.execute(select(Product.id, Product.price_cents).limit(60)).all()
    rng = random.Random(orders * 100 + copy)
    now = dt.datetime.now(dt.UTC)
    with db.write() as session:
        customer = Customer(
            first_name="Heavy",
            last_name=f"Buyer {orders}-{copy}",
            search_name=f"heavy buyer {orders}-{copy}",
            customer_since=dt.date(2000, 1, 1),
            external_ref=marker,
        )
        session.add(customer)
        session.flush()
        order_rows, line_rows = [], []
        first_id = (session.scalar(select(Order.id).order_by(Order.id.desc()).limit(1)) or 0) + 1
        for i in range(orders):
            (p1, price1), (p2, price2) = rng.sample(products, 2)
            total = price1 + 2 * price2
            order_rows.append(
                {
                    "id": first_id + i,
                    "number": f"H{orders}-{copy}-{i:06d}",
                    "customer_id": customer.id,
                    "channel": Channel.WEB,
                    "placed_at": now - dt.timedelta(hours=6 * (i + 1)),
                    "status": OrderStatus.DELIVERED,
                    "currency": "USD",
                    "subtotal_cents": total,
                    "discount_cents": 0,
                    "total_cents": total,
                    "version": 1,
                }
            )
            line_rows.append(
                {
                    "order_id": first_id + i,
                    "line_no": 1,
                    "product_id": p1,
                    "quantity": 1,
                    "unit_price_cents": price1,
                    "discount_cents": 0,
                }
            )
            line_rows.append(
                {
                    "order_id": first_id + i,
                    "line_no": 2,
                    "product_id": p2,
                    "quantity": 2,
                    "unit_price_cents": price2,
                    "discount_cents": 0,
                }
            )
        session.execute(insert(Order), order_rows)
        session.execute(insert(OrderLine), line_rows)
        customer_id = customer.id
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('orders', 'id'), "
                "(SELECT max(id) FROM orders))"
            )
            conn.exec_driver_sql("ANALYZE orders")
            conn.exec_driver_sql("ANALYZE order_lines")
    return customer_id


def raw_view_queries(engine: Engine) -> Any:
    connection: Any = engine.raw_connection()
    # Written with psycopg's %s; sqlite3 wants ?. Only the placeholder changes.
    statements = [
        "SELECT * FROM customers WHERE id = %s",
        "SELECT count(*), coalesce(sum(total_cents), 0), max(currency) FROM orders "
        "WHERE customer_id = %s AND status <> 'cancelled'",
        "SELECT o.*, (SELECT count(*) FROM order_lines l WHERE l.order_id = o.id) FROM orders o "
        "WHERE o.customer_id = %s ORDER BY o.placed_at DESC, o.id DESC LIMIT 201",
        "SELECT pr.id, pr.name, max(o.placed_at), min(o.placed_at), count(DISTINCT o.id) "
        "FROM order_lines l JOIN (SELECT id, placed_at FROM orders WHERE customer_id = %s "
        "AND status <> 'cancelled' ORDER BY placed_at DESC LIMIT 500) o ON o.id = l.order_id "
        "JOIN products pr ON pr.id = l.product_id GROUP BY pr.id, pr.name "
        "ORDER BY max(o.placed_at) DESC LIMIT 12",
        "SELECT * FROM interactions WHERE customer_id = %s ORDER BY started_at DESC LIMIT 300",
        "SELECT * FROM cases WHERE customer_id = %s",
        "SELECT * FROM commitments WHERE customer_id = %s",
    ]
    if engine.dialect.name == "sqlite":
        statements = [sql.replace("%s", "?") for sql in statements]

    def run(customer_id: int) -> None:
        cursor = connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN")  # psycopg opens its transaction by itself
        for sql in statements:
            cursor.execute(sql, (customer_id,))
            cursor.fetchall()
        connection.rollback()

    return run


async def measure(
    window: Any, app: Any, customer_ids: list[int], runs: int
) -> tuple[list[float], list[float]]:
    total_ms, service_ms = [], []
    services = window.services
    for i in range(runs + 3):
        customer_id = customer_ids[i % len(customer_ids)]
        start = time.perf_counter()
        data = await window.bridge.run(services.customers.load_customer, customer_id)
        loaded = time.perf_counter()
        panel = window.tabs.make_panel(data)
        index = window.tabs.addTab(panel, data.header.name)
        window.tabs.setCurrentIndex(index)
        panel.ensure_all_sections()  # the whole view, not only the Overview
        for section in range(panel.sections.count()):
            panel.sections.setCurrentIndex(section)
            panel.grab()  # lays out and paints every visible widget of this section
        end = time.perf_counter()
        total_ms.append((end - start) * 1000)
        service_ms.append((loaded - start) * 1000)
        await asyncio.sleep(0.02)  # let the order detail it asked for arrive
        while window.bridge.running:
            await asyncio.sleep(0.005)
        window.tabs.removeTab(index)
        panel.deleteLater()
    return total_ms[3:], service_ms[3:]


async def run(args: Any, engine: Engine) -> None:
    from PySide6.QtWidgets import QApplication

    from app.config import load_settings
    from ui.bridge import DatabaseBridge
    from ui.shell.main_window import MainWindow

    app = QApplication.instance()
    size = ensure_seeded(engine, args.size)
    ids = {n: [heavy_customer(engine, n, copy) for copy in range(CUSTOMERS)] for n in HEAVY}
    bridge = DatabaseBridge()
    window = MainWindow(load_settings(cli={"db_url": engine.url.render_as_string(False)}), bridge)
    window.resize(1366, 768)
    window.show()
    await window.connect_database()
    raw = raw_view_queries(engine)
    results: dict[int, dict[str, Any]] = {}
    for orders, customer_ids in ids.items():
        total, service = await measure(window, app, customer_ids, RUNS)
        base = []
        for i in range(RUNS):
            start = time.perf_counter()
            raw(customer_ids[i % len(customer_ids)])
            base.append((time.perf_counter() - start) * 1000)
        record = {
            "bench": "customer_view",
            "op": f"open_painted_{orders}_orders",
            "backend": backend_name(engine),
            "size": size,
            "orders": orders,
            "customers": len(customer_ids),
            **summary(total),
            "service_p50_ms": round(percentile(service, 50), 3),
            "service_p95_ms": round(percentile(service, 95), 3),
        }
        results[orders] = record
        emit(with_baseline(record, base), args.json)
    emit(
        {
            "bench": "customer_view",
            "op": "ratio_10000_vs_500",
            "backend": backend_name(engine),
            "size": size,
            "n": RUNS,
            "p50_ms": None,
            "p95_ms": None,
            "ratio": round(results[10_000]["p95_ms"] / results[500]["p95_ms"], 2),
            "ratio_p50": round(results[10_000]["p50_ms"] / results[500]["p50_ms"], 2),
        },
        args.json,
    )
    window.close()
    bridge.shutdown()
    window.services.close()


def main() -> None:
    run_gui_bench(__doc__ or "", run)


if __name__ == "__main__":
    main()
