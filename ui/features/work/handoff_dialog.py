"""Hand off: give a part of a case to a department (warehouse, delivery, IT, billing,
stores...) with a title, a due time and, optionally, who in that department takes it.

Runs `app.operations.work.hand_off`; the task and a HANDOFF event land on the case.
The case tab offers it as "Hand off" (the integrator wires the button).

Signals:
    saved(object): the TaskRow made.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError
from ui.bridge import DatabaseBridge
from ui.widgets import plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services
    from app.services.handoffs import DepartmentRow


def to_utc(edit: QDateTimeEdit) -> dt.datetime:
    """The local date and time typed, as aware UTC."""
    d, t = edit.date(), edit.time()
    local = dt.datetime(d.year(), d.month(), d.day(), t.hour(), t.minute())
    return local.astimezone().astimezone(dt.UTC)


def qt_local(moment: dt.datetime) -> QDateTime:
    """A datetime (aware: shown in the local zone; naive: taken as local) for Qt."""
    m = moment.astimezone().replace(tzinfo=None) if moment.tzinfo else moment
    return QDateTime(m.year, m.month, m.day, m.hour, m.minute, 0)


def date_time_edit(initial: dt.datetime) -> QDateTimeEdit:
    edit = QDateTimeEdit(qt_local(initial))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("ddd d MMM yyyy HH:mm")
    return edit


class HandoffDialog(QDialog):
    saved = Signal(object)

    def __init__(
        self,
        services: Services,
        bridge: DatabaseBridge,
        case_id: int,
        departments: list[DepartmentRow],
        now: dt.datetime,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.bridge = bridge
        self.case_id = case_id
        self.setWindowTitle("Hand off")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.department = QComboBox()
        for department in departments:
            self.department.addItem(department.name, department.id)
        form.addRow("&Department", self.department)
        self.title = QLineEdit()
        self.title.setMaxLength(200)
        form.addRow("&Title", self.title)
        self.description = QPlainTextEdit()
        self.description.setTabChangesFocus(True)
        form.addRow("D&etails", self.description)
        self.due = date_time_edit(now + dt.timedelta(days=1))
        form.addRow("D&ue", self.due)
        self.assignee = QComboBox()
        self.assignee.setAccessibleName("Assignee")
        form.addRow("&Assignee", self.assignee)
        self._departments = {d.id: d for d in departments}
        self.department.currentIndexChanged.connect(self._fill_assignees)
        self._fill_assignees()
        layout.addLayout(form)
        self.error = plain_label("")
        self.error.setStyleSheet("color: #c62828;")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(lambda: self.bridge.spawn(self.save()))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _fill_assignees(self) -> None:
        """The chosen department's queue (anyone there) or one of its staff."""
        self.assignee.clear()
        self.assignee.addItem("Department queue (anyone there)", None)
        department = self._departments.get(self.department.currentData())
        for user_id, name in department.staff if department else ():
            self.assignee.addItem(name, user_id)

    async def save(self) -> Any:
        from app.operations import work as work_ops

        assignee = self.assignee.currentData()
        try:
            row = await self.bridge.perform(
                work_ops.hand_off,
                self.services,
                self.case_id,
                self.department.currentData(),
                self.title.text(),
                self.description.toPlainText(),
                to_utc(self.due),
                assignee,
            )
        except UserError as exc:
            self.error.setText(str(exc))
            return None
        self.saved.emit(row)
        self.accept()
        return row
