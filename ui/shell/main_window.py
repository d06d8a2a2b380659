"""The main window: search on the left, open customers in tabs on the right, the banner
above, the wrap-up and the status bar below.

The shell builds the frame and wires the parts by their signals; each part owns its job:
- `ConnectionController` (connection.py): connecting after the first paint, retrying,
  switching databases, the database indicator, the GUI-thread SQL guard;
- `CallsController` (ui/features/calls/controller.py): call events, the pop, the toast,
  the call bar, the wrap-up, calls held while the database is down, click-to-call;
- `CustomerTabs` (tabs.py): customers and the call log, refreshed by the `Changes`
  the bridge publishes;
- `DraftsRecovery` (drafts.py), `Banner` (banner.py), `StatusIndicators` (status.py);
- `ApprovalsController` (ui/features/approvals/controller.py): the approvers' queue (F6),
  its notifications and availability heartbeat, the authority matrix, and single-user
  mode's "Switch user…" (which hands other services to `connection.act_as`);
- the menus and window keys, from the action registry (ui/actions.py).

Signals:
    ready(): connecting finished, connected or not (`connection.error` says why not).
    customer_shown(int): a customer tab was filled and shown.
    call_log_loaded(): the call log tab shows fresh rows.
    popped(str, float): a ringing call was shown (call id, ms from arrival to painted).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow, QSplitter, QVBoxLayout, QWidget

from app.config import Settings, user_data_dir
from app.drafts import DraftStore
from app.telephony.events import CallEvent
from ui import actions
from ui.bridge import DatabaseBridge
from ui.features.approvals import words as approval_words
from ui.features.approvals.controller import ApprovalsController
from ui.features.call_log.view import CallLogView
from ui.features.calls.controller import CallsController
from ui.features.dashboards import words as dashboard_words
from ui.features.duplicates.page import DuplicatesPage
from ui.features.lists.controller import TITLE as LISTS_TITLE
from ui.features.lists.controller import ListsController, may_build_lists
from ui.features.my_work.controller import MyWorkController
from ui.features.search.panel import SearchPanel
from ui.features.work.dial_warning import confirm_dial
from ui.shell.banner import Banner
from ui.shell.connection import ConnectionController
from ui.shell.drafts import DraftsRecovery
from ui.shell.status import StatusIndicators
from ui.shell.tabs import CustomerTabs
from ui.shortcuts import show_about, show_shortcuts

if TYPE_CHECKING:
    from app.bootstrap import Services
    from app.services.views import CallLogEntry
    from ui.features.authority.products import ProductLookup
    from ui.features.dashboards.page import DashboardsPage


class MainWindow(QMainWindow):
    ready = Signal()
    customer_shown = Signal(int)
    call_log_loaded = Signal()
    popped = Signal(str, float)

    def __init__(self, settings: Settings, bridge: DatabaseBridge) -> None:
        super().__init__()
        self.bridge = bridge
        self.setWindowTitle("Rapport")
        self.resize(1280, 760)
        self.drafts = DraftStore(user_data_dir() / "drafts")
        self.banner = Banner()
        self.connection = ConnectionController(settings, bridge, self.banner, self)
        self.search = SearchPanel(bridge)
        self.tabs = CustomerTabs(bridge, self.drafts)
        self.calls = CallsController(bridge, self.drafts, self.tabs, self)
        self.recovery = DraftsRecovery(self.drafts, bridge, self.tabs, self.calls, self)
        self.call_log: CallLogView | None = None  # made when first shown
        self.dashboards: DashboardsPage | None = None  # made when first shown (F7)
        self.product_lookup: ProductLookup | None = None  # open while shown (Ctrl+Shift+P)
        self.my_work = MyWorkController(
            bridge, self.tabs.open_customer, self, open_case=self.tabs.open_case
        )
        self.approvals = ApprovalsController(bridge, self, self._toast)
        self.duplicates: DuplicatesPage | None = None  # made when first shown (F8)
        self.lists = ListsController(bridge, self)
        self._approval_toast = ""  # the title of the last approval shown in the toast
        self._lay_out()
        self.indicators = StatusIndicators(
            self.statusBar(), bridge, self.calls.call_label, self.connection.db_label
        )
        self.statusBar().insertPermanentWidget(0, self.approvals.mode_label)
        self.statusBar().insertPermanentWidget(1, self.approvals.toggle)
        self._wire()
        self.menu_actions = actions.bind_menus(
            self,
            self.menuBar(),
            {
                "search.focus": self.search.focus_box,
                "customer.new": lambda: self.tabs.new_customer(self.search.box.text()),
                "products.lookup": self.show_product_lookup,
                "call_log.show": self.show_call_log,
                "my_work.show": self.show_my_work,
                "approvals.show": self.show_approvals,
                "dashboards.show": self.show_dashboards,
                "authority.matrix": self.approvals.show_matrix,
                "duplicates.show": self.show_duplicates,
                "lists.show": self.show_marketing_lists,
                "imports.wizard": self.show_import_wizard,
                "user.switch": self.approvals.show_switch_user,
                "tab.close": lambda: self.tabs.close_tab(self.tabs.currentIndex()),
                "tab.next": lambda: self.tabs.cycle(1),
                "tab.previous": lambda: self.tabs.cycle(-1),
                "tab.reopen": self.tabs.reopen_closed,
                "database.connection": lambda: self.connection.open_dialog(),
                "app.quit": self.close,
                "help.shortcuts": lambda: show_shortcuts(self),
                "help.about": lambda: show_about(self),
            },
        )

    def _lay_out(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.banner)
        outer.addWidget(self.recovery.panel)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.search)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setCollapsible(0, False)
        splitter.setSizes([380, 900])
        outer.addWidget(splitter, 1)
        outer.addWidget(self.calls.wrap_up)
        self.setCentralWidget(central)

    def _wire(self) -> None:
        connection, calls, tabs = self.connection, self.calls, self.tabs
        connection.connected.connect(self._connected)
        connection.disconnected.connect(self._disconnected)
        connection.failed.connect(self._failed)
        connection.feed_status.connect(self.indicators.adapter_status.set_status)
        connection.after_connect = lambda services: self.recovery.offer(services.database_identity)
        calls.popped.connect(self.popped)
        calls.customer_popped.connect(tabs.show_popped)
        calls.household_popped.connect(self.search.show_candidates)
        calls.new_caller.connect(self._new_caller)
        calls.new_case_from_call.connect(
            lambda customer, call, summary: tabs.new_case(customer, from_call=(call, summary))
        )
        calls.waiting_calls_changed.connect(self.banner.set_waiting_calls)
        calls.line_learnt.connect(self._line_learnt)
        self.search.open_requested.connect(tabs.open_customer)
        self.bridge.changed.connect(self.search.apply_changes)  # a listed customer renamed
        self.search.new_customer_requested.connect(tabs.new_customer)
        tabs.customer_shown.connect(self.customer_shown)
        self.indicators.call_log_button.clicked.connect(self.show_call_log)
        approvals = self.approvals
        approvals.count_changed.connect(self._approvals_count)
        approvals.open_requested.connect(self.show_approvals)
        approvals.switch_requested.connect(lambda login: self.bridge.spawn(self.switch_user(login)))
        for source in (connection, calls, tabs, self.recovery, approvals):
            source.message.connect(self.statusBar().showMessage)

    # -- the connection ----------------------------------------------------------------

    @property
    def services(self) -> Services | None:
        return self.connection.services

    @property
    def settings(self) -> Settings:
        return self.connection.settings

    async def connect_database(self) -> None:
        await self.connection.open()

    def _connected(self, services: Services) -> None:
        self._drop_call_log()  # made for other services (another agent)
        self.search.set_service(services.search)
        self.tabs.services = services
        self.calls.attach(services)
        self.approvals.attach(services)
        self.setWindowTitle(approval_words.window_title(services.agent))
        self.menu_actions["user.switch"].setVisible(services.backend == "sqlite")
        self.ready.emit()

    def _failed(self, _reason: str) -> None:
        self.ready.emit()
        self.calls.database_unavailable()

    def _disconnected(self) -> None:
        self.tabs.close_all()  # they belong to the old database
        self._drop_call_log()
        self.tabs.services = None
        self.calls.detach()
        self.recovery.panel.clear()

    # -- what the calls ask for ----------------------------------------------------------

    def _new_caller(self, number: str, event: CallEvent) -> None:
        """An unknown caller: the form, prefilled; saved, the call becomes theirs."""
        dialog = self.tabs.new_customer(number, name=event.name, staged=True)
        if dialog is not None:
            dialog.saved.connect(lambda saved: self.calls.caller_saved(event, saved))

    def _line_learnt(self, line: str) -> None:
        if self.call_log is not None:
            self.call_log.line = line

    def look_up(self, number: str) -> None:
        """A `tel:` link was opened: search the number (a sole match opens). Not a call."""
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()
        self.search.search_for(number)

    # -- the call log --------------------------------------------------------------------

    def show_call_log(self) -> None:
        """Open (or focus) the call log tab and reload it."""
        services = self.connection.services
        if services is None:
            return
        if self.call_log is None:
            view = CallLogView(services.calls, self.bridge, services.agent.login)
            view.line = self.calls.line
            view.open_customer_requested.connect(self.tabs.open_customer)
            view.new_customer_requested.connect(self.tabs.new_customer)
            view.dial_requested.connect(lambda entry: self.bridge.spawn(self.dial(entry)))
            view.model.modelReset.connect(self.call_log_loaded)
            self.call_log = view
        self.tabs.show_page(
            self.call_log,
            "call_log",
            "Call log",
            "Calls of this agent and line (Ctrl+L; Ctrl+W closes)",
        )
        self.call_log.table.setFocus()
        self.call_log.refresh()

    def _drop_call_log(self) -> None:
        if self.call_log is not None:
            self.tabs.forget_page(self.call_log)
            self.call_log.deleteLater()
            self.call_log = None
        self.my_work.drop(self.tabs.forget_page)
        self.approvals.detach(self.tabs.forget_page)
        if self.dashboards is not None:  # made for other services (another user)
            self.tabs.forget_page(self.dashboards)
            self.dashboards.deleteLater()
            self.dashboards = None
        self.lists.drop(self.tabs.forget_page)

    async def dial(self, entry: CallLogEntry) -> None:
        """Click-to-call, after warning when the customer asked not to be called there."""
        services = self.connection.services
        if services is None or not entry.number:
            return
        number: str | None = entry.number
        if entry.customer_id is not None:
            found = await self.bridge.run(
                services.commitments.dial_check, entry.customer_id, entry.number
            )
            number = await confirm_dial(self, found.check, entry.number, found.allowed_number)
        if number is None:
            return
        await self.calls.dial(dataclasses.replace(entry, number=number))

    # -- products --------------------------------------------------------------------------

    def show_product_lookup(self) -> None:
        """Price, stock per store and launches (Ctrl+Shift+P): a window beside the customer."""
        services = self.connection.services
        if services is None:
            return
        from ui.features.authority.products import show_product_lookup  # after the first paint

        if self.product_lookup is not None and self.product_lookup.isVisible():
            self.product_lookup.raise_()
            self.product_lookup.activateWindow()
            self.product_lookup.box.setFocus()
            return
        self.product_lookup = show_product_lookup(services.products, self.bridge, self)
        self.product_lookup.destroyed.connect(lambda: setattr(self, "product_lookup", None))

    # -- My work -------------------------------------------------------------------------

    def show_my_work(self) -> None:
        """Open (or focus) the My work tab and reload it (F4)."""
        services = self.connection.services
        if services is None:
            return
        panel = self.my_work.panel_for(services)
        self.tabs.show_page(panel, "cases", "My work", "Your cases, tasks and promises (F4)")
        panel.table.setFocus()
        panel.refresh()

    def show_duplicates(self) -> None:
        """Open (or focus) Duplicate customers (F8), made again for new services (after a
        reconnect or a switch of user, so merges are recorded as whoever acts now)."""
        services = self.connection.services
        if services is None:
            return
        if self.duplicates is None or self.duplicates.services is not services:
            if self.duplicates is not None:
                self.tabs.forget_page(self.duplicates)
            self.duplicates = DuplicatesPage(services, self.bridge)
            self.duplicates.open_customer_requested.connect(self.tabs.open_customer)
        self.tabs.show_page(self.duplicates, "customer", "Duplicates", "Duplicate customers (F8)")
        self.duplicates.table.setFocus()
        self.duplicates.refresh()

    def show_import_wizard(self) -> None:
        """Tools > Import customers…: admins (everyone on the embedded database)."""
        services = self.connection.services
        if services is None:
            return
        if services.backend != "sqlite" and services.agent.role.value != "admin":
            self.statusBar().showMessage("Imports are for admins (IT): ask one to run it.", 6000)
            return
        from ui.features.imports.wizard import ImportWizard

        wizard = ImportWizard(services, self.bridge, self)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.open()

    # -- Approvals and who acts ----------------------------------------------------------

    def show_approvals(self) -> None:
        """Open (or focus) the Approvals tab (F6): supervisors and managers only."""
        services = self.connection.services
        if services is None:
            return
        if not self.approvals.approver:
            role = approval_words.role_words(services.agent.role)
            self.statusBar().showMessage(
                f"Approvals are for supervisors and managers ({services.agent.display_name} "
                f"is {'an' if role[:1] in 'aeiou' else 'a'} {role}).",
                6000,
            )
            return
        page = self.approvals.page_for(services)
        self.tabs.show_page(
            page, "cases", self.approvals.title(), "Override requests waiting for you (F6)"
        )
        page.table.setFocus()
        self.approvals.refresh()

    def show_dashboards(self) -> None:
        """Open (or focus) the Dashboards tab (F7): supervisors, managers and admins."""
        services = self.connection.services
        if services is None:
            return
        if services.agent.role.value not in dashboard_words.ROLES:
            self.statusBar().showMessage(
                "Dashboards are for supervisors, managers and admins "
                f"({services.agent.display_name} is not).",
                6000,
            )
            return
        first = self.dashboards is None
        if self.dashboards is None:
            from ui.features.dashboards.page import DashboardsPage  # pyqtgraph: when first used

            self.dashboards = DashboardsPage(self.bridge, services.dashboards)
        self.tabs.show_page(
            self.dashboards, "cases", "Dashboards", "Figures beside the previous period (F7)"
        )
        self.dashboards.picker.setFocus()
        if first:
            self.bridge.spawn(self.dashboards.start())

    def show_marketing_lists(self) -> None:
        """Open (or focus) Marketing lists (Ctrl+Shift+M): supervisors, managers and
        admins; everyone on the embedded database (ui/features/lists/controller.py)."""
        services = self.connection.services
        if services is None:
            return
        if not may_build_lists(services):
            self.statusBar().showMessage(f"{LISTS_TITLE} are for supervisors and managers.", 6000)
            return
        page = self.lists.page_for(services)
        self.tabs.show_page(page, "cases", LISTS_TITLE, "Customers by purchase profile")
        page.bought.box.setFocus()

    def _approvals_count(self, _count: int) -> None:
        """The badge: "Approvals (2)" on the tab and in the Go menu."""
        title = self.approvals.title()
        self.menu_actions["approvals.show"].setText(f"&{title}")
        page = self.approvals.page
        if page is not None and self.tabs.indexOf(page) >= 0:
            self.tabs.setTabText(self.tabs.indexOf(page), title)

    def _toast(self, title: str, lines: list[str]) -> None:
        """An approval's in-app toast (no system tray): never over a ringing call's."""
        toast = self.calls.toast
        if toast.isVisible() and toast.title.text() != self._approval_toast:
            self.statusBar().showMessage(f"{title}: {lines[0] if lines else ''}", 10000)
            return
        self._approval_toast = title
        toast.show_call(title, lines, self.calls.anchor)

    async def switch_user(self, login: str) -> None:
        """Single-user mode: act as `login` from now (File > Switch user…)."""
        services = self.connection.services
        if services is None or services.backend != "sqlite":
            return
        try:
            acting = await self.bridge.run(services.acting_as_login, login)
        except Exception as exc:
            self.statusBar().showMessage(f"Could not switch to {login}: {exc}", 8000)
            return
        self.connection.act_as(acting)

    # -- closing -------------------------------------------------------------------------

    def keep_drafts_now(self) -> None:
        """Write what was typed in the last moments, then wait for the drafts writer."""
        self.tabs.keep_drafts_now()
        self.calls.wrap_up.keep_draft_now()
        self.drafts.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.keep_drafts_now()
        self.approvals.close()
        super().closeEvent(event)
