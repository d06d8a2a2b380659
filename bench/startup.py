"""bench.startup: cold start to the first painted window, against a PySide6 hello-world.

Each program is timed the same way in the same run: from spawning the process to
the moment it reports its first window painted (`RAPPORT_FIRST_PAINT <ms>` on
stdout when RAPPORT_STARTUP_PROBE=1 is set; ui/main.py prints it right after the
window's first repaint and quits). time.perf_counter is the system's monotonic
clock (CLOCK_MONOTONIC / QueryPerformanceCounter), shared by all processes, so
the child's stamp minus the spawn time is the start-up latency. One unmeasured
start first warms the page cache. Programs: (a) a QLabel hello-world, (b) rapport
from source, (c) the frozen bundle dist/rapport/rapport when it exists.

Also the idle memory (RSS, psutil if installed, else /proc/PID/status) once the
window is up and start-up work has settled, against the hello-world's.

    QT_QPA_PLATFORM=offscreen python -m bench.startup --db sqlite:////tmp/bench.db --size 0 --json

Targets (issue "Packaging for IT"): first window within hello-world + 0.5 s and
under 1.5 s (p50); idle RSS within hello-world + 60 MB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import emit, parser, summary, with_baseline

ROOT = Path(__file__).resolve().parent.parent
RUNS = 10
TARGET_EXTRA_MS = 500.0
TARGET_ABSOLUTE_MS = 1500.0
TARGET_EXTRA_RSS_MB = 60.0
HELLO = """
import os, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication(sys.argv[:1])
label = QLabel("hello"); label.resize(400, 200); label.show()
def painted():
    label.repaint()
    print(f"RAPPORT_FIRST_PAINT {time.perf_counter() * 1000:.1f}", flush=True)
    QTimer.singleShot(0, app.quit)
if os.environ.get("RAPPORT_STARTUP_PROBE"):
    QTimer.singleShot(0, painted)
app.exec()
"""


def _env(probe: bool) -> dict[str, str]:
    env = {**os.environ}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    if probe:
        env["RAPPORT_STARTUP_PROBE"] = "1"
    else:
        env.pop("RAPPORT_STARTUP_PROBE", None)
    return env


def first_paint_ms(command: list[str]) -> float:
    started = time.perf_counter() * 1000
    done = subprocess.run(
        command, capture_output=True, text=True, env=_env(True), timeout=120, cwd=ROOT
    )
    marker = next(
        (line for line in done.stdout.splitlines() if line.startswith("RAPPORT_FIRST_PAINT")),
        None,
    )
    if marker is None:
        raise RuntimeError(
            f"{command[0]} printed no RAPPORT_FIRST_PAINT (exit {done.returncode}):"
            f" {done.stderr[-500:]}"
        )
    return float(marker.split()[1]) - started


def _rss_mb(pid: int) -> float:
    try:
        import psutil

        return float(psutil.Process(pid).memory_info().rss) / 2**20
    except ImportError:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) / 1024


def idle_rss_mb(command: list[str], settle_s: float = 1.0, limit_s: float = 15.0) -> float:
    """RSS once the window is up and memory has stopped growing (start-up work done)."""
    process = subprocess.Popen(
        command, env=_env(False), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time.sleep(1.0)
        deadline = time.monotonic() + limit_s
        last = _rss_mb(process.pid)
        stable_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = _rss_mb(process.pid)
            if abs(now - last) > 0.5:  # still allocating: connecting, loading, painting
                stable_since = time.monotonic()
            last = now
            if time.monotonic() - stable_since >= settle_s:
                break
        return last
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    hello = [sys.executable, "-c", HELLO]
    commands = {"source": [sys.executable, "-m", "ui.main", "--db", args.db]}
    bundle = ROOT / "dist" / "rapport" / ("rapport.exe" if os.name == "nt" else "rapport")
    if bundle.exists():
        commands["bundle"] = [str(bundle), "--db", args.db]

    first_paint_ms(hello)  # warm the page cache
    base = [first_paint_ms(hello) for _ in range(RUNS)]
    base_p50 = summary(base)["p50_ms"]
    hello_rss = idle_rss_mb(hello)
    emit(
        {
            "bench": "startup",
            "op": "first_paint_hello",
            "backend": "n/a",
            "size": args.size,
            **summary(base),
            "rss_mb": round(hello_rss, 1),
        },
        args.json,
    )
    for name, command in commands.items():
        first_paint_ms(command)
        samples = [first_paint_ms(command) for _ in range(RUNS)]
        rss = idle_rss_mb(command)
        record: dict[str, Any] = {
            "bench": "startup",
            "op": f"first_paint_{name}",
            "backend": "n/a",
            "size": args.size,
            **summary(samples),
        }
        record = with_baseline(record, base)
        p50 = record["p50_ms"]
        record.update(
            ratio_p50=round(p50 / base_p50, 2) if base_p50 else None,
            extra_p50_ms=round(p50 - base_p50, 1),
            target_met=bool(p50 <= base_p50 + TARGET_EXTRA_MS and p50 < TARGET_ABSOLUTE_MS),
            rss_mb=round(rss, 1),
            hello_rss_mb=round(hello_rss, 1),
            extra_rss_mb=round(rss - hello_rss, 1),
            rss_target_met=bool(rss - hello_rss <= TARGET_EXTRA_RSS_MB),
        )
        emit(record, args.json)


if __name__ == "__main__":
    main()
