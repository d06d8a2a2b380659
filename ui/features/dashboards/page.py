"""The Dashboards page (F7; supervisors, managers and admins): pick a dashboard and a
slice, read the figures beside the previous period, the chart and the table, and
drill down to the cases, customers, concessions, impressions, contacts or feedback
behind any figure.

Keyboard: the dashboard picker has the focus when the page opens; Tab goes through
the slice controls, the figure tiles (Enter or Space on a tile drills down to its
rows) and the table (Enter or a double-click on a row drills down to that group;
Backspace or Alt+B goes back from a drill-down). Ctrl+E exports the table shown
(CSV or XLSX, spreadsheet formulas neutralised: app/export.py). F5 reloads.

All reading runs on the bridge's workers (`DashboardService` over the analytics
replica when one is set); the page only paints what comes back.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.clock import Clock, system_clock
from app.errors import UserError
from app.export import export_table
from models.errors import DatabaseError
from ui.bridge import DatabaseBridge
from ui.features.dashboards import words
from ui.features.dashboards.chart import BarChart
from ui.table_model import Column, RowTableModel
from ui.widgets import make_table, plain_label

if TYPE_CHECKING:
    from app.services.dashboard_sql import Choices, Slice, Table
    from app.services.dashboards import Dashboard, DashboardService, Figure

log = logging.getLogger(__name__)
TILES = 6  # the most figures a dashboard has: one row at 1366 px


class Tile(QPushButton):
    """A figure: its name, its value large, and the change from the previous period.
    Enter (or Space, or a click) drills down to the rows behind it."""

    def __init__(self) -> None:
        super().__init__()
        self.figure: Figure | None = None
        self._full_change = ""
        self.setMinimumHeight(78)
        self.label, self.value, self.change = QLabel(), QLabel(), QLabel()
        self.label.setObjectName("muted")
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.value.setFont(font)
        # The change gives way to the tile's width (`_fit_change`), never widens it.
        self.change.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        box = QVBoxLayout(self)
        box.setContentsMargins(10, 6, 10, 6)
        box.setSpacing(0)
        for label in (self.label, self.value, self.change):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            box.addWidget(label)

    @property
    def summary(self) -> str:
        """ "Cases opened\n3\n▲ 1 from 2": what the tile says, as one text (the change
        with the previous value even where the tile is too narrow to show both)."""
        return "\n".join((self.label.text(), self.value.text(), self._full_change))

    def show_figure(self, figure: Figure | None) -> None:
        self.figure = figure
        self.setVisible(figure is not None)
        if figure is None:
            return
        self.label.setText(figure.label)
        self.value.setText(words.value(figure.unit, figure.current))
        full = self._full_change = words.change(figure.unit, figure.current, figure.previous)
        self.setToolTip(
            "\n".join(
                (figure.label + ": " + full, *((figure.hint,) if figure.hint else ()))
                + ("Enter: the rows behind it",)
            )
        )
        self.change.setText(full)
        self.setAccessibleName(self.summary.replace("\n", ", "))
        self._fit_change()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_change()

    def _fit_change(self) -> None:
        """The change and the previous value ("▼ $148.59 from $251.67") where the tile is
        wide enough, else the change alone; the tooltip always has both."""
        figure, full = self.figure, self._full_change
        if figure is None:
            return
        room = self.contentsRect().width() - 20  # the layout's margins
        fits = self.change.fontMetrics().horizontalAdvance(full) <= room
        self.change.setText(
            full
            if fits
            else words.change(figure.unit, figure.current, figure.previous, with_previous=False)
        )

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.click()
            return
        super().keyPressEvent(event)


class DashboardsPage(QWidget):
    def __init__(
        self,
        bridge: DatabaseBridge,
        service: DashboardService,
        clock: Clock = system_clock,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        from app.services.dashboards import BY, DASHBOARDS

        self.bridge = bridge
        self.service = service
        self.clock = clock
        self.dashboard: Dashboard | None = None
        self.shown: Table | None = None  # the table on screen: the summary or a drill-down
        self.drilled = False
        self.loads = 0  # finished loads (tests wait on it)
        self.picker = QComboBox()
        for key, title in DASHBOARDS.items():
            self.picker.addItem(title, key)
        self.picker.setAccessibleName("Dashboard")
        self.period = QComboBox()
        self.period.addItems(words.PERIODS)
        self.period.setCurrentText("This quarter")
        self.period.setAccessibleName("Period")
        self.since, self.until = QDateEdit(), QDateEdit()
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setVisible(False)
        self.filters: dict[str, QComboBox] = {}
        for name in ("team", "department", "store", "segment", "tier"):
            box = QComboBox()
            box.addItem(f"Any {name}", None)
            box.setAccessibleName(name.capitalize())
            self.filters[name] = box
        self.by = QComboBox()
        for name in BY:
            self.by.addItem(f"by {name}", name)
        self.by.setAccessibleName("Group suggestions")
        self.refresh_button = QPushButton("Refresh")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("The table shown, as CSV or XLSX (Ctrl+E)")
        self.back_button = QPushButton("← Back")
        self.back_button.setToolTip("Back to the dashboard's table (Backspace, Alt+B)")
        self.back_button.setVisible(False)
        self.tiles = [Tile() for _ in range(TILES)]
        self.chart = BarChart()
        self.heading = plain_label(bold=True)
        self.status = QLabel()
        self.status.setObjectName("muted")
        self.model: RowTableModel[tuple[Any, ...]] = RowTableModel([])
        self.table = make_table(self.model, "Dashboard table")  # type: ignore[arg-type]
        self._lay_out()
        self._wire()

    def _lay_out(self) -> None:
        controls = QHBoxLayout()
        for widget in (self.picker, self.period, self.since, self.until, *self.filters.values()):
            controls.addWidget(widget)
        controls.addWidget(self.by)
        controls.addStretch(1)
        controls.addWidget(self.refresh_button)
        controls.addWidget(self.export_button)
        tiles = QGridLayout()
        for i, tile in enumerate(self.tiles):
            tiles.addWidget(tile, 0, i)
        below = QWidget()
        table_box = QVBoxLayout(below)
        table_box.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(self.back_button)
        head.addWidget(self.heading, 1)
        table_box.addLayout(head)
        table_box.addWidget(self.table, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.chart)
        split.addWidget(below)
        split.setSizes([260, 300])
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(tiles)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

    def _wire(self) -> None:
        for box in (self.picker, self.period, self.by, *self.filters.values()):
            box.activated.connect(lambda _i: self.refresh())
        self.picker.currentIndexChanged.connect(lambda _i: self._show_by())
        self.period.currentTextChanged.connect(self._period_chosen)
        for edit in (self.since, self.until):
            edit.editingFinished.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button.clicked.connect(self.choose_export)
        self.back_button.clicked.connect(self.back)
        for tile in self.tiles:
            tile.clicked.connect(lambda _c=False, t=tile: self._tile_activated(t))
        self.table.activated.connect(lambda index: self.row_activated(index.row()))
        self.chart.bar_activated.connect(self.bar_activated)
        for keys, slot in (
            ("Ctrl+E", self.choose_export),
            ("F5", self.refresh),
            ("Alt+B", self.back),
            ("Backspace", self.back),
        ):
            QShortcut(
                QKeySequence(keys),
                self,
                slot,
                context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
            )
        self._show_by()

    # -- the slice ------------------------------------------------------------------------

    def _show_by(self) -> None:
        self.by.setVisible(self.picker.currentData() == "suggestions")

    def _period_chosen(self, name: str) -> None:
        custom = name == "Custom"
        for edit in (self.since, self.until):
            edit.setVisible(custom)
        if custom:
            start, end = words.period("Last month", self.clock().date())
            self.since.setDate(QDate(start.year, start.month, start.day))
            last = end - dt.timedelta(days=1)
            self.until.setDate(QDate(last.year, last.month, last.day))

    def current_slice(self) -> Slice:
        from app.services.dashboard_sql import Slice

        name = self.period.currentText()
        before = words.previous_start(name, self.clock().date())
        if name == "Custom":
            start = self.since.date().toPython()
            end = self.until.date().toPython() + dt.timedelta(days=1)
            if end <= start:
                raise UserError("The custom period must end on or after the day it starts.")
        else:
            start, end = words.period(name, self.clock().date())
        return Slice(
            words.at_midnight(start),  # type: ignore[arg-type]
            words.at_midnight(end),  # type: ignore[arg-type]
            team=self.filters["team"].currentData(),
            department_id=self.filters["department"].currentData(),
            store_id=self.filters["store"].currentData(),
            segment=self.filters["segment"].currentData(),
            tier=self.filters["tier"].currentData(),
            previous_start=None if before is None else words.at_midnight(before),
        )

    def set_choices(self, choices: Choices) -> None:
        options: dict[str, list[tuple[str, Any]]] = {
            "team": [(t, t) for t in choices.teams],
            "department": [(n, i) for i, n in choices.departments],
            "store": [(n, i) for i, n in choices.stores],
            "segment": [(s, s) for s in choices.segments],
            "tier": [(t.capitalize(), t) for t in choices.tiers],
        }
        for name, items in options.items():
            box = self.filters[name]
            while box.count() > 1:
                box.removeItem(1)
            for text, data in items:
                box.addItem(text, data)

    # -- loading --------------------------------------------------------------------------

    async def start(self) -> None:
        """The first open: the slice choices, then the dashboard."""
        try:
            self.set_choices(await self.bridge.run(self.service.choices))
        except DatabaseError as exc:
            self.status.setText(str(exc))
            return
        await self.load()

    def refresh(self) -> None:
        self.bridge.spawn(self.load())

    async def load(self) -> None:
        try:
            cut = self.current_slice()
        except UserError as exc:
            self.status.setText(str(exc))
            return
        key = str(self.picker.currentData())
        self.status.setText("Counting…")
        try:
            board = await self.bridge.run(self.service.open, key, cut, str(self.by.currentData()))
        except DatabaseError as exc:
            self.status.setText(str(exc))
            return
        self.show_dashboard(board)
        self.loads += 1

    def show_dashboard(self, board: Dashboard) -> None:
        self.dashboard = board
        s = board.slice
        last = s.end - dt.timedelta(days=1)
        before = s.previous
        self.status.setText(
            f"{board.title}: {s.start:%d %b %Y} – {last:%d %b %Y}, beside "
            f"{before.start:%d %b %Y} – {(before.end - dt.timedelta(days=1)):%d %b %Y}"
        )
        for i, tile in enumerate(self.tiles):
            tile.show_figure(board.figures[i] if i < len(board.figures) else None)
        scale = 100 if board.chart_unit == "cents" else 1  # money drawn in dollars
        self.chart.set_bars(
            board.chart_title,
            [b.label for b in board.bars],
            [b.current / scale for b in board.bars],
            [b.previous / scale for b in board.bars],
        )
        self.drilled = False
        self.back_button.setVisible(False)
        self._show_table(board.table, f"{board.title} — Enter on a row: the rows behind it")

    def _show_table(self, table: Table, heading: str) -> None:
        self.shown = table
        columns = [
            Column[tuple[Any, ...]](title, lambda row, i=i, t=title: words.cell(row[i], t))
            for i, title in enumerate(table.headers)
        ]
        self.model = RowTableModel(columns, self)  # the columns follow the table shown
        self.model.set_rows(list(table.rows))
        self.table.setModel(self.model)
        self.heading.setText(heading)
        self.table.resizeColumnsToContents()

    # -- drilling down --------------------------------------------------------------------

    def _tile_activated(self, tile: Tile) -> None:
        if tile.figure is not None and self.dashboard is not None:
            self.bridge.spawn(self.drill(tile.figure.key, None, tile.figure.label))

    def row_activated(self, row: int) -> None:
        board = self.dashboard
        if self.drilled or board is None or not (0 <= row < len(board.table.parts)):
            return
        part = board.table.parts[row]
        label = words.cell(board.table.rows[row][0])
        self.bridge.spawn(self.drill(board.drill_key, part, label))

    def bar_activated(self, index: int) -> None:
        board = self.dashboard
        if board is None or not (0 <= index < len(board.bars)):
            return
        bar = board.bars[index]
        self.bridge.spawn(self.drill(board.drill_key, bar.part, bar.label))

    async def drill(self, key: str, part: str | None, label: str) -> None:
        board = self.dashboard
        if board is None:
            return
        try:
            rows = await self.bridge.run(self.service.drill, key, board.slice, part)
        except (DatabaseError, ValueError) as exc:
            self.status.setText(str(exc))
            return
        self.drilled = True
        self.back_button.setVisible(True)
        self._show_table(rows, words.drill_heading(label, len(rows.rows), rows.truncated))
        self.table.setFocus()

    def back(self) -> None:
        if self.drilled and self.dashboard is not None:
            self.show_dashboard(self.dashboard)
            self.table.setFocus()

    # -- export ---------------------------------------------------------------------------

    def choose_export(self) -> None:
        if self.shown is None or self.dashboard is None:
            return
        suggested = f"{self.dashboard.key}-{self.dashboard.slice.start:%Y-%m-%d}.xlsx"
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export the table", suggested, "Excel workbook (*.xlsx);;CSV (*.csv)"
        )
        if not path:
            return
        target = Path(path)
        if target.suffix.lower() not in (".csv", ".xlsx"):
            target = target.with_suffix(".csv" if "csv" in chosen.lower() else ".xlsx")
        self.bridge.spawn(self.export_to(target))

    async def export_to(self, path: Path) -> int:
        """Write the table shown to `path` on a worker; the rows written (0: failed)."""
        table = self.shown
        if table is None:
            return 0
        try:
            written = await self.bridge.run(export_table, path, table.headers, table.rows)
        except (OSError, UserError, ValueError) as exc:
            self.status.setText(f"Not exported: {exc}")
            return 0
        self.status.setText(f"Exported {written:,} rows to {path}")
        return written
