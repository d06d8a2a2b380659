"""Marketing lists' controller: who may open the page (supervisors, managers and admins
on a shared database; everyone on the embedded one, which has a single user, as
Approvals' Switch user), and the page for the connected agent. The shell shows the page
as a tab and drops it when the connection (and so the agent) changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from ui.bridge import DatabaseBridge

if TYPE_CHECKING:  # SQLAlchemy is imported after the first paint
    from app.bootstrap import Services
    from ui.features.lists.page import MarketingListsPage

LIST_ROLES = ("supervisor", "manager", "admin")
TITLE = "Marketing lists"


def may_build_lists(services: Services) -> bool:
    return services.backend == "sqlite" or services.agent.role.value in LIST_ROLES


class ListsController(QObject):
    def __init__(self, bridge: DatabaseBridge, window: QWidget) -> None:
        super().__init__(window)
        self.bridge = bridge
        self.page: MarketingListsPage | None = None
        self.services: Services | None = None

    def page_for(self, services: Services) -> MarketingListsPage:
        """The page of this connection, made (and its choices loaded) on first use."""
        from ui.features.lists.page import MarketingListsPage

        if self.page is None or self.services is not services:
            self.services = services
            self.page = MarketingListsPage(services, self.bridge)
            self.bridge.spawn(self.page.load())
        return self.page

    def drop(self, forget_page: Callable[[QWidget], None]) -> None:
        """The connection changed: the page belonged to the old agent."""
        if self.page is not None:
            forget_page(self.page)
            self.page.deleteLater()
            self.page = None
            self.services = None
