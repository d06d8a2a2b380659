"""bench.startup: cold start to the first painted window, against a PySide6 hello-world.

Both are timed the same way in the same run: from spawning the process to the
process printing the moment its first window painted (time.perf_counter is the
system's monotonic clock, shared by both processes), with a warm page cache
(one unmeasured start first). Also the idle memory (RSS) with the window up.

    QT_QPA_PLATFORM=offscreen python -m bench.startup --db sqlite:////tmp/bench.db --size 0 --json
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import emit, parser, summary, with_baseline

RUNS = 10
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


def first_paint_ms(command: list[str]) -> float:
    env = {**os.environ, "RAPPORT_STARTUP_PROBE": "1"}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.perf_counter() * 1000
    output = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=120, check=True
    ).stdout
    marker = next(line for line in output.splitlines() if line.startswith("RAPPORT_FIRST_PAINT"))
    return float(marker.split()[1]) - started


def rss_mb(command: list[str]) -> float:
    """Resident memory of the process a second after its window is up."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time.sleep(4)
        status = Path(f"/proc/{process.pid}/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) / 1024
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    hello = [sys.executable, "-c", HELLO]
    rapport = [sys.executable, "-m", "ui.main", "--db", args.db]
    commands = {"source": rapport}
    bundle = Path("dist/rapport/rapport")
    if bundle.exists():
        commands["bundle"] = [str(bundle), "--db", args.db]
    first_paint_ms(hello)  # warm the page cache
    base = [first_paint_ms(hello) for _ in range(RUNS)]
    hello_rss = rss_mb(hello)
    for name, command in commands.items():
        first_paint_ms(command)
        samples = [first_paint_ms(command) for _ in range(RUNS)]
        record = {
            "bench": "startup",
            "op": f"first_paint_{name}",
            "backend": "n/a",
            "size": args.size,
            **summary(samples),
        }
        emit(with_baseline(record, base), args.json)
    idle = rss_mb(rapport)
    emit(
        {
            "bench": "startup",
            "op": "idle_rss_source",
            "backend": "n/a",
            "size": args.size,
            "n": 1,
            "p50_ms": None,
            "p95_ms": None,
            "rss_mb": round(idle, 1),
            "hello_rss_mb": round(hello_rss, 1),
            "delta_mb": round(idle - hello_rss, 1),
        },
        args.json,
    )


if __name__ == "__main__":
    main()
