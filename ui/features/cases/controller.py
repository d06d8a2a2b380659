"""Keeping an open case tab current and running its writes on the worker.

Every `Changes` record reaches each open case tab; only one naming this case (or
"everything", after a reconnect) makes it read the case again, once for a burst
(COALESCE_MS), and not while the tab is out of sight. Writes are operations
(app/operations/cases.py) run through `DatabaseBridge.perform`, whose published
changes bring the refresh; no SQL runs on the GUI thread.

Signals:
    refreshed(object): a fresh `CaseDetail`.
    failed(str): reading the case failed in a way the agent should see.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from app.changes import Changes, Entity
from app.errors import UserError
from ui.bridge import DatabaseBridge

if TYPE_CHECKING:
    from app.bootstrap import Services
    from app.services.case_view import CaseDetail
    from app.services.cases import EditResult

log = logging.getLogger(__name__)
COALESCE_MS = 30


class CaseController(QObject):
    refreshed = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        detail: CaseDetail,
        services: Services,
        bridge: DatabaseBridge,
        is_shown: Callable[[], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.case_id = detail.id
        self.customer_id = detail.customer_id
        self.detail = detail
        self._services = services
        self._bridge = bridge
        self._is_shown = is_shown
        self._stale = False
        self._timer = QTimer(self, singleShot=True, interval=COALESCE_MS)
        self._timer.timeout.connect(self._refresh_if_shown)

    def apply_changes(self, changes: Changes) -> None:
        if changes.everything or self.case_id in changes.ids(Entity.CASE):
            self._stale = True
            if not self._timer.isActive():
                self._timer.start()

    def shown(self) -> None:
        if self._stale and not self._timer.isActive():
            self._timer.start()

    def _refresh_if_shown(self) -> None:
        if self._stale and self._is_shown():
            self._stale = False
            self._bridge.spawn(self.refresh())

    async def refresh(self) -> None:
        try:
            detail = await self._bridge.run(self._services.cases.load, self.case_id)
        except UserError as exc:
            if shiboken6.isValid(self):
                self.failed.emit(str(exc))
            return
        except Exception as exc:  # the banner speaks for a lost connection
            log.warning("refreshing case %s failed: %s", self.case_id, exc)
            return
        if shiboken6.isValid(self):
            self.detail = detail
            self.refreshed.emit(detail)

    # -- writes (each publishes its Changes; the refresh follows) -------------------------

    async def add_note(self, body: str, internal: bool) -> int:
        from app.operations.cases import add_case_note

        return await self._bridge.perform(
            add_case_note, self._services, self.case_id, self.customer_id, body, internal
        )

    async def change_status(self, to: str, reason: str | None) -> int:
        from app.operations.cases import change_status

        return await self._bridge.perform(
            change_status,
            self._services,
            self.case_id,
            self.customer_id,
            to,
            self.detail.version,
            reason,
        )

    async def edit(
        self, changes: dict[str, Any], base: dict[str, Any], version: int | None = None
    ) -> EditResult:
        from app.operations.cases import edit_case

        return await self._bridge.perform(
            edit_case,
            self._services,
            self.case_id,
            self.customer_id,
            self.detail.version if version is None else version,
            changes,
            base,
        )
