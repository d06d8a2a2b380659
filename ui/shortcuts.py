"""The Help menu: F1's table of every key of the action registry (`ui/actions.py`), by
section, and the About box.

The table is made from the registry, so it lists exactly what is bound. It fits a
1366x768 screen without scrolling sideways: the "Does" column takes the width left and
wraps. Both open with open(), never exec(): a nested loop breaks qasync.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from ui.actions import ACTIONS, SECTIONS, ActionSpec


def shortcut_rows() -> list[tuple[str, list[ActionSpec]]]:
    """(section, its actions that have keys), in the order of SECTIONS."""
    return [
        (section, [a for a in ACTIONS if a.section == section and a.keys])
        for section in SECTIONS
        if any(a.section == section and a.keys for a in ACTIONS)
    ]


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        layout = QVBoxLayout(self)
        groups = shortcut_rows()
        self.table = table = QTableWidget(sum(1 + len(g) for _, g in groups), 2)
        table.setAccessibleName("Keyboard shortcuts")
        table.setHorizontalHeaderLabels(["Keys", "Does"])
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.setWordWrap(True)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bold = QFont(table.font())
        bold.setBold(True)
        row = 0
        for section, specs in groups:
            heading = QTableWidgetItem(section)
            heading.setFont(bold)
            heading.setFlags(Qt.ItemFlag.ItemIsEnabled)
            table.setItem(row, 0, heading)
            table.setSpan(row, 0, 1, 2)
            row += 1
            for spec in specs:
                keys = QTableWidgetItem(spec.keys_text)
                keys.setData(Qt.ItemDataRole.UserRole, spec.id)
                table.setItem(row, 0, keys)
                table.setItem(row, 1, QTableWidgetItem(spec.help))
                row += 1
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        # Rows grow to fit wrapped text whenever the width changes.
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        screen = (parent.screen() if parent is not None else None) or (
            QGuiApplication.primaryScreen()
        )
        available = screen.availableGeometry()
        self.resize(min(720, available.width() - 80), min(640, available.height() - 80))

    def listed_ids(self) -> list[str]:
        """The registry ids of the rows, in order (section headings have none)."""
        ids = (
            self.table.item(r, 0).data(Qt.ItemDataRole.UserRole)
            for r in range(self.table.rowCount())
        )
        return [i for i in ids if i]


def show_shortcuts(parent: QWidget) -> None:
    dialog = ShortcutsDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()


def show_about(parent: QWidget) -> None:
    # Not QMessageBox.about(): it runs a nested loop too.
    box = QMessageBox(parent)
    box.setWindowTitle("About Rapport")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(f"Rapport {__version__}")
    box.setInformativeText(
        "Customer-service workstation. Built with Python, Qt for Python (PySide6, "
        "LGPL) and SQLAlchemy. F1 lists the keyboard shortcuts."
    )
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
