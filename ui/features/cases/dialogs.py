"""Dialogs of a case: opening one, and settling an edit that met someone else's.

Both are plain forms, reachable by keyboard (Tab order as laid out, mnemonics on the
labels, Enter accepts, Esc cancels); neither touches the database: the caller runs the
operation with what they return.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.services.case_view import CATEGORIES, OrderLineChoice
from app.services.cases import FieldConflict
from ui.widgets import plain_label

PRIORITIES = (("low", "Low"), ("normal", "Normal"), ("high", "High"), ("urgent", "Urgent"))


class NewCaseDialog(QDialog):
    """Category, priority, subject, description and, optionally, the order line."""

    def __init__(
        self,
        customer_name: str,
        lines: list[OrderLineChoice],
        order_line_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"New case for {customer_name}")
        self.setAccessibleName("New case")
        form = QFormLayout()
        self.category = QComboBox()
        for code, words in CATEGORIES.items():
            self.category.addItem(words, code)
        self.priority = QComboBox()
        for code, words in PRIORITIES:
            self.priority.addItem(words, code)
        self.priority.setCurrentIndex(1)
        self.subject = QLineEdit()
        self.subject.setMaxLength(200)
        self.subject.setPlaceholderText("What is it about, in a few words")
        self.description = QPlainTextEdit()
        self.description.setTabChangesFocus(True)
        self.description.setPlaceholderText("What the customer said")
        self.line = QComboBox()
        self.line.addItem("No order line", None)
        for choice in lines:
            self.line.addItem(choice.text, choice.line_id)
        if order_line_id is not None:
            self.line.setCurrentIndex(max(self.line.findData(order_line_id), 0))
        for text, field in (
            ("&Category", self.category),
            ("&Priority", self.priority),
            ("&Subject", self.subject),
            ("&Description", self.description),
            ("&Order line", self.line),
        ):
            buddy = QLabel(text)
            buddy.setBuddy(field)
            field.setAccessibleName(text.replace("&", ""))
            form.addRow(buddy, field)
        self.problem = plain_label("")
        self.problem.setStyleSheet("color: #c62828;")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Open case")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.subject.setFocus()

    def _accept(self) -> None:
        if not self.subject.text().strip():
            self.problem.setText("Say what the case is about (Subject).")
            self.subject.setFocus()
            return
        self.accept()

    def values(self) -> dict[str, Any]:
        """The arguments of `open_case` (without the customer)."""
        return {
            "category": self.category.currentData(),
            "priority": self.priority.currentData(),
            "subject": self.subject.text().strip(),
            "description": self.description.toPlainText().strip() or None,
            "order_line_id": self.line.currentData(),
        }


class ConflictDialog(QDialog):
    """Per field: what I typed, what the other agent saved (and what it was); I choose."""

    def __init__(
        self, reference: str, conflicts: tuple[FieldConflict, ...], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{reference} was changed by someone else")
        self.setAccessibleName("Edit conflict")
        self._conflicts = conflicts
        self._groups: list[QButtonGroup] = []
        grid = QGridLayout()
        for column, title in enumerate(("Field", "Yours", "Theirs (saved)", "Before")):
            grid.addWidget(plain_label(title, bold=True), 0, column)
        for row, conflict in enumerate(conflicts, start=1):
            group = QButtonGroup(self)
            mine = QRadioButton(_shown(conflict.mine))
            theirs = QRadioButton(_shown(conflict.theirs))
            mine.setAccessibleName(f"{_field(conflict.field)}: keep yours")
            theirs.setAccessibleName(f"{_field(conflict.field)}: keep theirs")
            group.addButton(mine, 0)
            group.addButton(theirs, 1)
            theirs.setChecked(True)  # what is saved stays unless the agent says otherwise
            self._groups.append(group)
            grid.addWidget(plain_label(_field(conflict.field)), row, 0)
            grid.addWidget(mine, row, 1)
            grid.addWidget(theirs, row, 2)
            grid.addWidget(plain_label(_shown(conflict.base)), row, 3)
        intro = plain_label(
            "Another agent saved these fields while you were editing. Choose, per field, "
            "which value to keep. Fields only one of you changed are kept as they are."
        )
        intro.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Save my choices")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(grid)
        layout.addWidget(buttons)

    def choose(self, field: str, mine: bool) -> None:
        index = next(i for i, c in enumerate(self._conflicts) if c.field == field)
        button = self._groups[index].button(0 if mine else 1)
        button.setChecked(True)

    def chosen(self) -> dict[str, Any]:
        """The fields where the agent keeps their own value: the edit to send again."""
        return {
            c.field: c.mine
            for c, group in zip(self._conflicts, self._groups, strict=True)
            if group.checkedId() == 0
        }


def _field(name: str) -> str:
    return name.removesuffix("_id").replace("_", " ").capitalize()


def _shown(value: Any) -> str:
    return "(empty)" if value in (None, "") else str(value)
