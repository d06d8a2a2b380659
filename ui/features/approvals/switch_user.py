"""Single-user mode (the embedded SQLite database): act as another staff member.

The embedded database has no logins, so a demo plays S7 by switching between an agent
and a supervisor. The dialog offers a short list of the active staff (`Services.staff_logins`):
the first two of each role (agent01, agent02, senior01, …, super01, super02, manager01,
admin), with the one acting now marked. Enter (or double-click) switches.

Signals:
    chosen(str): the login to act as.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from models.enums import Role
from ui.bridge import DatabaseBridge
from ui.features.approvals import words
from ui.widgets import plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services

log = logging.getLogger(__name__)
PER_ROLE = 2
ORDER = (Role.AGENT, Role.SENIOR_AGENT, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)
LOGIN = Qt.ItemDataRole.UserRole


def short_list(
    staff: list[tuple[str, str, Role]], per_role: int = PER_ROLE
) -> list[tuple[str, str, Role]]:
    """(login, display name, role): the first `per_role` of each role, by login."""
    chosen: list[tuple[str, str, Role]] = []
    for role in ORDER:
        members = sorted((m for m in staff if m[2] == role), key=lambda m: m[0])
        chosen.extend(members[:per_role])
    return chosen


class SwitchUserDialog(QDialog):
    chosen = Signal(str)

    def __init__(self, services: Services, bridge: DatabaseBridge, parent: QWidget) -> None:
        super().__init__(parent)
        self.services = services
        self.bridge = bridge
        self.setWindowTitle("Switch user")
        layout = QVBoxLayout(self)
        intro = plain_label(
            "Single-user mode: the embedded database has no logins. Act as another "
            "staff member to play both sides of an approval (an agent asks, a "
            "supervisor decides). Open customer tabs close."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.list = QListWidget()
        self.list.setAccessibleName("Staff to act as")
        self.list.itemActivated.connect(lambda _item: self._accept())
        layout.addWidget(self.list, 1)
        self.status = plain_label("Loading the staff list…")
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.switch_button = buttons.addButton("&Switch", QDialogButtonBox.ButtonRole.AcceptRole)
        self.switch_button.setDefault(True)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(420, 380)

    def reload(self) -> None:
        self.bridge.spawn(self._load())

    async def _load(self) -> None:
        try:
            members = await self.bridge.run(staff_short_list, self.services)
        except Exception as exc:
            log.warning("loading the staff list failed", exc_info=True)
            if shiboken6.isValid(self):
                self.status.setText(f"Could not load the staff list: {exc}")
            return
        if not shiboken6.isValid(self):
            return
        self.list.clear()
        current = self.services.agent.login
        for login, name, role in members:
            mark = "  (acting now)" if login == current else ""
            item = QListWidgetItem(f"{login} — {name}, {words.role_words(role)}{mark}")
            item.setData(LOGIN, login)
            self.list.addItem(item)
        self.status.setText("Enter switches to the one selected.")
        row = next(
            (n for n, m in enumerate(members) if m[0] != current),
            0,
        )
        self.list.setCurrentRow(row)
        self.list.setFocus()

    def logins(self) -> list[str]:
        return [self.list.item(n).data(LOGIN) for n in range(self.list.count())]

    def choose(self, login: str) -> None:
        """Select `login` in the list (tests, and typing a login)."""
        for n in range(self.list.count()):
            if self.list.item(n).data(LOGIN) == login:
                self.list.setCurrentRow(n)

    def _accept(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        login = str(item.data(LOGIN))
        self.accept()
        if login != self.services.agent.login:
            self.chosen.emit(login)


def staff_short_list(services: Services) -> list[tuple[str, str, Role]]:
    """Runs on a worker: the short list of staff to act as."""
    return short_list(services.staff_logins())
