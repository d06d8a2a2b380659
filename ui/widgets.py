"""Small widgets every feature uses: a label that never renders rich text, a read-only table."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QWidget

from app.changes import Changes, Entity
from ui.table_model import RowTableModel

# How long typing pauses before a draft is put in the store (app/drafts.py).
DRAFT_SAVE_MS = 400


def plain_label(text: str = "", *, bold: bool = False, point_delta: int = 0) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if bold or point_delta:
        font = label.font()
        font.setBold(bold)
        font.setPointSizeF(font.pointSizeF() + point_delta)
        label.setFont(font)
    return label


def make_table(model: RowTableModel[object], name: str) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    stretch = model.stretch_column
    header.setStretchLastSection(stretch is None)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    # Fit the columns to what they hold whenever the rows are replaced.
    model.modelReset.connect(table.resizeColumnsToContents)
    table.resizeColumnsToContents()
    return table


class StaleRefresh(QObject):
    """A list page that re-queries when what it shows changed, here or elsewhere (the
    change bus): a burst of changes makes one re-query after `coalesce_ms`, and a page out
    of sight catches up when it is shown again, not before.

    `page.refresh` must call `loaded()` (the query then reads what the changes wrote).
    """

    def __init__(
        self,
        page: QWidget,
        shown: Iterable[Entity],
        refresh: Callable[[], None],
        coalesce_ms: int = 100,
    ) -> None:
        super().__init__(page)
        self._page = page
        self._shown = tuple(shown)
        self._refresh = refresh
        self.stale = False
        self.timer = QTimer(self, singleShot=True, interval=coalesce_ms)
        self.timer.timeout.connect(self._catch_up)
        page.installEventFilter(self)

    def apply_changes(self, changes: Changes) -> None:
        if changes.touches(self._shown):
            self.stale = True
            if not self.timer.isActive():
                self.timer.start()

    def loaded(self) -> None:
        """A re-query starts now: what was pending is in it."""
        self.stale = False
        self.timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._page and event.type() == QEvent.Type.Show:
            if self.stale and not self.timer.isActive():
                self.timer.start()
        return False

    def _catch_up(self) -> None:
        if self.stale and self._page.isVisible():
            self._refresh()
