"""Small widgets every feature uses: a label that never renders rich text, a read-only table."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView

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
