"""Whether this supervisor or manager can be asked now: the status bar's "Available for
approvals" toggle and the heartbeat behind it.

`AvailabilityDriver` sends `set_presence(available)` at once when started or toggled,
then every `HEARTBEAT_MS` (app/services/authority.py: a presence older than 30 s counts
as away, so a crashed client stops receiving requests by itself), always through an
operation on the bridge's workers, never on the GUI thread. `stop()` stops the timer;
`leave()` waits for the beats on their way and says "away" once, so an approver who
quits or hands the desk to someone else stops receiving requests at once.

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
        self.services = services
        self.timer.start()
        self.beat()

    def stop(self) -> Services | None:
        """No more heartbeats; returns the services they were for (to `leave` with)."""
        self.timer.stop()
        services, self.services = self.services, None
        return services

    def beat(self) -> None:
        if self.services is not None:
            task = self._bridge.spawn(self._send(self.services, self.available))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def leave(self, services: Services | None) -> None:
        """Say "away" once for `services` (after the beats on their way)."""
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))
        if services is not None:
            await self._send(services, False)

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
