"""The marketing list's screenshots (S1): on the seeded demo, the perfume buyers of the
last 12 months who do not have the coming Aubade Hair Mist, by e-mail, previewed with
who was left out and why, at 1366x768 and 1920x1080.

    QT_QPA_PLATFORM=offscreen python scripts/screenshot_lists.py --db sqlite:///demo.db
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from app.config import load_settings
from ui.bridge import DatabaseBridge
from ui.features.lists.page import MarketingListsPage
from ui.shell.main_window import MainWindow

SIZES = ((1366, 768), (1920, 1080))


async def _settle(window: MainWindow, seconds: float = 0.5) -> None:
    await asyncio.sleep(seconds)
    while window.bridge.running:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)


async def run_lists(db: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    bridge = DatabaseBridge()
    window = MainWindow(load_settings(cli={"db_url": db, "user": "super01"}), bridge)
    window.show()
    await window.connect_database()
    window.show_marketing_lists()
    await _settle(window, 1.0)
    page = window.tabs.currentWidget()
    assert isinstance(page, MarketingListsPage)
    page.bought.box.setText("eau de parfum 50 ml")
    page.bought.box.returnPressed.emit()
    page.not_bought.box.setText("FRG-AUB-MIST")
    page.not_bought.box.returnPressed.emit()
    page.preview_button.click()
    for width, height in SIZES:
        window.resize(width, height)
        await _settle(window, 1.0)
        path = out / f"lists-s1-preview-{width}x{height}.png"
        window.grab().save(str(path))
        print(path)
    window.close()
    bridge.shutdown()
    if window.services:
        window.services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--out", default="docs/screenshots")
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(run_lists(args.db, Path(args.out)))


if __name__ == "__main__":
    main()
