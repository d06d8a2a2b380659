"""The red line above the work: why the database is not there, and who rang meanwhile.

Two owners feed it: the connection (`ConnectionController`: cannot connect, lost,
restored) and the calls held while no database is connected
(`CallsController.waiting_calls_changed`). The banner keeps both and says them in one
text, so neither has to know about the other.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


class Banner(QLabel):
    def __init__(self) -> None:
        super().__init__()
        # As `plain_label`: the reason quotes the server, which must not render as markup.
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setObjectName("banner")
        self.setWordWrap(True)
        self.setStyleSheet("background: #fdecea; color: #611a15; padding: 6px 10px;")
        self._unavailable: str | None = None  # why connecting failed
        self._waiting: list[str] = []
        self.hide()

    def show_unavailable(self, reason: str) -> None:
        """Connecting failed: say why, how to change it and which calls wait."""
        self._unavailable = reason
        self._show_unavailable()

    def set_waiting_calls(self, numbers: list[str]) -> None:
        self._waiting = list(numbers)
        if self._unavailable is not None:
            self._show_unavailable()

    def _show_unavailable(self) -> None:
        text = f"Database unavailable: {self._unavailable}. File → Database connection… changes it."
        if self._waiting:
            text += (
                f"\nCalls not looked up: {', '.join(self._waiting)} "
                "(they pop when the database connects)."
            )
        self.setText(text)
        self.show()

    def show_offline(self, message: str) -> None:
        """A connected database stopped answering; the connection retries."""
        self.setText(
            "The database is unreachable; retrying every few seconds. Open customers stay "
            f"readable and what you type is kept. ({message})"
        )
        self.show()

    def clear(self) -> None:
        self._unavailable = None
        self.hide()
