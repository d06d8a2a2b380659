"""Whether this supervisor or manager can be asked now: the status bar's "Available for
approvals" toggle and the heartbeat behind it.

`AvailabilityDriver` sends `set_presence(available)` at once when started or toggled,
then every `HEARTBEAT_MS` (app/services/authority.py: a presence older than 30 s counts
as away, so a crashed client stops receiving requests by itself), always through an
operation on the bridge's workers, never on the GUI thread. `stop()` ends the current
approver's heartbeats; `leave()` waits for the beats on their way and says "away" once,
so an approver who quits or hands the desk to someone else stops receiving requests at
once.

Single-user mode (the embedded database, one person playing every part of a demo): an
approver who hands the window to someone else while available stays available
(`keep_beating`), as if still at their own desk, so the agent the demo switches to has
someone to ask. Their beats go on until they act here again, or the app quits.

Signals:
    changed(bool): the approver switched availability (the page and notifications follow).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QCheckBox

from ui.bridge import DatabaseBridge

if TYPE_CHECKING:
    from app.bootstrap import Services  # the core loads after the first paint

log = logging.getLogger(__name__)
HEARTBEAT_MS = 10_000


class AvailabilityDriver(QObject):
    changed = Signal(bool)

    def __init__(
        self, bridge: DatabaseBridge, toggle: QCheckBox, interval_ms: int = HEARTBEAT_MS
    ) -> None:
        super().__init__(toggle)
        self._bridge = bridge
        self.toggle = toggle
        self.services: Services | None = None
        self.background: dict[str, Services] = {}  # single-user mode: login -> services
        self.beats = 0  # heartbeats answered (tests count them)
        self.failures = 0
        self._in_flight: set[asyncio.Task[None]] = set()
        self.timer = QTimer(self, interval=interval_ms)
        self.timer.timeout.connect(self.beat)
        toggle.toggled.connect(self._toggled)

    @property
    def available(self) -> bool:
        return self.toggle.isChecked()

    @property
    def running(self) -> bool:
        return self.timer.isActive()

    def start(self, services: Services) -> None:
        """Heartbeats for `services`' agent, from now (the toggle says available or not)."""
        self.background.pop(services.agent.login, None)  # acting here again
        self.services = services
        self.timer.start()
        self.beat()

    def stop(self) -> Services | None:
        """No more heartbeats for the current approver; returns their services (to `leave`
        with). The timer goes on for those kept beating in the background."""
        services, self.services = self.services, None
        if not self.background:
            self.timer.stop()
        return services

    def keep_beating(self, services: Services) -> None:
        """Single-user mode: `services`' approver stays available after handing over."""
        self.background[services.agent.login] = services
        if not self.timer.isActive():
            self.timer.start()

    def forget_other_databases(self, identity: str) -> None:
        """Another database is connected: those kept beating belong to the old one (their
        presence there goes stale by itself)."""
        for login, services in list(self.background.items()):
            if services.database_identity != identity:
                del self.background[login]
        if self.services is None and not self.background:
            self.timer.stop()

    def beat(self) -> None:
        if self.services is not None:
            self._spawn(self.services, self.available)
        for services in self.background.values():
            self._spawn(services, True)

    def _spawn(self, services: Services, available: bool) -> None:
        task = self._bridge.spawn(self._send(services, available))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def leave(self, services: Services | None) -> None:
        """Say "away" once for `services` (after the beats on their way)."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))
        if services is not None:
            await self._send(services, False)

    async def leave_all(self) -> None:
        """Quitting: no more beats; everyone this app kept available is away now."""
        self.timer.stop()
        current, self.services = self.services, None
        kept = list(self.background.values())
        self.background.clear()
        for services in ([current] if current is not None else []) + kept:
            await self.leave(services)

    def _toggled(self, available: bool) -> None:
        self.toggle.setToolTip(
            "You receive new override requests (untick when away from the desk)"
            if available
            else "Away: new override requests go to the other supervisors and managers"
        )
        self.beat()  # the others see it now, not at the next beat
        self.changed.emit(available)

    async def _send(self, services: Services, available: bool) -> None:
        from app.operations import authority as operations

        try:
            await self._bridge.perform(operations.set_presence, services, available)
        except Exception as exc:  # the next beat tries again
            self.failures += 1
            log.info("approver presence not sent: %s", type(exc).__name__)
            return
        self.beats += 1
