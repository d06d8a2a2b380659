"""The keyboard shortcuts, listed once: bound from here and shown in the help (F1)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

SHORTCUTS: tuple[tuple[str, str], ...] = (
    ("Ctrl+K, F3", "Search: phone, e-mail, order, case or name"),
    ("↑ / ↓", "Move through search results"),
    ("Enter", "Open the selected (or best) match"),
    ("Esc", "Clear the search"),
    ("Ctrl+W", "Close the customer tab"),
    ("Ctrl+Tab / Ctrl+Shift+Tab", "Next / previous customer tab"),
    ("Ctrl+Shift+T", "Reopen the last closed customer"),
    ("Alt+1 … Alt+6", "Overview, Orders, Cases, Timeline, Household, Notes"),
    ("F2", "Edit the customer's contact details"),
    ("Ctrl+N", "New customer, prefilled with what was searched"),
    ("Ctrl+Enter", "Save the note being written"),
    ("Ctrl+L", "Call log: this agent's and line's calls, missed ones with their callback"),
    ("Ctrl+D", "In the call log: call the selected number back through the softphone"),
    ("F5", "Reload the call log"),
    ("F1, Ctrl+/", "This list"),
)


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        layout = QVBoxLayout(self)
        table = QTableWidget(len(SHORTCUTS), 2)
        table.setAccessibleName("Keyboard shortcuts")
        table.setHorizontalHeaderLabels(["Keys", "Does"])
        table.verticalHeader().hide()
        for row, (keys, does) in enumerate(SHORTCUTS):
            table.setItem(row, 0, QTableWidgetItem(keys))
            table.setItem(row, 1, QTableWidgetItem(does))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        table.setMinimumWidth(560)
        table.setMinimumHeight(360)
        layout.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
