"""The dashboards' screenshots (scripts/screenshots.py --dashboards): Cases & SLA and
Concessions & revenue kept for last quarter as a supervisor (super01) sees them, at
1366x768 and 1920x1080, a drill-down, and the concessions dashboard in dark mode."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtWidgets import QApplication

from app.config import load_settings
from ui.bridge import DatabaseBridge
from ui.shell.main_window import MainWindow
from ui.theme import apply_theme

SIZES = ((1366, 768), (1920, 1080))


async def _settle(window: MainWindow, seconds: float = 0.5) -> None:
    await asyncio.sleep(seconds)
    while window.bridge.running:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)


async def _shoot(window: MainWindow, out: Path, name: str) -> None:
    await _settle(window)
    path = out / f"{name}.png"
    window.grab().save(str(path))
    print(path)


async def _show(window: MainWindow, key: str) -> None:
    page = window.dashboards
    assert page is not None
    page.period.setCurrentText("Last quarter")
    page.picker.setCurrentIndex(page.picker.findData(key))
    await page.load()
    await _settle(window)


async def run_dashboards(app: QApplication, db: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for theme in ("light", "dark"):
        apply_theme(app, theme)
        bridge = DatabaseBridge()
        window = MainWindow(load_settings(cli={"db_url": db, "user": "super01"}), bridge)
        window.show()
        await window.connect_database()
        window.show_dashboards()
        await _settle(window, 1.0)
        sizes = SIZES if theme == "light" else SIZES[:1]
        for width, height in sizes:
            window.resize(width, height)
            suffix = f"{width}x{height}" + ("-dark" if theme == "dark" else "")
            await _show(window, "concessions")
            await _shoot(window, out, f"dashboard-concessions-{suffix}")
            if theme == "dark":
                continue
            await _show(window, "cases")
            await _shoot(window, out, f"dashboard-cases-{suffix}")
            page = window.dashboards
            assert page is not None and page.dashboard is not None
            breaches = next(f for f in page.dashboard.figures if f.key == "cases.breached")
            await page.drill(breaches.key, None, breaches.label)
            await _shoot(window, out, f"dashboard-drill-{suffix}")
        window.close()
        bridge.shutdown()
        if window.services:
            window.services.close()
