"""The Dashboards page (F7): figures beside the previous period, the chart in the
palette's colours (dark too), drill-down from a tile, a table row and a bar, back,
export of the table shown, and the role gate in the window."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from sqlalchemy import Engine

from app.clock import fixed_clock
from app.services.dashboards import DashboardService
from models.database import Database
from tests.conftest import LoopRunner, running_window
from tests.factories import dashboard_dataset
from ui.bridge import DatabaseBridge
from ui.features.dashboards import words
from ui.features.dashboards.page import DashboardsPage
from ui.theme import DARK, LIGHT, apply_theme

MID_NOVEMBER = fixed_clock(dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC))


@pytest.fixture
def page(
    sqlite_engine: Engine, aloop: LoopRunner, gui_sql_guard: Any, qtbot: Any
) -> Iterator[DashboardsPage]:
    dashboard_dataset(sqlite_engine)
    bridge = DatabaseBridge()
    gui_sql_guard.attach(sqlite_engine)
    shown = DashboardsPage(bridge, DashboardService(Database(sqlite_engine)), MID_NOVEMBER)
    qtbot.addWidget(shown)
    shown.resize(1366, 700)
    shown.show()
    aloop.run(shown.start())
    yield shown
    aloop.until(lambda: bridge.running == 0)
    gui_sql_guard.detach(sqlite_engine)
    bridge.shutdown()
    aloop.run(asyncio.sleep(0.02))


def choose(page: DashboardsPage, aloop: LoopRunner, key: str) -> None:
    page.picker.setCurrentIndex(page.picker.findData(key))
    aloop.run(page.load())


def test_periods_are_whole_months_and_quarters() -> None:
    today = dt.date(2026, 11, 15)
    assert words.period("This quarter", today) == (dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    assert words.period("Last quarter", today) == (dt.date(2026, 7, 1), dt.date(2026, 10, 1))
    assert words.period("Last month", dt.date(2026, 1, 9)) == (
        dt.date(2025, 12, 1),
        dt.date(2026, 1, 1),
    )
    assert words.change("count", 3, 2) == "▲ 1 from 2"
    assert words.change("percent", 33.3, 100.0) == "▼ 66.7 points from 100.0 %"
    assert words.value("cents", -350000) == "-$3,500.00"
    assert words.previous_start("Last quarter", today) == dt.date(2026, 4, 1)
    assert words.previous_start("This month", today) == dt.date(2026, 10, 1)


def test_figures_stand_beside_the_previous_quarter(page: DashboardsPage, aloop: LoopRunner) -> None:
    assert page.tiles[0].summary == "Concessions granted\n2\n▲ 1 from 1"
    choose(page, aloop, "cases")
    assert [t.summary.split("\n")[:2] for t in page.tiles] == [
        ["Cases opened", "3"],
        ["Resolved", "3"],
        ["Backlog at the end", "1"],
        ["SLA attainment", "33.3 %"],
        ["SLA breaches", "1"],
        ["First-response breaches", "1"],
    ]
    assert page.chart.bar_count == 14
    assert page.model.rowCount() == 2  # Billing, Delivery
    assert "01 Oct 2026 – 31 Dec 2026" in page.status.text()


def test_a_slice_narrows_every_figure(page: DashboardsPage, aloop: LoopRunner) -> None:
    choose(page, aloop, "cases")
    team = page.filters["team"]
    assert [team.itemText(i) for i in range(team.count())] == ["Any team", "North", "South"]
    team.setCurrentIndex(team.findData("South"))
    aloop.run(page.load())
    assert page.tiles[0].summary.startswith("Cases opened\n1\n")


def test_drilling_down_from_a_tile_a_row_and_a_bar(page: DashboardsPage, aloop: LoopRunner) -> None:
    choose(page, aloop, "cases")
    page.tiles[0].setFocus()
    QTest.keyClick(page.tiles[0], Qt.Key.Key_Return)
    aloop.until(lambda: page.drilled)
    assert page.model.rowCount() == 3
    assert page.heading.text() == "Cases opened: 3 rows"
    assert page.back_button.isVisible()
    page.back()
    assert not page.drilled and page.model.rowCount() == 2
    delivery = [page.model.row_at(i)[0] for i in range(2)].index("Delivery")  # type: ignore[index]
    page.row_activated(delivery)
    aloop.until(lambda: page.drilled)
    assert [page.model.row_at(i)[0] for i in range(page.model.rowCount())] == ["K3"]  # type: ignore[index]
    page.back()
    page.bar_activated(0)  # the week of 1 October: K1
    aloop.until(lambda: page.drilled)
    assert page.model.rowCount() == 1


def test_export_writes_the_table_shown(
    page: DashboardsPage, aloop: LoopRunner, tmp_path: Path
) -> None:
    choose(page, aloop, "suggestions")
    target = tmp_path / "suggestions.xlsx"
    assert aloop.run(page.export_to(target)) == 2
    sheet = openpyxl.load_workbook(target).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Kind", "Shown")
    assert {r[0]: r[1] for r in rows[1:]} == {"refill": 3, "add_on": 1}
    page.tiles[0].click()  # the impressions behind "shown", then as CSV
    aloop.until(lambda: page.drilled)
    csv_file = tmp_path / "shown.csv"
    assert aloop.run(page.export_to(csv_file)) == 4
    assert "Exported 4 rows" in page.status.text()


def test_the_chart_follows_dark_mode(page: DashboardsPage, qapp: QApplication) -> None:
    try:
        apply_theme(qapp, "dark")
        page.chart.set_bars("t", ["a"], [1], [2])
        assert page.chart.plot.backgroundBrush().color() == QColor(DARK["base"])
        apply_theme(qapp, "light")
        page.chart.set_bars("t", ["a"], [1], [2])
        assert page.chart.plot.backgroundBrush().color() == QColor(LIGHT["base"])
    finally:
        apply_theme(qapp, "light")


@pytest.fixture
def sqlite_window(sqlite_engine: Engine, aloop: LoopRunner, gui_sql_guard: Any) -> Iterator[Any]:
    """The window on a seeded SQLite database: single-user mode switches who acts."""
    from models.seed import seed_database

    seed_database(sqlite_engine, 30, seed=3)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    with running_window(url, aloop, gui_sql_guard) as main:
        yield main


def test_f7_is_for_supervisors_managers_and_admins(sqlite_window: Any, aloop: LoopRunner) -> None:
    window = sqlite_window
    QTest.keyClick(window, Qt.Key.Key_F7)
    assert window.dashboards is None
    assert "Dashboards are for supervisors" in window.statusBar().currentMessage()
    aloop.run(window.switch_user("super01"))
    QTest.keyClick(window, Qt.Key.Key_F7)
    assert window.dashboards is not None
    aloop.until(lambda: window.dashboards.loads >= 1)
    assert window.tabs.currentWidget() is window.dashboards


def test_table_cells_read_as_words_and_money() -> None:
    from ui.features.dashboards import words

    assert words.cell(180.0, "Amount") == "180.00"
    assert words.cell(2, "Amount before") == "2.00"
    assert words.cell("goodwill_gift", "Type") == "goodwill gift"
    assert words.cell("Delivery", "Department") == "Delivery"
    assert words.cell(1234, "Granted") == "1,234"


def test_a_narrow_tile_shows_the_change_and_keeps_the_previous_value_in_reach(
    qapp: QApplication,
) -> None:
    """At 1366x768 six tiles share the row: "▼ $148.59 from $251.67" was cut off."""
    from app.services.dashboard_sql import Figure
    from ui.features.dashboards.page import Tile

    tile = Tile()
    tile.show_figure(Figure("concessions.similar", "Similar customers", 10307, 25166, "cents"))
    tile.show()
    tile.resize(400, 80)
    qapp.processEvents()
    assert tile.change.text() == "▼ $148.59 from $251.66"
    tile.resize(120, 80)
    qapp.processEvents()
    assert tile.change.text() == "▼ $148.59"
    assert "▼ $148.59 from $251.66" in tile.toolTip()
    assert tile.summary.endswith("▼ $148.59 from $251.66")  # what a screen reader says
    assert words.change("count", 3, 3, with_previous=False) == "= as before"
