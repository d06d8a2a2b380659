"""Shared helpers for the benchmarks: arguments, timing and the JSON-lines output.

Every benchmark prints one JSON object per measured operation with at least
bench, op, backend, size, n, p50_ms and p95_ms; where a raw-driver baseline was
measured in the same run, also baseline_p95_ms and ratio_p95.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--db", required=True, help="database URL (postgresql://... or sqlite:///...)")
    p.add_argument("--size", type=int, required=True, help="number of customers")
    p.add_argument("--json", action="store_true", help="print JSON lines only")
    return p


def percentile(samples_ms: list[float], q: float) -> float:
    if not samples_ms:
        return float("nan")
    if len(samples_ms) == 1:
        return samples_ms[0]
    return statistics.quantiles(samples_ms, n=100, method="inclusive")[int(q) - 1]


def time_calls(fn: Callable[[], Any], n: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(samples_ms),
        "p50_ms": round(percentile(samples_ms, 50), 3),
        "p95_ms": round(percentile(samples_ms, 95), 3),
    }


def rss_mb() -> float:
    """This process's resident memory (VmRSS), in MB; Linux."""
    with open("/proc/self/status", encoding="ascii") as status:
        text = status.read()
    return int(text.split("VmRSS:")[1].split()[0]) / 1024


def backend_name(engine: Engine) -> str:
    return engine.dialect.name


def emit(record: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(record), flush=True)
        return
    fields = ", ".join(f"{k}={v}" for k, v in record.items() if k not in ("bench",))
    print(f"[{record.get('bench')}] {fields}", file=sys.stdout, flush=True)


def with_baseline(record: dict[str, Any], baseline_ms: list[float]) -> dict[str, Any]:
    base = summary(baseline_ms)
    record["baseline_p50_ms"] = base["p50_ms"]
    record["baseline_p95_ms"] = base["p95_ms"]
    record["ratio_p95"] = round(record["p95_ms"] / base["p95_ms"], 2) if base["p95_ms"] else None
    return record


def run_gui_bench(description: str, run: Callable[[Any, Engine], Any]) -> None:
    """Parse the arguments, then await `run(args, engine)` on a qasync loop, offscreen,
    collecting garbage on the GUI thread as the app does (ui/garbage.py)."""
    import asyncio
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    args = parser(description).parse_args()
    import qasync
    from PySide6.QtWidgets import QApplication

    from models.database import make_engine
    from ui.garbage import GuiThreadGarbageCollector

    app = QApplication(sys.argv[:1])
    collector = GuiThreadGarbageCollector(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    engine = make_engine(args.db)
    with loop:
        loop.run_until_complete(run(args, engine))
    collector.stop()
    engine.dispose()
