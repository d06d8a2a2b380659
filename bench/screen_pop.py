"""bench.screen_pop: from a call event arriving to the caller's customer view painted.

Rings the window (offscreen) with the numbers of random customers as a softphone
shows them (national format for US numbers, international otherwise; stored as
typed by people, matched on E.164) and times arrival -> match -> customer loaded
-> view painted, and the longest time the GUI thread was blocked meanwhile (the
largest gap of a 5 ms heartbeat timer). The database part (match + load) is
compared with the very statements it sent, captured and replayed on the raw
driver in the same run. Also 1,000 pops in a row with the RSS growth over them.

    QT_QPA_PLATFORM=offscreen python -m bench.screen_pop --db URL --size 100000 --json
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import time
from collections.abc import Callable
from typing import Any

import phonenumbers
from sqlalchemy import Engine, func, select
from sqlalchemy import event as sa_event

from bench.common import backend_name, emit, rss_mb, run_gui_bench, summary, with_baseline
from bench.lookup import ensure_seeded, raw_lookup
from models.people import CustomerPhone

POPS = 200
POP_TIMEOUT_S = 10
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
ENDURANCE = int(os.environ.get("RAPPORT_BENCH_POPS", "1000"))


def capture_statements(engine: Engine, work: Callable[[], None]) -> list[tuple[str, Any]]:
    """Run `work` once and return every statement it sent to the driver, with parameters."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
    return sent


def replay(connection: Any, statements: list[tuple[str, Any]]) -> None:
    """The same statements on the raw DB-API connection, rows fetched, then rolled back."""
    cursor = connection.cursor()
    for statement, parameters in statements:
        if statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            continue  # the driver opens its own transaction, as in the baseline of bench.lookup
        cursor.execute(statement, parameters)
        if cursor.description is not None:
            cursor.fetchall()
    connection.rollback()


def numbers(engine: Engine, count: int) -> list[tuple[str, str]]:
    rng = random.Random(3)
    with engine.connect() as conn:
        top = conn.scalar(select(func.max(CustomerPhone.id))) or 1
        ids = [rng.randint(1, top) for _ in range(count * 2)]
        rows = conn.execute(select(CustomerPhone.e164).where(CustomerPhone.id.in_(ids))).all()
    result = []
    for (e164,) in rows:
        parsed = phonenumbers.parse(e164)
        # As a softphone shows it: national for the agent's own region (US), else
        # international with spaces; never the stored E.164 text.
        style = (
            phonenumbers.PhoneNumberFormat.NATIONAL
            if phonenumbers.region_code_for_number(parsed) == "US"
            else phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        result.append((e164, phonenumbers.format_number(parsed, style)))
    return result[:count]


async def run(args: Any, engine: Engine) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.config import load_settings
    from app.telephony.events import CallEvent, CallState
    from ui.bridge import DatabaseBridge
    from ui.features.customer.panel import CustomerPanel
    from ui.shell.main_window import MainWindow

    app = QApplication.instance()
    size = ensure_seeded(engine, args.size)
    url = engine.url.render_as_string(hide_password=False)
    settings = load_settings(cli={"db_url": url, "default_region": "US"})
    bridge = DatabaseBridge()
    window = MainWindow(settings, bridge)
    window.resize(1366, 768)
    window.show()
    await window.connect_database()
    window.calls.toast.hide()
    beats: list[float] = []
    heartbeat = QTimer(interval=5)
    heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))
    heartbeat.start()

    def ringing(number: str, index: int) -> CallEvent:
        return CallEvent(
            call_id=f"bench-{index}",
            number=number,
            name=None,
            line=None,
            state=CallState.RINGING,
            at=dt.datetime.now(dt.UTC),
            source="bench",
            received_monotonic=time.perf_counter(),
        )

    shown: dict[str, asyncio.Future[float]] = {}

    def on_popped(call_id: str, latency_ms: float) -> None:
        future = shown.pop(call_id, None)
        if future is not None and not future.done():
            future.set_result(latency_ms)

    window.popped.connect(on_popped)

    async def pop(number: str, index: int) -> float:
        """Ring, and await the window's own report that the view is painted (no polling:
        a busy wait would compete with the worker thread for the GIL)."""
        event = ringing(number, index)
        shown[event.call_id] = asyncio.get_running_loop().create_future()
        window.calls.handle_call(event)
        latency = await asyncio.wait_for(shown[event.call_id], POP_TIMEOUT_S)
        if not isinstance(window.tabs.currentWidget(), CustomerPanel):
            raise RuntimeError(f"{number!r} did not pop a customer")
        while bridge.running:
            await asyncio.sleep(0.001)
        # Close it again so every pop builds a fresh view.
        window.tabs.close_tab(window.tabs.currentIndex())
        window.tabs.closed.clear()
        window.calls.toast.hide()
        window.calls.book.clear()
        return latency

    raw = raw_lookup(engine)
    # Numbers of exactly one customer: a shared household phone shows a pick list instead.
    sample = [(e, n) for e, n in numbers(engine, POPS * 2) if len(raw("phone", e)) == 1][:POPS]
    for _e164, national in sample[:10]:
        await pop(national, -1)
    beats.clear()
    times = [await pop(national, i) for i, (_e164, national) in enumerate(sample)]
    gaps = [b - a for a, b in zip(beats, beats[1:], strict=False)]
    heartbeat.stop()
    record = {
        "bench": "screen_pop",
        "op": "ring_to_painted",
        "backend": backend_name(engine),
        "size": size,
        **summary(times),
        "max_gui_block_ms": round(max(gaps) * 1000, 1) if gaps else None,
    }
    emit(record, args.json)

    # The database part of a pop (match the number, load the customer), against the
    # very statements it sent replayed on the raw driver, in the same run.
    assert window.services is not None
    services = window.services
    service_ms, raw_ms = [], []
    connection: Any = engine.raw_connection()
    for index, (_e164, national) in enumerate(sample):
        event = ringing(national, index)

        def database_part(event: Any = event) -> None:
            match = services.calls.match(event)
            assert match.customer_id is not None
            services.customers.load_customer(match.customer_id)

        statements = capture_statements(services.engine, database_part)
        started = time.perf_counter()
        database_part()
        service_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        replay(connection, statements)
        raw_ms.append((time.perf_counter() - started) * 1000)
    connection.close()
    emit(
        with_baseline(
            {
                "bench": "screen_pop",
                "op": "database_part",
                "backend": backend_name(engine),
                "size": size,
                **summary(service_ms),
                "statements": len(statements),
            },
            raw_ms,
        ),
        args.json,
    )

    numbers_cycle = [n for _e, n in sample]
    start_rss = rss_mb()
    for i in range(ENDURANCE):
        await pop(numbers_cycle[i % len(numbers_cycle)], 10_000 + i)
    emit(
        {
            "bench": "screen_pop",
            "op": f"rss_growth_{ENDURANCE}_pops",
            "backend": backend_name(engine),
            "size": size,
            "n": ENDURANCE,
            "p50_ms": None,
            "p95_ms": None,
            "rss_start_mb": round(start_rss, 1),
            "rss_growth_mb": round(rss_mb() - start_rss, 1),
        },
        args.json,
    )
    window.close()
    bridge.shutdown()
    if window.services is not None:
        window.services.close()
    _ = app


def main() -> None:
    run_gui_bench(__doc__ or "", run)


if __name__ == "__main__":
    main()
