"""Approvals for supervisors and managers: the queue, kept live whether or not the page is
shown, a notification for each new request while the approver is available, the count
for the badge, and the availability heartbeat. Also opens the authority matrix and, on
the single-user database, the switch-user dialog.

The queue is `AuthorityService.approval_queue()` (pending requests this user may decide,
not their own, not expired), re-read when the change bus reports an override (coalesced:
one read for a burst) and when the first request in it is due to expire. Only approvers
(`APPROVER_ROLES`) have a queue, a heartbeat and notifications; for everyone else the
controller stays idle.

Signals:
    count_changed(int): requests waiting for this approver (the page's title shows it).
    message(str, int): a status-bar message and how long to show it (ms).
    open_requested(): the approver asked to see the queue (clicked a notification).
    switch_requested(str): single-user mode: act as this login from now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QLabel, QWidget

from app.changes import Changes, Entity
from app.clock import Clock, system_clock
from ui.bridge import DatabaseBridge
from ui.features.approvals import words
from ui.features.approvals.availability import HEARTBEAT_MS, AvailabilityDriver
from ui.features.approvals.notifier import DesktopNotifier
from ui.features.approvals.page import ApprovalsPage

if TYPE_CHECKING:
    from app.bootstrap import Services  # the core loads after the first paint
    from app.services.authority import OverrideView
    from ui.features.approvals.matrix import MatrixDialog
    from ui.features.approvals.switch_user import SwitchUserDialog

log = logging.getLogger(__name__)
COALESCE_MS = 100
EXPIRY_GRACE_MS = 500  # re-read just after the first request's countdown ends
LEAVE_TIMEOUT_S = 3.0
MAX_NOTIFIED = 3  # more new requests at once: one notification says how many
APPROVERS = ("supervisor", "manager")  # app.services.authority.APPROVER_ROLES
SINGLE_USER_TIP = (
    "The embedded database has no logins, so the authority rules run in this app. "
    "File > Switch user… acts as another staff member (agent01, super01, …)."
)


class ApprovalsController(QObject):
    count_changed = Signal(int)
    message = Signal(str, int)
    open_requested = Signal()
    switch_requested = Signal(str)

    def __init__(
        self,
        bridge: DatabaseBridge,
        window: QWidget,
        toast: Callable[[str, list[str]], None],
        *,
        clock: Clock = system_clock,
        heartbeat_ms: int = HEARTBEAT_MS,
    ) -> None:
        super().__init__(window)
        self.bridge = bridge
        self.window = window
        self.clock = clock
        self.services: Services | None = None
        self.page: ApprovalsPage | None = None
        self.rows: list[OverrideView] = []
        self.loads = 0  # queue reads (tests count the coalescing)
        self._known: set[int] | None = None  # ids seen in the queue; None before the first read
        self._generation = 0
        self.matrix_dialog: MatrixDialog | None = None
        self.switch_dialog: SwitchUserDialog | None = None

        # The status bar's widgets (the shell puts them in place).
        self.toggle = QCheckBox("Available for approvals")
        self.toggle.setAccessibleName("Available for approvals")
        self.toggle.setChecked(True)
        self.toggle.setVisible(False)
        self.mode_label = QLabel("")
        self.mode_label.setTextFormat(Qt.TextFormat.PlainText)
        self.mode_label.setToolTip(SINGLE_USER_TIP)
        self.mode_label.setVisible(False)
        self.availability = AvailabilityDriver(bridge, self.toggle, heartbeat_ms)
        self.availability.changed.connect(self._availability_changed)
        self.notifier = DesktopNotifier(toast, window)
        self.notifier.clicked.connect(self.open_requested)

        self._stale = QTimer(self, singleShot=True, interval=COALESCE_MS)
        self._stale.timeout.connect(self.refresh)
        self._expiry = QTimer(self, singleShot=True)
        self._expiry.timeout.connect(self._expire_due)
        bridge.changed.connect(self.apply_changes)

    # -- who acts ----------------------------------------------------------------------

    @property
    def approver(self) -> bool:
        return self.services is not None and self.services.agent.role.value in APPROVERS

    @property
    def count(self) -> int:
        return len(self.rows)

    def attach(self, services: Services) -> None:
        """A connection (or another acting user): approvers start their queue and heartbeat."""
        self.services = services
        agent = services.agent
        single = services.backend == "sqlite"
        self.mode_label.setVisible(single)
        self.toggle.setVisible(self.approver)
        self.availability.forget_other_databases(services.database_identity)
        if self.approver:
            self.availability.start(services)  # (no longer kept in the background)
        kept = [s.agent.display_name for s in self.availability.background.values()]
        self.mode_label.setText(
            f"Single-user mode · {agent.display_name} ({words.role_words(agent.role)})"
            + (f" · available to approve: {', '.join(kept)}" if kept else "")
            if single
            else ""
        )
        if self.approver:
            self.refresh()

    def detach(self, drop_page: Callable[[QWidget], None]) -> None:
        """The connection or the acting user changes: stop, say "away", drop the page."""
        left = self.availability.stop()
        if left is not None:
            if left.backend == "sqlite" and self.availability.available:
                # Single-user mode: still "at their desk" for the demo's next part.
                self.availability.keep_beating(left)
            else:
                self.bridge.spawn(self.availability.leave(left))
        self._stale.stop()
        self._expiry.stop()
        self._generation += 1  # a read on its way belongs to the old user
        self.services = None
        self.rows = []
        self._known = None
        self.toggle.setVisible(False)
        if self.page is not None:
            drop_page(self.page)
            self.page.deleteLater()
            self.page = None
        self._close_dialogs()
        self.count_changed.emit(0)

    async def leave(self, timeout_s: float = LEAVE_TIMEOUT_S) -> None:
        """Quitting: no more heartbeats, and "away" at once (not 30 s later). A database
        that does not answer within `timeout_s` does not hold the quit up: the presence
        goes stale by itself."""
        self._stale.stop()
        self._expiry.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.availability.leave_all(), timeout_s)

    def close(self) -> None:
        self.availability.background.clear()
        self.availability.stop()
        self._stale.stop()
        self._expiry.stop()
        self.notifier.close()
        self._close_dialogs()

    def _close_dialogs(self) -> None:
        for dialog in (self.matrix_dialog, self.switch_dialog):
            if dialog is not None and shiboken6.isValid(dialog):
                dialog.close()
        self.matrix_dialog = self.switch_dialog = None

    # -- the page ----------------------------------------------------------------------

    def page_for(self, services: Services) -> ApprovalsPage:
        if self.page is None or self.page.services is not services:
            if self.page is not None:
                self.page.deleteLater()
            self.page = ApprovalsPage(services, self.bridge, clock=self.clock)
            self.page.refresh_requested.connect(self.refresh)
            self.page.decided.connect(self.refresh)
            self.page.set_available(self.availability.available)
            self.page.set_rows(self.rows)
        return self.page

    def title(self) -> str:
        return f"Approvals ({self.count})" if self.count else "Approvals"

    # -- the queue -----------------------------------------------------------------------

    def apply_changes(self, changes: Changes) -> None:
        """A request asked, decided, withdrawn or expired (here or elsewhere): re-read."""
        if self.approver and changes.touches((Entity.OVERRIDE,)):
            if not self._stale.isActive():
                self._stale.start()

    def refresh(self) -> None:
        if self.approver:
            self._stale.stop()
            self.bridge.spawn(self._load())

    async def _load(self) -> None:
        services = self.services
        if services is None:
            return
        self._generation += 1
        generation = self._generation
        self.loads += 1
        try:
            rows = await self.bridge.run(services.authority.approval_queue)
        except Exception as exc:
            log.warning("reading the approval queue failed", exc_info=True)
            self.message.emit(f"Could not read the approval queue: {exc}", 8000)
            return
        if generation != self._generation:
            return  # a newer read, or another user, since
        ids = {row.id for row in rows}
        new = [row for row in rows if self._known is not None and row.id not in self._known]
        self._known = ids
        changed = [r.id for r in rows] != [r.id for r in self.rows]
        self.rows = rows
        if self.page is not None:
            self.page.set_rows(rows)
        if changed:
            self.count_changed.emit(len(rows))
        self._watch_expiry()
        if new and self.availability.available:
            self._announce(new)

    def _watch_expiry(self) -> None:
        """Re-read just after the first request's countdown ends (it leaves the queue)."""
        self._expiry.stop()
        ends = [r.expires_at for r in self.rows if r.expires_at is not None]
        if ends:
            left_ms = (min(ends) - self.clock()).total_seconds() * 1000
            self._expiry.start(max(0, int(left_ms)) + EXPIRY_GRACE_MS)

    def _expire_due(self) -> None:
        self.bridge.spawn(self._sweep_expired())

    async def _sweep_expired(self) -> None:
        services = self.services
        if services is None:
            return
        from app.operations import authority as operations

        try:
            await self.bridge.perform(operations.expire_due, services)
        except Exception:
            log.info("expiring requests failed", exc_info=True)
        self.refresh()

    def _announce(self, new: list[OverrideView]) -> None:
        now = self.clock()
        if len(new) > MAX_NOTIFIED:
            self.notifier.show(
                f"{len(new)} new requests to approve",
                [
                    ", ".join(r.customer_name for r in new[:5]) + ("…" if len(new) > 5 else ""),
                    "F6 opens Approvals.",
                ],
            )
            return
        for view in new:
            reason = view.reason if len(view.reason) <= 90 else view.reason[:89] + "…"
            lines = [
                words.what(view),
                f"{view.requested_by}: “{reason}”",
            ]
            left = words.countdown(view.expires_at, now)
            lines.append(f"{left} · F6 opens Approvals" if left else "F6 opens Approvals")
            self.notifier.show(f"Approval needed: {view.customer_name}", lines)

    def _availability_changed(self, available: bool) -> None:
        if self.page is not None:
            self.page.set_available(available)
        self.message.emit(
            "Available for approvals: new requests reach you."
            if available
            else "Away: new requests go to the other supervisors and managers.",
            5000,
        )

    # -- the authority matrix and switching users ----------------------------------------

    def show_matrix(self) -> None:
        services = self.services
        if services is None:
            return
        from ui.features.approvals.matrix import MatrixDialog

        if self.matrix_dialog is not None and shiboken6.isValid(self.matrix_dialog):
            self.matrix_dialog.raise_()
            self.matrix_dialog.activateWindow()
            return
        dialog = MatrixDialog(services, self.bridge, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda: setattr(self, "matrix_dialog", None))
        self.matrix_dialog = dialog
        dialog.open()
        dialog.reload()

    def show_switch_user(self) -> None:
        services = self.services
        if services is None or services.backend != "sqlite":
            self.message.emit("Switching users is for the single-user (embedded) database.", 6000)
            return
        from ui.features.approvals.switch_user import SwitchUserDialog

        dialog = SwitchUserDialog(services, self.bridge, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.chosen.connect(self.switch_requested)
        dialog.destroyed.connect(lambda: setattr(self, "switch_dialog", None))
        self.switch_dialog = dialog
        dialog.open()
        dialog.reload()
