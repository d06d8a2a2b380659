"""bench.customer_cycles: memory growth over 1,000 customer open/close cycles (offscreen).

The real MainWindow, connected as the app connects (`connect_database`), opens a
customer with `window.tabs.load_customer(id)` (service call on the worker, widgets built
and painted) and closes its tab with `window.tabs.close_tab(index)`, 1,000 times, over
customers drawn at random from the database. Read-only: it writes nothing, so it can
run on a shared benchmark database. Garbage is collected on the GUI thread as in the
app (bench/common.py run_gui_bench).

RSS (VmRSS) is taken after WARMUP cycles (SQLAlchemy's statement cache, Qt's font
and style caches fill once) and after the last cycle, once deferred deletes and the
GUI-thread collector have run. Target (issue "Packaging for IT"): growth <= 10 MB.

    QT_QPA_PLATFORM=offscreen python -m bench.customer_cycles --db URL --size 100000 --json
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from sqlalchemy import Engine, func, select

from bench.common import backend_name, emit, rss_mb, run_gui_bench, summary

CYCLES = 1000
WARMUP = 50
TARGET_GROWTH_MB = 10.0


def random_customer_ids(engine: Engine, count: int, seed: int = 7) -> list[int]:
    from models.people import Customer

    with engine.connect() as conn:
        low, high = conn.execute(select(func.min(Customer.id), func.max(Customer.id))).one()
        rng = random.Random(seed)
        wanted = sorted({rng.randint(low, high) for _ in range(count * 2)})
        ids = list(conn.scalars(select(Customer.id).where(Customer.id.in_(wanted))))
    rng.shuffle(ids)
    return ids[:count]


async def settle(window: Any) -> None:
    """Let the panel's own requests finish and Qt run its deferred deletes."""
    await asyncio.sleep(0)
    while window.bridge.running:
        await asyncio.sleep(0.005)
    await asyncio.sleep(0)


async def cycle(window: Any, customer_id: int) -> float:
    start = time.perf_counter()
    panel = await window.tabs.load_customer(customer_id)
    if panel is None:
        raise RuntimeError(f"customer {customer_id} did not open")
    panel.grab()  # painted, as the agent sees it
    elapsed = (time.perf_counter() - start) * 1000
    await settle(window)
    window.tabs.close_tab(window.tabs.indexOf(panel))
    await settle(window)
    return elapsed


async def run(args: Any, engine: Engine) -> None:
    from app.config import load_settings
    from ui.bridge import DatabaseBridge
    from ui.shell.main_window import MainWindow

    bridge = DatabaseBridge()
    settings = load_settings(cli={"db_url": engine.url.render_as_string(hide_password=False)})
    window = MainWindow(settings, bridge)
    window.resize(1366, 768)
    window.show()
    await window.connect_database()
    if window.services is None:
        raise SystemExit(f"cannot connect: {window.connection.error}")
    ids = await bridge.run(random_customer_ids, window.services.engine, CYCLES + WARMUP)
    if len(ids) < CYCLES + WARMUP:  # a small database: customers come round again
        ids = (ids * ((CYCLES + WARMUP) // max(len(ids), 1) + 1))[: CYCLES + WARMUP]
    rss_connected = rss_mb()
    for customer_id in ids[:WARMUP]:
        await cycle(window, customer_id)
    await asyncio.sleep(1.0)  # the GUI-thread collector runs every 0.5 s
    rss_start = rss_mb()
    samples = [await cycle(window, customer_id) for customer_id in ids[WARMUP:]]
    await asyncio.sleep(1.0)
    rss_end = rss_mb()
    growth = rss_end - rss_start
    emit(
        {
            "bench": "customer_cycles",
            "op": "open_close_rss",
            "backend": backend_name(window.services.engine),
            "size": args.size,
            **summary(samples),
            "cycles": len(samples),
            "warmup_cycles": WARMUP,
            "distinct_customers": len(set(ids)),
            "rss_connected_mb": round(rss_connected, 1),
            "rss_start_mb": round(rss_start, 1),
            "rss_end_mb": round(rss_end, 1),
            "rss_growth_mb": round(growth, 1),
            "target_met": bool(growth <= TARGET_GROWTH_MB),
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
