"""A small note in the window's corner when a supervisor's answer arrives while the agent
looks at another tab; it never takes the keyboard focus, and a click on it brings the
customer's tab forward. The window's taskbar entry flashes too when it is not active.

Signals:
    clicked(): the agent clicked the note.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QFrame, QVBoxLayout, QWidget

from ui.widgets import plain_label

TOAST_MS = 10_000


class AnswerToast(QFrame):
    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            parent,
            Qt.WindowType.Tool
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.WindowDoesNotAcceptFocus,
        )
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setObjectName("answerToast")
        self.setStyleSheet(
            "QFrame#answerToast { background: #1f2328; border-radius: 8px; }"
            " QLabel { color: #ffffff; }"
        )
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        self.title = plain_label("", bold=True, point_delta=1)
        self.text = plain_label("")
        self.text.setWordWrap(True)
        self.text.setMaximumWidth(420)
        self.hint = plain_label("Click to show the customer.")
        for label in (self.title, self.text, self.hint):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            layout.addWidget(label)
        self._timer = QTimer(self, singleShot=True, interval=TOAST_MS)
        self._timer.timeout.connect(self.hide)

    def show_answer(self, title: str, text: str, anchor: QWidget) -> None:
        self.title.setText(title)
        self.text.setText(text)
        self.adjustSize()
        window = anchor.window()
        corner = window.mapToGlobal(window.rect().bottomRight())
        self.move(corner.x() - self.width() - 16, corner.y() - self.height() - 48)
        self.show()
        self._timer.start()
        if not window.isActiveWindow():
            QApplication.alert(window)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.hide()
        self.clicked.emit()
        event.accept()
