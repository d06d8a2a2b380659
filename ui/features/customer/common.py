"""What the customer tab's sections share: the titled box, the warning colour, and
replacing a table's rows on a refresh without losing the agent's place in it."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Protocol, TypeVar

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QFrame, QTableView, QVBoxLayout, QWidget

from app.services import views as v
from ui.table_model import RowTableModel
from ui.widgets import plain_label

WARN = QBrush(QColor("#c62828"))
Row = TypeVar("Row")


class SectionPage(Protocol):
    """A page of the customer tab: built from a `CustomerView`, refreshed from the next."""

    def refresh_from(self, data: v.CustomerView) -> None: ...


class TitledBox(QFrame):
    """A table (or any widget) under a bold title, as the Overview and Household lay out."""

    def __init__(self, title: str, body: QWidget) -> None:
        super().__init__()
        self.setObjectName("section")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.title = plain_label(title, bold=True)
        layout.addWidget(self.title)
        layout.addWidget(body)


def refill(
    table: QTableView,
    model: RowTableModel[Row],
    rows: Sequence[Row],
    key: Callable[[Row], Hashable] = lambda row: row,
    more: bool = False,
) -> bool:
    """Show `rows` in `table` as a refresh: the row the agent was on stays current (found
    again by `key`, as rows come and go above it) and the list does not jump to the top.
    False when nothing changed."""
    current = model.row_at(table.currentIndex().row())
    scroll = table.verticalScrollBar().value()
    if not model.update_rows(rows, more):
        return False
    if current is not None:
        wanted = key(current)
        row = next((i for i, r in enumerate(model.rows) if key(r) == wanted), None)
        if row is not None and row != table.currentIndex().row():
            table.selectRow(row)
    table.verticalScrollBar().setValue(scroll)
    return True


class HasId(Protocol):
    @property
    def id(self) -> int: ...


def by_id(row: HasId) -> int:
    """The key of rows that have an id: the row stays the same row when its text changes."""
    return row.id
