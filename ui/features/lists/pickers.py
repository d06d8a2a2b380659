"""Small keyboard-first pickers for the list builder.

`PickList`: type, pick from the completion (or type a choice whole, or enough of it to
name one), Enter adds the choice to the list below;
Delete removes the selected one. `CheckList`: a list of checkable items (Space ticks).

Signals:
    PickList.changed(): a choice was added or removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCompleter,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)


def _bare(choice: str) -> str:
    """A choice without its "Line: " kind, so typing the line's name is enough."""
    return choice.split(": ", 1)[1] if choice.startswith("Line: ") else choice


class PickList(QWidget):
    changed = Signal()

    def __init__(self, name: str, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._choices: dict[str, Any] = {}
        self.box = QLineEdit()
        self.box.setPlaceholderText(placeholder)
        self.box.setAccessibleName(name)
        self.box.setClearButtonEnabled(True)
        self.box.returnPressed.connect(self.add_typed)
        self.picked = QListWidget()
        self.picked.setAccessibleName(f"{name}: chosen (Delete removes)")
        self.picked.setMaximumHeight(70)
        self.picked.installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.box)
        layout.addWidget(self.picked)

    def set_choices(self, choices: Sequence[tuple[str, Any]]) -> None:
        """(text shown, value) pairs the completion offers."""
        self._choices = dict(choices)
        completer = QCompleter(list(self._choices), self.box)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.activated.connect(lambda text: self.add(text))
        self.box.setCompleter(completer)

    def add_typed(self) -> None:
        text = self.box.text().strip()
        if text in self._choices:
            self.add(text)
            return
        folded = text.casefold()
        exact = [c for c in self._choices if folded in (c.casefold(), _bare(c).casefold())]
        matches = exact or ([c for c in self._choices if folded in c.casefold()] if text else [])
        if len(matches) == 1:  # one choice is what was typed: take it
            self.add(matches[0])

    def add(self, text: str) -> None:
        if text not in self._choices:
            return
        self.box.clear()
        if not self.picked.findItems(text, Qt.MatchFlag.MatchExactly):
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, self._choices[text])
            self.picked.addItem(item)
            self.changed.emit()

    def values(self) -> list[Any]:
        return [
            self.picked.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.picked.count())
        ]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.picked
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
        ):
            row = self.picked.currentRow()
            if row >= 0:
                self.picked.takeItem(row)
                self.changed.emit()
            return True
        return super().eventFilter(watched, event)


class CheckList(QListWidget):
    """Checkable items, each with its value; Space ticks the current one."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(name)
        self.setMaximumHeight(90)

    def set_items(self, items: Sequence[tuple[str, Any]]) -> None:
        self.clear()
        for text, value in items:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, value)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.addItem(item)

    def set_checked(self, text: str, checked: bool = True) -> None:
        for item in self.findItems(text, Qt.MatchFlag.MatchExactly):
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def checked(self) -> list[Any]:
        return [
            self.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.count())
            if self.item(i).checkState() == Qt.CheckState.Checked
        ]
