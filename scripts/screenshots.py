"""Take the screenshots in docs/screenshots/ from the running window.

    xvfb-run -s "-screen 0 1920x1080x24" .venv/bin/python scripts/screenshots.py --db URL

Uses whatever Qt platform is set (xcb under Xvfb, or offscreen).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from app.config import load_settings
from ui.bridge import DatabaseBridge
from ui.customer_panel import CustomerPanel
from ui.main_window import MainWindow
from ui.theme import apply_theme

SIZES = ((1366, 768), (1920, 1080))


async def settle(app: QApplication, window: MainWindow, seconds: float = 0.4) -> None:
    # Only await: processEvents() inside a coroutine would re-enter the qasync loop.
    await asyncio.sleep(seconds)
    while window.bridge.running:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)


async def search(app: QApplication, window: MainWindow, text: str) -> None:
    window.search.box.setText(text)
    await asyncio.sleep(0.3)
    await settle(app, window)


async def shoot(app: QApplication, window: MainWindow, out: Path, name: str) -> None:
    await settle(app, window)
    path = out / f"{name}.png"
    window.grab().save(str(path))
    print(path)


async def run(app: QApplication, db: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for theme in ("light", "dark"):
        apply_theme(app, theme)
        bridge = DatabaseBridge()
        window = MainWindow(load_settings(cli={"db_url": db}), bridge)
        window.show()
        await window.connect_database()
        for width, height in SIZES:
            window.resize(width, height)
            suffix = f"{width}x{height}-{theme}"
            await search(app, window, "Whitfeld")
            await shoot(app, window, out, f"search-{suffix}")
            window.search.box.setText("617 555 0142")
            await asyncio.sleep(0.3)
            await settle(app, window)
            window.search._open_best()
            await settle(app, window, 0.6)
            await shoot(app, window, out, f"customer-S2-{suffix}")
            await search(app, window, "R20240417")
            window.search._open_best()
            await settle(app, window, 0.6)
            panel = window.tabs.currentWidget()
            if isinstance(panel, CustomerPanel):
                panel.sections.setCurrentIndex(1)
                for row, order in enumerate(panel.orders_model.rows):
                    if order.number == "R20240417":
                        panel.orders_table.selectRow(row)
                await settle(app, window, 0.6)
                await shoot(app, window, out, f"customer-S4-orders-{suffix}")
                panel.sections.setCurrentIndex(0)
        window.close()
        bridge.shutdown()
        if window.services:
            window.services.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--out", default="docs/screenshots")
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(run(app, args.db, Path(args.out)))


if __name__ == "__main__":
    main()
