"""The warning shown in the new-customer form when the person may exist already (S8).

A new agent saved a second "Eleanor Whitfield" with the same e-mail without a word,
and an e-mail search then found two. Before a new customer is saved, the form asks
the duplicate service (on the bridge's worker) for likely matches; if there are any,
this panel lists them with why (same e-mail, same phone, similar name...) and offers
"Open the existing one", the default button (Enter), or "Save as new anyway".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QPushButton, QVBoxLayout, QWidget

from ui.widgets import plain_label

if TYPE_CHECKING:
    from app.services.duplicates import Match


def describe_match(match: Match) -> str:
    contact = ", ".join((*match.emails[:1], *match.phones[:1])) or "no e-mail or phone"
    return f"{match.name} ({contact}): {', '.join(match.reasons)}"


class DuplicateWarning(QWidget):
    """Signals: open_existing(int) with the chosen customer's id; save_anyway()."""

    open_existing = Signal(int)
    save_anyway = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matches: tuple[Match, ...] = ()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = plain_label("This may be a customer we already have:", bold=True)
        layout.addWidget(self.title)
        self.list = QListWidget()
        self.list.setAccessibleName("Likely existing customers")
        self.list.setMaximumHeight(90)
        self.list.itemActivated.connect(lambda _item: self._open())
        layout.addWidget(self.list)
        buttons = QHBoxLayout()
        self.open_button = QPushButton("&Open the existing one")
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self._open)
        self.save_button = QPushButton("Save as &new anyway")
        self.save_button.setAutoDefault(False)
        self.save_button.clicked.connect(self.save_anyway.emit)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.hide()

    def show_matches(self, matches: list[Match]) -> None:
        self.matches = tuple(matches)
        self.list.clear()
        self.list.addItems([describe_match(m) for m in matches])
        self.list.setCurrentRow(0)
        self.show()
        self.open_button.setDefault(True)
        self.open_button.setFocus()

    def _open(self) -> None:
        row = max(self.list.currentRow(), 0)
        if row < len(self.matches):
            self.open_existing.emit(self.matches[row].customer_id)
