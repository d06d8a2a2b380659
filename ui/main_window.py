"""The main window: search on the left, open customers in tabs on the right.

It paints at once and connects to the database afterwards, on a worker thread.

Signals:
    ready(): services are connected (or failed: see `connection_error`).
    customer_shown(int): a customer tab was filled and shown.
"""

from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.bootstrap import Services, ensure_demo_data, open_services
from app.config import Settings, user_data_dir
from app.drafts import DraftStore
from app.errors import UserError
from app.services.views import CustomerView
from models.database import DatabaseError, check_connection
from ui.bridge import DatabaseBridge
from ui.customer_panel import CustomerPanel, plain_label
from ui.icons import icon
from ui.search_panel import SearchPanel
from ui.shortcuts import ShortcutsDialog

log = logging.getLogger(__name__)
RECENTLY_CLOSED = 10
RETRY_MS = 5000


class MainWindow(QMainWindow):
    ready = Signal()
    customer_shown = Signal(int)

    def __init__(self, settings: Settings, bridge: DatabaseBridge) -> None:
        super().__init__()
        self.settings = settings
        self.bridge = bridge
        self.services: Services | None = None
        self.connection_error: str | None = None
        self._closed: list[int] = []
        self.setWindowTitle("Rapport")
        self.resize(1280, 760)

        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.banner = plain_label("")
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("background: #fdecea; color: #611a15; padding: 6px 10px;")
        self.banner.hide()
        outer.addWidget(self.banner)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.search = SearchPanel(bridge)
        self.search.open_requested.connect(self.open_customer)
        self.search.new_customer_requested.connect(self.new_customer)
        splitter.addWidget(self.search)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Open customers")
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.placeholder = plain_label(
            "Find a customer: Ctrl+K, then a phone number, e-mail, order number, "
            "case reference or name."
        )
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.tabs.addTab(self.placeholder, "Start")
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setCollapsible(0, False)
        splitter.setSizes([380, 900])
        outer.addWidget(splitter, 1)
        self.setCentralWidget(central)

        self.db_label = QLabel("Connecting…")
        self.busy_label = QLabel("")
        self.statusBar().addPermanentWidget(self.busy_label)
        self.statusBar().addPermanentWidget(self.db_label)
        bridge.busy_changed.connect(self._show_busy)
        bridge.connection_lost.connect(self._connection_lost)
        self._retry = QTimer(self, interval=RETRY_MS)
        self._retry.timeout.connect(lambda: self.bridge.spawn(self._check_connection()))
        self.drafts = DraftStore(user_data_dir() / "drafts.json")
        self._install_shortcuts()

    def _install_shortcuts(self) -> None:
        bindings = [
            ("Ctrl+K", self.search.focus_box),
            ("F3", self.search.focus_box),
            ("Ctrl+W", lambda: self.close_tab(self.tabs.currentIndex())),
            ("Ctrl+Tab", lambda: self._cycle(1)),
            ("Ctrl+Shift+Tab", lambda: self._cycle(-1)),
            ("Ctrl+Shift+T", self.reopen_closed),
            ("Ctrl+N", lambda: self.new_customer(self.search.box.text())),
            ("F1", self.show_shortcuts),
            ("Ctrl+/", self.show_shortcuts),
        ]
        for keys, slot in bindings:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)

    def new_customer(self, typed: str) -> None:
        """Quick-create, prefilled with what was searched; nothing is saved until Save."""
        if self.services is None:
            return
        from ui.contact_dialog import ContactDialog, prefilled

        dialog = ContactDialog(
            prefilled(typed),
            self.services.contacts,
            self.bridge,
            actor=str(self.settings.values.get("user") or "local"),
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda saved: self.open_customer(saved.customer_id))
        self.new_customer_dialog = dialog
        dialog.open()

    def show_shortcuts(self) -> None:
        dialog = ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def _show_busy(self, busy: bool) -> None:
        self.busy_label.setText("Working…" if busy else "")

    def _connection_lost(self, message: str) -> None:
        self.banner.setText(
            "The database is unreachable; retrying every few seconds. Open customers stay "
            f"readable and what you type is kept. ({message})"
        )
        self.banner.show()
        self.db_label.setText("Offline")
        if not self._retry.isActive():
            self._retry.start()

    async def _check_connection(self) -> None:
        if self.services is None:
            return
        try:
            await self.bridge.run(check_connection, self.services.engine)
        except Exception:
            return  # still down: the banner stays, the timer tries again
        self._retry.stop()
        self.banner.hide()
        self.db_label.setText(self._where())
        self.statusBar().showMessage("Database connection restored.", 5000)

    def _where(self) -> str:
        assert self.services is not None
        if self.settings.is_demo:
            return f"{self.services.backend}: demo database"
        url = self.services.engine.url.render_as_string(hide_password=True)
        return f"{self.services.backend}: {url}"

    # -- connecting ------------------------------------------------------------------

    async def connect_database(self) -> None:
        try:
            services = await self.bridge.run(open_services, self.settings)
            if self.settings.is_demo:
                self.db_label.setText("Preparing the demo database…")
                await self.bridge.run(ensure_demo_data, services)
        except (DatabaseError, UserError) as exc:
            self._fail(str(exc))
            return
        except Exception as exc:
            log.exception("opening the database failed")
            self._fail(f"cannot open the database: {exc}")
            return
        self.services = services
        self.search.set_service(services.search)
        where = (
            "demo database"
            if self.settings.is_demo
            else services.engine.url.render_as_string(hide_password=True)
        )
        self.db_label.setText(f"{services.backend}: {where}")
        self.ready.emit()

    def _fail(self, message: str) -> None:
        self.connection_error = message
        self.banner.setText(f"Database unavailable: {message}")
        self.banner.show()
        self.db_label.setText("Not connected")
        self.ready.emit()

    # -- tabs ------------------------------------------------------------------------

    def open_customer(self, customer_id: int) -> None:
        for index in range(self.tabs.count()):
            panel = self.tabs.widget(index)
            if isinstance(panel, CustomerPanel) and panel.customer_id == customer_id:
                self.tabs.setCurrentIndex(index)
                return
        self.bridge.spawn(self.load_customer(customer_id))

    async def load_customer(self, customer_id: int) -> CustomerPanel | None:
        if self.services is None:
            return None
        try:
            data = await self.bridge.run(self.services.customers.load_customer, customer_id)
        except UserError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return None
        except Exception as exc:
            log.exception("loading customer %s failed", customer_id)
            self.statusBar().showMessage(f"Could not open the customer: {exc}", 8000)
            return None
        for index in range(self.tabs.count()):  # opened twice quickly: keep one
            existing = self.tabs.widget(index)
            if isinstance(existing, CustomerPanel) and existing.customer_id == customer_id:
                self.tabs.setCurrentIndex(index)
                return existing
        panel = self._make_panel(data)
        placeholder = self.tabs.indexOf(self.placeholder)
        if placeholder >= 0:
            self.tabs.removeTab(placeholder)
        index = self.tabs.addTab(panel, icon("customer"), data.header.name)
        self.tabs.setTabToolTip(index, f"{data.header.name} (Ctrl+W closes)")
        self.tabs.setCurrentIndex(index)
        self.customer_shown.emit(customer_id)
        return panel

    def _make_panel(self, data: CustomerView) -> CustomerPanel:
        assert self.services is not None
        panel = CustomerPanel(
            data, self.services, self.bridge, today=dt.date.today(), drafts=self.drafts
        )
        panel.open_customer_requested.connect(self.open_customer)
        panel.reload_requested.connect(lambda cid: self.bridge.spawn(self.reload_customer(cid)))
        return panel

    async def reload_customer(self, customer_id: int) -> None:
        """Replace an open customer's tab with freshly loaded data, in place."""
        if self.services is None:
            return
        data = await self.bridge.run(self.services.customers.load_customer, customer_id)
        for index in range(self.tabs.count()):
            old = self.tabs.widget(index)
            if isinstance(old, CustomerPanel) and old.customer_id == customer_id:
                section = old.sections.currentIndex()
                panel = self._make_panel(data)
                panel.sections.setCurrentIndex(section)
                current = self.tabs.currentIndex()
                self.tabs.removeTab(index)
                self.tabs.insertTab(index, panel, icon("customer"), data.header.name)
                self.tabs.setCurrentIndex(current)
                old.deleteLater()
                self.customer_shown.emit(customer_id)
                return

    def close_tab(self, index: int) -> None:
        panel = self.tabs.widget(index)
        if not isinstance(panel, CustomerPanel):
            return
        self._closed.append(panel.customer_id)
        del self._closed[:-RECENTLY_CLOSED]
        self.tabs.removeTab(index)
        panel.deleteLater()
        if self.tabs.count() == 0:
            self.tabs.addTab(self.placeholder, "Start")

    def reopen_closed(self) -> None:
        if self._closed:
            self.open_customer(self._closed.pop())

    def _cycle(self, step: int) -> None:
        if self.tabs.count() > 1:
            self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % self.tabs.count())

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
