"""My work's controller: makes the panel for the connected agent and opens the task
progress dialog from it. The shell shows the panel as a tab (F4) and drops it when
the connection (and so the agent) changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from ui.bridge import DatabaseBridge
from ui.features.my_work.panel import MyWorkPanel
from ui.features.work.task_dialog import TaskProgressDialog

if TYPE_CHECKING:
    from app.bootstrap import Services
    from app.services.my_work import WorkItem


class MyWorkController(QObject):
    def __init__(
        self,
        bridge: DatabaseBridge,
        open_customer: Callable[[int], None],
        window: QWidget,
        open_case: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(window)
        self.bridge = bridge
        self.open_customer = open_customer
        self.open_case = open_case
        self.window = window
        self.panel: MyWorkPanel | None = None
        self.services: Services | None = None
        self.dialog: TaskProgressDialog | None = None

    def panel_for(self, services: Services) -> MyWorkPanel:
        if self.panel is None or self.services is not services:
            self.services = services
            self.panel = MyWorkPanel(services.my_work.items, self.bridge)
            self.panel.open_customer_requested.connect(self.open_customer)
            if self.open_case is not None:
                self.panel.open_case_requested.connect(self.open_case)
            self.panel.task_progress_requested.connect(self.show_progress)
        return self.panel

    def show_progress(self, item: WorkItem) -> None:
        if self.services is None:
            return
        self.dialog = TaskProgressDialog(
            self.services, self.bridge, item.id, item.version, item.what, self.window
        )
        self.dialog.open()

    def drop(self, forget_page: Callable[[QWidget], None]) -> None:
        """The connection changed: the panel belonged to the old agent."""
        if self.panel is not None:
            forget_page(self.panel)
            self.panel.deleteLater()
            self.panel = None
            self.services = None
