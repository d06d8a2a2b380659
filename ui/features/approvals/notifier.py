"""A desktop notification for each new request: the system tray's message when the
desktop has a tray, else the in-app toast the shell hands over (the calls' toast).

Signals:
    clicked(): the approver clicked the tray message (the shell opens Approvals).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from ui.icons import icon

MESSAGE_MS = 10_000


class DesktopNotifier(QObject):
    clicked = Signal()

    def __init__(self, toast: Callable[[str, list[str]], None], parent: QWidget) -> None:
        super().__init__(parent)
        self._toast = toast
        self._window = parent
        self.tray: QSystemTrayIcon | None = None
        self.shown: list[tuple[str, str]] = []  # what was said, newest last (tests read it)

    @staticmethod
    def tray_available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages()

    def show(self, title: str, lines: list[str]) -> None:
        self.shown.append((title, "\n".join(lines)))
        if self.tray_available():
            tray = self._tray()
            tray.showMessage(
                title, "\n".join(lines), QSystemTrayIcon.MessageIcon.Information, MESSAGE_MS
            )
        else:
            self._toast(title, lines)
        QApplication.alert(self._window)  # the taskbar entry flashes until looked at

    def _tray(self) -> QSystemTrayIcon:
        if self.tray is None:
            window_icon = self._window.windowIcon()
            self.tray = QSystemTrayIcon(
                window_icon if not window_icon.isNull() else icon("cases"), self
            )
            self.tray.setToolTip("Rapport: approvals")
            self.tray.messageClicked.connect(self.clicked)
            self.tray.show()
        return self.tray

    def close(self) -> None:
        if self.tray is not None:
            self.tray.hide()
            self.tray.deleteLater()
            self.tray = None
