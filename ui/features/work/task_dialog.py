"""Task progress: start a handed-off task, finish it with what was done, or cancel it.

Each step is an operation (app/operations/work.py) that writes a TASK event on the case
timeline. A conflict (someone else moved the task on) is shown as its sentence.
Opened with open(), never exec() (a nested loop breaks qasync).

Signals:
    saved(object): the TaskRow after the step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError
from ui.bridge import DatabaseBridge
from ui.widgets import plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services


class TaskProgressDialog(QDialog):
    saved = Signal(object)

    def __init__(
        self,
        services: Services,
        bridge: DatabaseBridge,
        task_id: int,
        version: int,
        title: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.bridge = bridge
        self.task_id = task_id
        self.version = version
        self.setWindowTitle("Task progress")
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(title, bold=True))
        layout.addWidget(plain_label("What was done (to finish), or why not (to cancel):"))
        self.outcome = QPlainTextEdit()
        self.outcome.setAccessibleName("Outcome")
        self.outcome.setTabChangesFocus(True)
        layout.addWidget(self.outcome)
        self.error = plain_label("")
        self.error.setStyleSheet("color: #c62828;")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox()
        self.start_button = QPushButton("&Start")
        self.done_button = QPushButton("&Done")
        self.cancel_task_button = QPushButton("Cancel &task")
        for button in (self.start_button, self.done_button, self.cancel_task_button):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.start_button.clicked.connect(lambda: self._step("start"))
        self.done_button.clicked.connect(lambda: self._step("done"))
        self.cancel_task_button.clicked.connect(lambda: self._step("cancel"))
        layout.addWidget(buttons)

    def _step(self, step: str) -> None:
        self.bridge.spawn(self.run_step(step))

    async def run_step(self, step: str) -> Any:
        from app.operations import work as work_ops

        text = self.outcome.toPlainText()
        try:
            if step == "start":
                row = await self.bridge.perform(
                    work_ops.start_task, self.services, self.task_id, self.version
                )
            elif step == "done":
                row = await self.bridge.perform(
                    work_ops.complete_task, self.services, self.task_id, self.version, text
                )
            else:
                row = await self.bridge.perform(
                    work_ops.cancel_task, self.services, self.task_id, self.version, text
                )
        except UserError as exc:
            self.error.setText(str(exc))
            return None
        self.version = row.version
        self.saved.emit(row)
        self.accept()
        return row
