"""A thin Qt table model over a list of plain rows (dataclasses).

Columns are declared as (title, function of the row). Long lists load in pages:
give `fetch_more` a callback and the view asks for more as it scrolls. A view that
refreshes in place (app/changes.py) replaces its rows with `update_rows`, which leaves
the view alone when nothing moved and keeps its selection and scroll when the count
stays the same.

Signals:
    (none beyond QAbstractTableModel's)
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Row = TypeVar("Row")
Index = QModelIndex | QPersistentModelIndex


def plain_tooltip(text: str) -> str:
    """`text` as a tooltip that shows it as written: Qt renders a tooltip that looks
    like HTML as HTML, so user data is escaped, and as rich text a long one wraps."""
    return "<p>" + html.escape(text).replace("\n", "<br>") + "</p>"


@dataclass(frozen=True)
class Column(Generic[Row]):
    title: str
    text: Callable[[Row], str]
    align_right: bool = False
    tooltip: Callable[[Row], str | None] | None = None
    foreground: Callable[[Row], Any] | None = None
    stretch: bool = False  # takes the width left over (the free-text column)


class RowTableModel(QAbstractTableModel, Generic[Row]):
    def __init__(self, columns: Sequence[Column[Row]], parent: Any = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._rows: list[Row] = []
        self._can_fetch_more = False
        self.request_more: Callable[[], None] | None = None

    # -- data in -------------------------------------------------------------------

    def set_rows(self, rows: Sequence[Row], more: bool = False) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._can_fetch_more = more
        self.endResetModel()

    def update_rows(self, rows: Sequence[Row], more: bool = False) -> bool:
        """Replace the rows as a refresh does; False (and no signal) when they are the same.

        The same number of rows is announced as `dataChanged`, so the view keeps its
        current row, selection and scroll position; another number is a reset.
        """
        new = list(rows)
        if new == self._rows and more == self._can_fetch_more:
            return False
        if len(new) != len(self._rows) or not new:
            self.set_rows(new, more)
            return True
        self._rows = new
        self._can_fetch_more = more
        self.dataChanged.emit(self.index(0, 0), self.index(len(new) - 1, len(self._columns) - 1))
        return True

    def append_rows(self, rows: Sequence[Row], more: bool) -> None:
        if rows:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
        self._can_fetch_more = more

    @property
    def stretch_column(self) -> int | None:
        return next((i for i, c in enumerate(self._columns) if c.stretch), None)

    def row_at(self, row: int) -> Row | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    @property
    def rows(self) -> list[Row]:
        return list(self._rows)

    # -- Qt model interface --------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row = self._rows[index.row()]
        column = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            # Cells elide long text, so each says all of it on hover.
            tip = column.tooltip(row) if column.tooltip is not None else column.text(row)
            return plain_tooltip(tip) if tip else None
        if role == Qt.ItemDataRole.ForegroundRole and column.foreground is not None:
            return column.foreground(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self._columns)
        ):
            return self._columns[section].title
        return None

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and self._can_fetch_more and self.request_more is not None

    def fetchMore(self, parent: Index) -> None:
        if self.canFetchMore(parent) and self.request_more is not None:
            # One request at a time: the callback appends and may re-enable this.
            self._can_fetch_more = False
            self.request_more()
