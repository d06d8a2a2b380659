"""The case timeline: every entry in time order; internal notes tinted and labelled
"Internal" so nobody reads one out to the customer.

A table over plain rows (`TimelineEntry`), so 200 entries paint in one pass with no
widget per entry. User text is shown as plain text, never interpreted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QTableView

from ui import formatting as fmt
from ui.table_model import Column, RowTableModel
from ui.widgets import make_table

if TYPE_CHECKING:
    from app.services.case_timeline import TimelineEntry  # the core loads after the first paint

INTERNAL_TINT = QBrush(QColor(255, 236, 179, 150))  # amber, readable in light and dark
INTERNAL_TEXT = QBrush(QColor("#8a5a00"))


class TimelineModel(RowTableModel["TimelineEntry"]):
    """Rows of the timeline; internal entries get the tint as their background."""

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if role == Qt.ItemDataRole.BackgroundRole and index.isValid():
            entry = self.row_at(index.row())
            return INTERNAL_TINT if entry is not None and entry.internal else None
        return super().data(index, role)


def timeline_columns() -> list[Column[TimelineEntry]]:
    return [
        Column("When", lambda e: fmt.day_time(e.at)),
        Column("Who", lambda e: e.who or "system"),
        Column("Department", lambda e: e.department),
        Column(
            "For",
            lambda e: "Internal" if e.internal else "",
            foreground=lambda e: INTERNAL_TEXT if e.internal else None,
        ),
        Column("What", lambda e: e.kind),
        Column(
            "Text",
            lambda e: e.text.replace("\n", " "),
            tooltip=lambda e: e.text or None,
            stretch=True,
        ),
    ]


# Column widths in average characters: fitting the columns to 200 rows' contents would
# ask every cell its size (most of the time a case tab takes to open).
WIDTHS = (18, 16, 14, 8, 14)


def make_timeline(entries: tuple[TimelineEntry, ...]) -> tuple[TimelineModel, QTableView]:
    model = TimelineModel(timeline_columns())
    table = make_table(model, "Case timeline, oldest first")  # type: ignore[arg-type]
    model.modelReset.disconnect(table.resizeColumnsToContents)
    char = table.fontMetrics().averageCharWidth()
    for column, width in enumerate(WIDTHS):
        table.setColumnWidth(column, width * char + 12)
    model.set_rows(list(entries))
    model.setParent(table)
    table.setAlternatingRowColors(False)  # the tint must stand out, not alternate
    return model, table
