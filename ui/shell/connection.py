"""The window's database connection: connect after the first paint, retry when it drops,
switch to another database, and what the status bar and the banner say of it.

It also keeps the GUI thread honest: every engine it opens gets the SQL guard
(`app/sql_guard.py`), which logs any SQL run on this thread once per call site.

This module is imported with the first window, so it does not import the core
(app.bootstrap, app.services.*, models.database: SQLAlchemy, Alembic) at the top: the
core loads on a worker after the first paint (see "Start-up" in docs/architecture.md).

Signals:
    connected(object): the `Services` of a new connection (or others handed to `use`):
        the shell gives them to the features.
    disconnected(): the services in use are about to close (switching databases): drop
        whatever belongs to them.
    failed(str): connecting failed, with the one-line reason (the banner says it).
    message(str, int): a status-bar message and how long to show it (ms).
    feed_status(str, str, str): the change feed's name, status and detail, for the
        status bar's indicators (as the call sources report theirs).
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

from app.config import Settings, describe_database
from app.errors import UserError
from models.errors import DatabaseError
from ui.bridge import DatabaseBridge
from ui.shell.banner import Banner

if TYPE_CHECKING:
    from app.bootstrap import Services
    from app.change_feed import ChangeFeed
    from ui.connection_dialog import ConnectionDialog

log = logging.getLogger(__name__)
RETRY_MS = 5000
SWEEP_MS = 60_000  # housekeeping: SLA warnings and breaches, broken promises
LIVE_UPDATES = "Live updates"  # the change feed's name in the status bar
UNENCRYPTED_TIP = (
    "The connection to the database server is not encrypted: customer data and the "
    "password cross the network readable. Ask IT for sslmode=verify-full in the URL."
)


class ConnectionController(QObject):
    connected = Signal(object)
    disconnected = Signal()
    failed = Signal(str)
    message = Signal(str, int)
    feed_status = Signal(str, str, str)

    def __init__(
        self, settings: Settings, bridge: DatabaseBridge, banner: Banner, window: QWidget
    ) -> None:
        super().__init__(window)
        self.settings = settings
        self.bridge = bridge
        self.banner = banner
        self.window = window  # the connection dialog's parent
        self.services: Services | None = None
        self.error: str | None = None  # why the last attempt to connect failed
        self.unencrypted = False
        self.db_label = QLabel("Connecting…")  # the status bar's database indicator
        self.dialog: ConnectionDialog | None = None
        self.sql_guard: Any = None  # app.sql_guard.GuiThreadSqlGuard, once connected
        # Awaited once connected, before `open` returns (the shell offers the drafts
        # an earlier run left, so a caller that awaits `open` sees them offered).
        self.after_connect: Callable[[Services], Awaitable[None]] | None = None
        self.feed: ChangeFeed | None = None  # what other agents commit (once connected)
        self._retry = QTimer(self, interval=RETRY_MS)
        self._retry.timeout.connect(lambda: self.bridge.spawn(self._check()))
        # Time's rules (SLA warnings and breaches, promises broken): app/operations/housekeeping.py
        # Off in UI tests that assert what seeded data shows (a sweep would change it on
        # its own time); the sweep itself is tested through its operation.
        self.housekeeping = True
        self._housekeeping = QTimer(self, interval=SWEEP_MS)
        self._housekeeping.timeout.connect(lambda: self.bridge.spawn(self._sweep()))
        bridge.connection_lost.connect(self._lost)

    # -- connecting ------------------------------------------------------------------

    async def open(self) -> None:
        """Open the configured database on a worker; say why not when it fails."""
        try:
            services = await self.bridge.run(_open_services, self.settings)
            if self.settings.is_demo:
                from app.bootstrap import ensure_demo_data  # imported by _open_services

                self.db_label.setText("Preparing the demo database…")
                if await self.bridge.run(ensure_demo_data, services):
                    # Seeded now: the demo's staff member exists only from now on.
                    from app.bootstrap import build_services

                    services = await self.bridge.run(build_services, self.settings, services.engine)
            from models.database import connection_encrypted  # loaded with the services

            encrypted = await self.bridge.run(connection_encrypted, services.engine)
        except (DatabaseError, UserError) as exc:
            self._fail(str(exc))
            from ui import connection_setup

            if connection_setup.asks_for_credentials(self.settings, exc):
                self.open_dialog(str(exc))
            return
        except Exception as exc:
            log.exception("opening the database failed")
            self._fail(f"cannot open the database: {exc}")
            return
        self.error = None
        self.banner.clear()
        # What is loaded by now (Qt, SQLAlchemy, the services, caches) lives as long as
        # the app: move it out of the collector's sight, so the GUI-thread collections
        # (ui/garbage.py) scan only what customers and calls create. A full collection
        # then takes a few ms instead of tens, and no longer stalls a screen pop.
        gc.freeze()
        self._guard_gui_thread(services)
        self.unencrypted = encrypted is False
        self.db_label.setText(self._where())
        self.db_label.setToolTip(
            UNENCRYPTED_TIP
            if self.unencrypted
            else f"Connected to {describe_database(self.settings)}"
        )
        self._start_change_feed(services)
        self.use(services)
        if self.housekeeping:
            self._housekeeping.start()
            self.bridge.spawn(self._sweep())  # what came due while no client ran
        if self.after_connect is not None:
            await self.after_connect(services)

    def use(self, services: Services) -> None:
        """Hand `services` to the window (the agent context comes with them: a test acting
        as another agent passes services with another `agent`)."""
        self.services = services
        self.connected.emit(services)

    def act_as(self, services: Services) -> None:
        """Single-user mode: another staff member acts on this connection from now. What
        the old one had open goes (disconnected), then the new services go out as for a
        connection (connected): the one place the window's parts get their services."""
        if self.services is None:
            return
        self.disconnected.emit()
        self.use(services)
        agent = services.agent
        self.message.emit(f"Now acting as {agent.display_name} ({agent.login}).", 8000)

    def _fail(self, message: str) -> None:
        self.error = message
        self.banner.show_unavailable(message)
        self.db_label.setText("Not connected")
        self.failed.emit(message)

    def _guard_gui_thread(self, services: Services) -> None:
        """Log (once per call site, with the stack) any SQL that runs on this thread."""
        from app.sql_guard import GuiThreadSqlGuard  # SQLAlchemy: loaded with the services

        if self.sql_guard is None:
            self.sql_guard = GuiThreadSqlGuard(threading.current_thread(), raise_error=False)
        self.sql_guard.attach(services.engine)

    def _where(self) -> str:
        where = describe_database(self.settings)
        return f"{where} · not encrypted" if self.unencrypted else where

    # -- the change feed ---------------------------------------------------------------

    def _start_change_feed(self, services: Services) -> None:
        """Hear what other agents commit (app/change_feed.py: LISTEN/NOTIFY on PostgreSQL,
        a poll on SQLite) and publish it on the bridge, so open views refresh as for
        our own writes. Its state shows in the status bar beside the call sources."""
        from app.change_feed import change_feed_for  # loaded with the services

        self.feed = change_feed_for(
            services.engine,
            self._report_feed_status,
            listen_url=services.settings.values.get("listen_url"),
        )
        if self.feed is not None:
            self.feed.start(self.bridge.publish)
            self.bridge.stop_at_shutdown(self.feed.stop_now)  # whoever tears down

    def _report_feed_status(self, status: str, detail: str) -> None:
        self.feed_status.emit(LIVE_UPDATES, status, detail)

    async def stop_feed(self) -> None:
        """Stop listening (waits for the feed's worker: at most one read or poll)."""
        feed, self.feed = self.feed, None
        if feed is not None:
            await feed.stop()  # a later `stop_now` at the bridge's shutdown does nothing

    # -- losing and switching ------------------------------------------------------------

    async def _sweep(self) -> None:
        services = self.services
        if services is None:
            return
        from app.operations import housekeeping  # loaded with the services

        try:
            await self.bridge.perform(housekeeping.sweep, services, dt.datetime.now(dt.UTC))
        except Exception:  # the next sweep records it; the status bar shows the database
            log.warning("housekeeping sweep failed", exc_info=True)

    def _lost(self, message: str) -> None:
        self.banner.show_offline(message)
        self.db_label.setText("Offline")
        if not self._retry.isActive():
            self._retry.start()

    async def _check(self) -> None:
        if self.services is None:
            return
        from models.database import check_connection  # loaded with the services

        try:
            await self.bridge.run(check_connection, self.services.engine)
        except Exception:
            return  # still down: the banner stays, the timer tries again
        self._retry.stop()
        self.banner.clear()
        self.db_label.setText(self._where())
        self.message.emit("Database connection restored.", 5000)

    def open_dialog(self, problem: str | None = None) -> None:
        """The connection dialog, window-modal via open() (never exec(): qasync)."""
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            return
        from ui import connection_setup  # SQLAlchemy: loaded after the first paint

        dialog = connection_setup.make_connection_dialog(self.window, self.settings, problem)
        dialog.connection_chosen.connect(lambda url: self.bridge.spawn(self.switch(url)))
        dialog.destroyed.connect(lambda: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()

    async def switch(self, url: str) -> None:
        """Remember the URL chosen in the dialog (user config), then connect to it."""
        from ui import connection_setup

        remembered = await self.bridge.run(connection_setup.remember_database, self.settings, url)
        self.settings = remembered.settings
        old, self.services = self.services, None
        if old is not None:
            self._retry.stop()
            self._housekeeping.stop()
            await self.stop_feed()
            self.disconnected.emit()
            await self.bridge.run(old.close)
        self.db_label.setText("Connecting…")
        await self.open()
        if self.services is not None:
            self.message.emit(remembered.note, 10000)

    def close(self) -> None:
        """At quit, after the bridge's workers stopped: stop listening, dispose the engine."""
        self._retry.stop()
        self._housekeeping.stop()
        if self.services is not None:
            self.services.close()


def _open_services(settings: Settings) -> Services:
    """Runs on a worker: import the core there too (SQLAlchemy, Alembic, the services:
    about 0.7 s), so the window is painted and answers keys while it loads."""
    from app.bootstrap import open_services

    return open_services(settings)
