"""The main window: search on the left, open customers in tabs on the right.

It paints at once and connects to the database afterwards, on a worker thread.

Signals:
    ready(): services are connected (or failed: see `connection_error`).
    customer_shown(int): a customer tab was filled and shown.
    call_log_loaded(): the call log tab shows fresh rows.
    popped(str, float): a ringing call was shown (call id, ms from arrival to painted).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.config import Settings, describe_database, user_data_dir
from app.drafts import Draft, DraftStore
from app.errors import KeyReusedError, UserError
from app.services.views import CallLogEntry, CustomerView
from app.telephony.events import CallEvent, CallState
from models.errors import DatabaseError
from ui import actions
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.drafts_panel import RecoveredDraftsPanel
from ui.features.call_log.view import CallLogView
from ui.features.calls.widgets import AdapterStatusBar, CallToast, WrapUpPanel
from ui.features.customer.panel import CustomerPanel
from ui.features.search.panel import SearchPanel
from ui.icons import icon
from ui.shortcuts import ShortcutsDialog
from ui.widgets import plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services
    from app.services.calls import CallRecord

# This module paints the first window, so it does not import the core (app.bootstrap,
# app.services.*, models.database: SQLAlchemy, Alembic) at the top: `connect_database`
# loads it on a worker after the first paint (see "Start-up" in docs/architecture.md).

log = logging.getLogger(__name__)
RECENTLY_CLOSED = 10
RETRY_MS = 5000
HELD_CALLS_MAX = 50  # calls kept while the database is down; older ones are only logged
UNENCRYPTED_TIP = (
    "The connection to the database server is not encrypted: customer data and the "
    "password cross the network readable. Ask IT for sslmode=verify-full in the URL."
)


def missed_call_message(number: str | None, record: CallRecord) -> str:
    """What the status bar says of a missed call: a callback task only when one exists."""
    if record.callback_task_id is not None:
        return f"Missed call from {number}: a callback task was created (call log: Ctrl+L)."
    if not number:
        return "Missed call from a withheld number: no number to call back."
    return f"Missed call from {number} (call log: Ctrl+L); no callback task was created."


class MainWindow(QMainWindow):
    ready = Signal()
    customer_shown = Signal(int)
    call_log_loaded = Signal()
    popped = Signal(str, float)

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
        self.recovered_drafts = RecoveredDraftsPanel()
        self.recovered_drafts.open_requested.connect(
            lambda draft: self.bridge.spawn(self.open_draft(draft))
        )
        self.recovered_drafts.discard_requested.connect(self.discard_draft)
        outer.addWidget(self.recovered_drafts)

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
        self.wrap_up = WrapUpPanel()
        self.wrap_up.submitted.connect(lambda *args: self.bridge.spawn(self._save_wrap_up(*args)))
        outer.addWidget(self.wrap_up)
        self.setCentralWidget(central)
        self.toast = CallToast()
        self.calls: dict[str, dict[str, Any]] = {}
        self.pop_log = logging.getLogger("rapport.pop")

        self.call_label = QLabel("")
        self.statusBar().addPermanentWidget(self.call_label)
        self.call_log_button = QToolButton()
        self.call_log_button.setIcon(icon("call_log"))
        self.call_log_button.setText("Call log")
        self.call_log_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.call_log_button.setAutoRaise(True)
        self.call_log_button.setToolTip(actions.tooltip("call_log.show"))
        self.call_log_button.clicked.connect(self.show_call_log)
        self.statusBar().addPermanentWidget(self.call_log_button)
        self.adapter_status = AdapterStatusBar()
        self.adapter_status.setAccessibleName("Telephony status")
        self.statusBar().addPermanentWidget(self.adapter_status)
        self.telephony: Any = None  # the TelephonyHub, for click-to-call (set by ui.main)
        self.call_log: CallLogView | None = None
        self.call_line: str | None = None  # the line our calls ring on, learnt from them
        self.db_label = QLabel("Connecting…")
        self.busy_label = QLabel("")
        self.statusBar().addPermanentWidget(self.busy_label)
        self.statusBar().addPermanentWidget(self.db_label)
        bridge.busy_changed.connect(self._show_busy)
        bridge.connection_lost.connect(self._connection_lost)
        self._call_timer = QTimer(self, interval=1000)
        self._call_timer.timeout.connect(self._tick_call)
        self._retry = QTimer(self, interval=RETRY_MS)
        self._retry.timeout.connect(lambda: self.bridge.spawn(self._check_connection()))
        self.drafts = DraftStore(user_data_dir() / "drafts")
        self.wrap_up.drafts = self.drafts
        # Calls that ring while no database is connected: popped in order once it is.
        self.held_calls: list[CallEvent] = []
        self.sql_guard: Any = None  # app.sql_guard.GuiThreadSqlGuard, once connected
        self._install_actions()

    def _install_actions(self) -> None:
        """The window's actions and menus, from the registry (ui/actions.py)."""
        slots = {
            "search.focus": self.search.focus_box,
            "customer.new": lambda: self.new_customer(self.search.box.text()),
            "call_log.show": self.show_call_log,
            "tab.close": lambda: self.close_tab(self.tabs.currentIndex()),
            "tab.next": lambda: self._cycle(1),
            "tab.previous": lambda: self._cycle(-1),
            "tab.reopen": self.reopen_closed,
            "database.connection": lambda: self.open_connection_dialog(),
            "app.quit": self.close,
            "help.shortcuts": self.show_shortcuts,
            "help.about": self.show_about,
        }
        bound: dict[str, QAction] = {
            name: actions.bind(name, self, slot) for name, slot in slots.items()
        }
        for title in actions.MENUS:
            menu = self.menuBar().addMenu(title)
            for spec in actions.ACTIONS:
                if spec.menu == title:
                    if spec.id == "app.quit":
                        menu.addSeparator()
                    menu.addAction(bound[spec.id])
        self.connection_action = bound["database.connection"]

    def show_adapter_status(self, name: str, status: str, detail: str) -> None:
        self.adapter_status.set_status(name, status, detail)

    def look_up(self, number: str) -> None:
        """A `tel:` link was opened: search the number (a sole match opens). Not a call."""
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()
        self.search.search_for(number)

    # -- calls ----------------------------------------------------------------------

    def handle_call(self, event: CallEvent) -> None:
        """Entry point for every call event, whatever its source."""
        if self.services is None:
            # Not connected (yet): keep it, pop it once connected; while the database
            # is known to be down, show the agent who rings rather than nothing.
            self.held_calls.append(event)
            if len(self.held_calls) > HELD_CALLS_MAX:
                dropped = self.held_calls.pop(0)
                log.warning("database down: call %s no longer held", dropped.call_id)
            if self.connection_error is not None:
                self._show_held_calls()
            return
        self.bridge.spawn(self._on_call(event))

    def _held_numbers(self) -> list[str]:
        numbers = [
            e.number or "withheld number" for e in self.held_calls if e.state == CallState.RINGING
        ]
        return list(dict.fromkeys(numbers))

    def _show_held_calls(self) -> None:
        numbers = self._held_numbers()
        if not numbers:
            return
        title = (
            f"Incoming call: {numbers[0]}"
            if len(numbers) == 1
            else f"{len(numbers)} incoming calls"
        )
        lines = [*numbers[-5:], "Database unavailable: cannot look up the caller"]
        self.toast.show_call(title, lines, self.tabs)
        self._show_failure_banner()

    def _show_failure_banner(self) -> None:
        text = (
            f"Database unavailable: {self.connection_error}. "
            "File → Database connection… changes it."
        )
        numbers = self._held_numbers()
        if numbers:
            text += (
                f"\nCalls not looked up: {', '.join(numbers)} "
                "(they pop when the database connects)."
            )
        self.banner.setText(text)
        self.banner.show()

    async def _pop_held_calls(self) -> None:
        held, self.held_calls = self.held_calls, []
        for event in held:  # in order: a call's ringing before its answer and hang-up
            await self._on_call(event)

    async def _on_call(self, event: CallEvent) -> None:
        if self.services is None:
            self.handle_call(event)  # the database went away meanwhile: hold it
            return
        if event.state == CallState.RINGING:
            await self._ringing(event)
        elif event.state == CallState.ANSWERED:
            await self._answered(event)
        else:
            await self._ended(event)

    async def _ringing(self, event: CallEvent) -> None:
        assert self.services is not None
        if event.line:
            self.call_line = event.line
            if self.call_log is not None:
                self.call_log.line = event.line
        # One trip to the worker: who is it and, for one match, their record.
        try:
            match, data = await self.bridge.run(self.services.calls.ring, event)
        except Exception as exc:  # the pop must not vanish silently: say why
            log.exception("pop of call %s failed", event.call_id)
            self.statusBar().showMessage(f"Incoming call {event.number}: lookup failed ({exc})")
            return
        from app import phones  # loaded with the services

        shown = phones.display(match.e164 or event.number, self.settings.default_region)
        call = {
            "match": match,
            "customer_id": match.customer_id,
            "case_id": match.case_id,
            "name": event.name or shown or "withheld number",
            "number_shown": shown,  # as every screen shows numbers (app/phones.display)
        }
        self.calls[event.call_id] = call
        QApplication.alert(self)
        if self.settings.values.get("bring_to_front"):
            self.raise_()
            self.activateWindow()
        if match.result == "one" and match.customer_id is not None:
            panel = self.show_customer(data) if data is not None else None
            if panel is not None:
                panel.repaint()  # painted before the agent answers: that is the point
                call["name"] = panel.data.header.name
                self._toast_for(panel, match.case_id)
        elif match.result == "several":
            self.search.show_candidates(match.customers, f"Incoming call from {shown}")
            self.toast.show_call(
                f"Incoming call: {shown}",
                [
                    f"{len(match.customers)} customers share this number",
                    "Pick one in the list on the left",
                ],
                self.tabs,
            )
        elif match.result == "none":
            self.toast.show_call(
                f"Incoming call: {shown}",
                [event.name or "Unknown caller", "A new-customer form is ready"],
                self.tabs,
            )
            self.new_customer(event.number, caller=event)
        else:
            self.toast.show_call(
                "Incoming call: withheld number",
                ["Ask for a name or order number and search (Ctrl+K)"],
                self.tabs,
            )
        latency = (time.perf_counter() - event.received_monotonic) * 1000
        from app.services.calls import pop_log_line  # loaded with the services

        self.pop_log.info(pop_log_line(event, match, latency))
        self.popped.emit(event.call_id, latency)
        # After the paint: the call is in the call log as rung even if its source
        # never reports the answer or the hang-up (`rapport pop`).
        try:
            await self.bridge.run(self.services.calls.record_ring, event, match)
        except Exception:  # the pop is shown; the log misses one ring, say so in the log
            log.exception("recording the ring of call %s failed", event.call_id)
        self._refresh_call_log()

    def _toast_for(self, panel: CustomerPanel, case_id: int | None) -> None:
        header = panel.data.header
        lines = [f"{header.tier.title()} · {fmt.plural(header.open_cases, 'open case')}"]
        if header.broken_commitments or header.overdue_commitments:
            lines.append(
                f"{header.broken_commitments} broken, {header.overdue_commitments} overdue promises"
            )
        soon = [k for k in panel.data.key_dates if k.days_until <= 14]
        if soon:
            first = soon[0]
            what = first.label or first.kind.replace("_", " ")
            lines.append(f"{what}: {fmt.relative_day(first.next_on, panel.data.today)}")
        if case_id is not None:
            case = next((c for c in panel.data.cases if c.id == case_id), None)
            if case is not None:
                panel.sections.setCurrentIndex(2)
                lines.append(f"Recent case {case.reference}: {case.subject}")
        self.toast.show_call(f"Incoming call: {header.name}", lines, self.tabs)

    async def _answered(self, event: CallEvent) -> None:
        assert self.services is not None
        call = self.calls.setdefault(
            event.call_id, {"customer_id": None, "case_id": None, "name": event.number}
        )
        call["interaction_id"] = await self.bridge.run(
            self.services.calls.answered,
            event,
            call["customer_id"],
            call["case_id"],
            self.services.agent.login,
        )
        call["answered"] = time.monotonic()
        self.toast.hide()
        self._call_timer.start()
        self._tick_call()

    async def _ended(self, event: CallEvent) -> None:
        assert self.services is not None
        call = self.calls.pop(event.call_id, {"customer_id": None, "name": event.number})
        self._call_timer.stop()
        self.call_label.setText("")
        self.toast.hide()
        record = await self.bridge.run(
            self.services.calls.ended,
            event,
            call.get("customer_id"),
            self.services.agent.login,
        )
        self._refresh_call_log()
        if "answered" not in call:
            self.statusBar().showMessage(
                missed_call_message(call.get("number_shown") or event.number, record), 10000
            )
            return
        self.wrap_up.begin(
            record.interaction_id,
            str(call["name"]),
            record.duration_s,
            self.services.agent.wrap_up_draft(record.interaction_id),
        )
        self.wrap_up.summary.setFocus()

    def _tick_call(self) -> None:
        active = [c for c in self.calls.values() if "answered" in c]
        if not active:
            self._call_timer.stop()
            self.call_label.setText("")
            return
        seconds = int(time.monotonic() - active[-1]["answered"])
        self.call_label.setText(
            f"On call with {active[-1]['name']}  {seconds // 60}:{seconds % 60:02d}"
        )

    async def _save_wrap_up(
        self, interaction_id: int, code: str, summary: str, follow_up: str, client_key: str
    ) -> None:
        assert self.services is not None
        try:
            await self.bridge.run(
                self.services.calls.wrap_up, interaction_id, code, summary, follow_up, client_key
            )
        except KeyReusedError as exc:
            self.wrap_up.saved_elsewhere()
            self.wrap_up.message.setText(str(exc))
            return
        except Exception as exc:  # keep the panel and its text; say why
            self.wrap_up.message.setText(f"Not saved (your text is kept): {exc}")
            return
        self.wrap_up.finish()
        self.statusBar().showMessage("Wrap-up saved.", 5000)
        self._refresh_call_log()
        for index in range(self.tabs.count()):
            panel = self.tabs.widget(index)
            if isinstance(panel, CustomerPanel):
                self.bridge.spawn(self.reload_customer(panel.customer_id))

    # -- call log and click-to-call ----------------------------------------------

    def show_call_log(self) -> None:
        """Open (or focus) the call log tab and reload it."""
        if self.services is None:
            return
        if self.call_log is None:
            view = CallLogView(self.services.calls, self.bridge, self.services.agent.login)
            view.line = self.call_line
            view.open_customer_requested.connect(self.open_customer)
            view.new_customer_requested.connect(self.new_customer)
            view.dial_requested.connect(lambda entry: self.bridge.spawn(self.dial(entry)))
            view.model.modelReset.connect(self.call_log_loaded.emit)
            self.call_log = view
        index = self.tabs.indexOf(self.call_log)
        if index < 0:
            placeholder = self.tabs.indexOf(self.placeholder)
            if placeholder >= 0:
                self.tabs.removeTab(placeholder)
            index = self.tabs.addTab(self.call_log, icon("call_log"), "Call log")
            self.tabs.setTabToolTip(index, "Calls of this agent and line (Ctrl+L; Ctrl+W closes)")
        self.tabs.setCurrentIndex(index)
        self.call_log.table.setFocus()
        self.call_log.refresh()

    def _refresh_call_log(self) -> None:
        if self.call_log is not None and self.tabs.indexOf(self.call_log) >= 0:
            self.call_log.refresh()

    async def dial(self, entry: CallLogEntry) -> None:
        """Click-to-call: the softphone link dials; else the system's tel: handler."""
        assert self.services is not None and entry.number
        number = entry.number
        try:
            if self.telephony is None:
                raise LookupError("no telephony hub")
            route = await self.telephony.dial(number)
        except LookupError:
            digits = "".join(c for c in number if c.isdigit() or c == "+")
            if not QDesktopServices.openUrl(QUrl(f"tel:{digits}")):
                QApplication.clipboard().setText(number)
                self.statusBar().showMessage(
                    f"No softphone can dial from Rapport: {number} is copied to the clipboard.",
                    10000,
                )
                return
            route = "the system's phone app"
        except Exception as exc:  # the softphone refused or the link dropped
            log.warning("click-to-call %s failed: %s", number, exc)
            self.statusBar().showMessage(f"Could not call {number}: {exc}", 10000)
            return
        callback = (
            entry.callback_task_id if entry.callback_status in ("open", "in_progress") else None
        )
        await self.bridge.run(
            self.services.calls.record_dial,
            number,
            entry.customer_id,
            self.services.agent.login,
            self.call_line,
            callback,
        )
        self.statusBar().showMessage(f"Calling {number} through {route}.", 8000)
        self._refresh_call_log()

    def new_customer(self, typed: str, caller: CallEvent | None = None) -> None:
        """Quick-create, prefilled with what was searched (or the caller's number and the
        name their source sent); nothing is saved until Save. A caller saved during
        their call becomes the customer of that call."""
        if self.services is None:
            return
        from ui.features.customer.contact_dialog import ContactDialog, prefilled

        dialog = ContactDialog(
            prefilled(typed, name=caller.name if caller else None),
            self.services.contacts,
            self.bridge,
            actor=self.services.agent.actor,
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda saved: self.open_customer(saved.customer_id))
        if caller is not None:
            dialog.saved.connect(lambda saved: self.bridge.spawn(self._link_caller(caller, saved)))
        self.new_customer_dialog = dialog
        dialog.open()

    async def _link_caller(self, event: CallEvent, saved: Any) -> None:
        assert self.services is not None
        call = self.calls.get(event.call_id)
        if call is not None and call.get("customer_id") is None:
            call["customer_id"] = saved.customer_id  # the answer and hang-up still to come
            call["name"] = f"{saved.details.first_name} {saved.details.last_name}".strip()
        await self.bridge.run(self.services.calls.link_caller, event, saved.customer_id)
        self._refresh_call_log()

    def show_shortcuts(self) -> None:
        dialog = ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def show_about(self) -> None:
        # open(), never exec() or QMessageBox.about(): a nested loop breaks qasync.
        box = QMessageBox(self)
        box.setWindowTitle("About Rapport")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(f"Rapport {__version__}")
        box.setInformativeText(
            "Customer-service workstation. Built with Python, Qt for Python (PySide6, "
            "LGPL) and SQLAlchemy. F1 lists the keyboard shortcuts."
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

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
        from models.database import check_connection  # loaded with the services

        try:
            await self.bridge.run(check_connection, self.services.engine)
        except Exception:
            return  # still down: the banner stays, the timer tries again
        self._retry.stop()
        self.banner.hide()
        self.db_label.setText(self._where())
        self.statusBar().showMessage("Database connection restored.", 5000)

    def _where(self) -> str:
        where = describe_database(self.settings)
        if getattr(self, "db_unencrypted", False):
            return f"{where} · not encrypted"
        return where

    # -- connecting ------------------------------------------------------------------

    def open_connection_dialog(self, problem: str | None = None) -> None:
        """The connection dialog, window-modal via open() (never exec(): qasync)."""
        existing = getattr(self, "connection_dialog", None)
        if existing is not None and existing.isVisible():
            existing.raise_()
            return
        from ui import connection_setup  # SQLAlchemy: loaded after the first paint

        dialog = connection_setup.make_connection_dialog(self, self.settings, problem)
        dialog.connection_chosen.connect(lambda url: self.bridge.spawn(self.switch_database(url)))
        dialog.destroyed.connect(lambda: setattr(self, "connection_dialog", None))
        self.connection_dialog = dialog
        dialog.open()

    async def switch_database(self, url: str) -> None:
        """Remember the URL chosen in the dialog (user config), then connect to it."""
        from ui import connection_setup

        remembered = await self.bridge.run(connection_setup.remember_database, self.settings, url)
        self.settings = remembered.settings
        old, self.services = self.services, None
        if old is not None:
            for index in reversed(range(self.tabs.count())):  # they belong to the old database
                self.close_tab(index)
            self._retry.stop()
            self._closed.clear()  # ids of the old database
            self.wrap_up.keep_draft_now()
            self.recovered_drafts.clear()
            await self.bridge.run(old.close)
        self.db_label.setText("Connecting…")
        await self.connect_database()
        if self.services is not None:
            self.statusBar().showMessage(remembered.note, 10000)

    async def connect_database(self) -> None:
        try:
            services = await self.bridge.run(_open_services, self.settings)
            if self.settings.is_demo:
                from app.bootstrap import ensure_demo_data  # imported by _open_services

                self.db_label.setText("Preparing the demo database…")
                await self.bridge.run(ensure_demo_data, services)
            from models.database import connection_encrypted  # loaded with the services

            encrypted = await self.bridge.run(connection_encrypted, services.engine)
        except (DatabaseError, UserError) as exc:
            self._fail(str(exc))
            from ui import connection_setup

            if connection_setup.asks_for_credentials(self.settings, exc):
                self.open_connection_dialog(str(exc))
            return
        except Exception as exc:
            log.exception("opening the database failed")
            self._fail(f"cannot open the database: {exc}")
            return
        self.connection_error = None
        self.banner.hide()
        self.services = services
        # What is loaded by now (Qt, SQLAlchemy, the services, caches) lives as long as
        # the app: move it out of the collector's sight, so the GUI-thread collections
        # (ui/garbage.py) scan only what customers and calls create. A full collection
        # then takes a few ms instead of tens, and no longer stalls a screen pop.
        gc.freeze()
        self._guard_gui_thread(services)
        self.search.set_service(services.search)
        self.db_unencrypted = encrypted is False
        self.db_label.setText(self._where())
        self.db_label.setToolTip(
            UNENCRYPTED_TIP
            if self.db_unencrypted
            else f"Connected to {describe_database(self.settings)}"
        )
        self.ready.emit()
        if self.held_calls:
            self.bridge.spawn(self._pop_held_calls())
        await self._offer_recovered_drafts(services.database_identity)

    def _guard_gui_thread(self, services: Services) -> None:
        """Log (once per call site, with the stack) any SQL that runs on this thread."""
        from app.sql_guard import GuiThreadSqlGuard  # SQLAlchemy: loaded with the services

        if self.sql_guard is None:
            self.sql_guard = GuiThreadSqlGuard(threading.current_thread(), raise_error=False)
        self.sql_guard.attach(services.engine)

    # -- drafts ----------------------------------------------------------------------

    async def _offer_recovered_drafts(self, database: str) -> None:
        """Drafts of this database left by an earlier run (a crash, a kill, a close)."""
        drafts = await self.bridge.run(self.drafts.drafts, database)  # reads files
        self.recovered_drafts.show_drafts(drafts)

    async def open_draft(self, draft: Draft) -> None:
        """Put a recovered draft back in its editor: the customer's note or the wrap-up."""
        assert self.services is not None
        if draft.key.kind == "wrap_up":
            who = draft.label.removeprefix("call with ") or "a caller"
            self.wrap_up.begin(int(draft.key.subject), who, None, draft.key)
            self.wrap_up.restore(draft)
            self.wrap_up.summary.setFocus()
            self.recovered_drafts.remove(draft.key)
            return
        panel = next(
            (
                w
                for w in map(self.tabs.widget, range(self.tabs.count()))
                if isinstance(w, CustomerPanel) and str(w.customer_id) == draft.key.subject
            ),
            None,
        ) or await self.load_customer(int(draft.key.subject))
        if panel is None:
            return  # the customer is gone: load_customer said so; the draft stays
        self.tabs.setCurrentWidget(panel)
        panel.show_notes()
        self.recovered_drafts.remove(draft.key)

    def discard_draft(self, draft: Draft) -> None:
        self.drafts.discard(draft.key)
        self.recovered_drafts.remove(draft.key)
        self.statusBar().showMessage(f"Draft discarded: {draft.preview(40)}", 5000)

    def keep_drafts_now(self) -> None:
        """Write what was typed in the last moments, then wait for the drafts writer."""
        for index in range(self.tabs.count()):
            panel = self.tabs.widget(index)
            if isinstance(panel, CustomerPanel):
                panel.keep_draft_now()
        self.wrap_up.keep_draft_now()
        self.drafts.close()

    def _fail(self, message: str) -> None:
        self.connection_error = message
        self._show_failure_banner()
        self.db_label.setText("Not connected")
        self.ready.emit()
        self._show_held_calls()

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
        return self.show_customer(data)

    def show_customer(self, data: CustomerView) -> CustomerPanel:
        """Open a tab for a loaded customer, or focus the one already open."""
        customer_id = data.header.id
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
        panel = CustomerPanel(data, self.services, self.bridge, drafts=self.drafts)
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
        if panel is not None and panel is self.call_log:
            self.tabs.removeTab(index)  # kept, to reopen with Ctrl+L as it was
        elif isinstance(panel, CustomerPanel):
            panel.keep_draft_now()
            self._closed.append(panel.customer_id)
            del self._closed[:-RECENTLY_CLOSED]
            self.tabs.removeTab(index)
            panel.deleteLater()
        else:
            return
        if self.tabs.count() == 0:
            self.tabs.addTab(self.placeholder, "Start")

    def reopen_closed(self) -> None:
        if self._closed:
            self.open_customer(self._closed.pop())

    def _cycle(self, step: int) -> None:
        if self.tabs.count() > 1:
            self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % self.tabs.count())

    def closeEvent(self, event: QCloseEvent) -> None:
        self.keep_drafts_now()
        super().closeEvent(event)


def _open_services(settings: Settings) -> Services:
    """Runs on a worker: import the core there too (SQLAlchemy, Alembic, the services:
    about 0.7 s), so the window is painted and answers keys while it loads."""
    from app.bootstrap import open_services

    return open_services(settings)
