"""The waiting panel: an override request of this agent, from asking to its answer, in the
customer tab (not a dialog: the agent keeps talking to the customer and working).

It says what was asked, counts down to the request's expiry and offers "Withdraw". It
hears the answer from the change bus (Entity.OVERRIDE with this request's id: the
supervisor's decision, made on another desktop, arrives through LISTEN/NOTIFY on
PostgreSQL or the change feed's poll on SQLite) and reads the request again off the GUI
thread: approved (the concession is in the ledger), rejected with the comment, a
counter-offer with "Accept $X" and "Decline", withdrawn or expired. When the countdown
ends it has the service expire what is due (`expire_due`) and reads again.

Signals:
    answered(object): the request's `OverrideView`, when it stopped waiting (answered,
        expired or withdrawn).
    dismissed(): the agent closed the panel.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.changes import Changes, Entity
from app.errors import UserError
from app.services.authority import OverrideView, new_key
from models.enums import OverrideStatus
from models.errors import DatabaseError
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.features.authority.words import answer_text, asked_text, countdown
from ui.widgets import plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services  # the core loads after the first paint

log = logging.getLogger(__name__)
TICK_MS = 1000
RECHECK_MS = 3000  # the countdown ended but the request still reads pending: ask again
STATUS_COLOURS = {
    OverrideStatus.PENDING: "#ef6c00",
    OverrideStatus.APPROVED: "#2e7d32",
    OverrideStatus.COUNTERED: "#1f6feb",
    OverrideStatus.REJECTED: "#c62828",
    OverrideStatus.EXPIRED: "#c62828",
    OverrideStatus.WITHDRAWN: "#59636e",
}
PANEL_STYLE = "QFrame#waitingPanel {{ border: 1px solid {colour}; border-radius: 6px; }}"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def seconds_left(view: OverrideView, asked_clock: float | None) -> float | None:
    """What is left of the request's time. Asked here: its time to live (expires_at -
    requested_at, both the database's clock) less the time gone by on this machine's
    monotonic clock since asking, so a desktop whose wall clock is off still counts
    down right. A request found waiting (the tab reopened): the wall clock's say."""
    if view.expires_at is None:
        return None
    if asked_clock is not None:
        ttl = (view.expires_at - view.requested_at).total_seconds()
        return ttl - (time.monotonic() - asked_clock)
    return (view.expires_at - now()).total_seconds()


class WaitingPanel(QFrame):
    answered = Signal(object)
    dismissed = Signal()

    def __init__(
        self,
        view: OverrideView,
        services: Services,
        bridge: DatabaseBridge,
        policy_name: str | None = None,
        asked: int | None = None,
        asked_clock: float | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`asked_clock`: time.monotonic() when the agent asked here (the countdown runs
        from it); None for a request found waiting. A view made here before the first
        read (`view.requested_at` is then this machine's) shows no countdown yet."""
        super().__init__(parent)
        self.setObjectName("waitingPanel")
        self.request_id = view.id
        self.policy_name = policy_name
        self.asked = asked  # how many approvers the request reached
        self._asked_clock = asked_clock
        self._read = asked_clock is None  # the view came from the database
        self.view = view
        self._services = services
        self._bridge = bridge
        self._accept_key: str | None = None  # kept for the retries of one "Accept"
        self._declined = False
        self._expiring = False
        self.reads = 0  # re-reads of the request (tests count them)
        self.setAccessibleName("Override request")

        self.title = plain_label("", bold=True)
        self.title.setWordWrap(True)
        self.reason = plain_label("")
        self.reason.setObjectName("muted")
        self.reason.setWordWrap(True)
        self.status = plain_label("")
        self.status.setAccessibleName("Answer")
        self.status.setWordWrap(True)
        self.clock = plain_label("")
        self.clock.setAccessibleName("Time left")
        self.withdraw_button = QPushButton("&Withdraw")
        self.withdraw_button.setAccessibleName("Withdraw the request")
        self.withdraw_button.clicked.connect(lambda: self._bridge.spawn(self.withdraw()))
        self.accept_button = QPushButton("Accept")
        self.accept_button.clicked.connect(lambda: self._bridge.spawn(self.accept_counter()))
        self.decline_button = QPushButton("Decline")
        self.decline_button.setAccessibleName("Decline the counter-offer")
        self.decline_button.clicked.connect(self.decline)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setAccessibleName("Close this answer")
        self.dismiss_button.clicked.connect(self.dismissed)

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.clock)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for button in (
            self.accept_button,
            self.decline_button,
            self.withdraw_button,
            self.dismiss_button,
        ):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.reason)
        layout.addLayout(buttons)

        self._tick = QTimer(self, interval=TICK_MS)
        self._tick.timeout.connect(self._count_down)
        self._recheck = QTimer(self, singleShot=True, interval=RECHECK_MS)
        self._recheck.timeout.connect(lambda: self._bridge.spawn(self.reread()))
        self._seen_status: OverrideStatus | None = None
        self.show_view(view)

    # -- showing ---------------------------------------------------------------------

    def show_view(self, view: OverrideView, note: str | None = None) -> None:
        self.view = view
        waiting = view.status == OverrideStatus.PENDING
        offer_open = view.status == OverrideStatus.COUNTERED and view.concession_id is None
        asked = "Asked a supervisor" if waiting else "Asked"
        self.title.setText(f"{asked}: {asked_text(view, self.policy_name)}")
        self.reason.setText(f"Reason: {view.reason}")
        words = note or answer_text(view, self.asked)
        if self._declined and offer_open:
            words = "You declined the offer: nothing was granted."
        self.status.setText(words)
        colour = STATUS_COLOURS.get(view.status, "#59636e")
        self.status.setStyleSheet(f"color: {colour};")
        self.setStyleSheet(PANEL_STYLE.format(colour=colour))
        self.withdraw_button.setVisible(waiting)
        offer = fmt.money(view.counter_amount_cents or 0, view.currency)
        self.accept_button.setText(f"&Accept {offer}")
        self.accept_button.setAccessibleName(f"Accept {offer}")
        self.accept_button.setVisible(offer_open and not self._declined)
        self.decline_button.setVisible(offer_open and not self._declined)
        self.dismiss_button.setVisible(not waiting)
        if waiting:
            self._count_down()
            if not self._tick.isActive():
                self._tick.start()
        else:
            self._tick.stop()
            self._recheck.stop()
            self.clock.setText(
                f"answered {view.decided_at.astimezone():%H:%M}" if view.decided_at else ""
            )
        previous, self._seen_status = self._seen_status, view.status
        if previous == OverrideStatus.PENDING and not waiting:
            self.answered.emit(view)

    def _count_down(self) -> None:
        if not self._read:
            self.clock.setText("")
            return
        left = countdown(seconds_left(self.view, self._asked_clock))
        self.clock.setText(left)
        if left == "time is up" and not self._expiring and not self._recheck.isActive():
            self._bridge.spawn(self.expire())

    # -- reading and acting ------------------------------------------------------------

    def apply_changes(self, changes: Changes) -> None:
        if changes.everything or self.request_id in changes.ids(Entity.OVERRIDE):
            self._bridge.spawn(self.reread())

    async def reread(self, note: str | None = None) -> OverrideView | None:
        self.reads += 1
        try:
            view = await self._bridge.run(self._services.authority.override, self.request_id)
        except Exception:
            log.warning("reading override request %s failed", self.request_id, exc_info=True)
            return None
        if view is not None and shiboken6.isValid(self):
            self._read = True
            self.show_view(view, note)
        return view

    async def expire(self) -> None:
        """The countdown ended: expire what is due (every client's countdown may), read."""
        from app.operations import authority as operations  # the core loads after the paint

        self._expiring = True
        try:
            await self._bridge.perform(operations.expire_due, self._services)
        except Exception:
            log.warning("expiring override requests failed", exc_info=True)
        finally:
            if shiboken6.isValid(self):
                self._expiring = False
        if not shiboken6.isValid(self):
            return
        view = await self.reread()
        if view is not None and view.status == OverrideStatus.PENDING and shiboken6.isValid(self):
            self._recheck.start()  # the server's clock has not got there yet

    async def withdraw(self) -> None:
        from app.operations import authority as operations

        self.withdraw_button.setEnabled(False)
        try:
            outcome = await self._bridge.perform(
                operations.withdraw, self._services, self.request_id
            )
        except (UserError, DatabaseError) as exc:
            if shiboken6.isValid(self):
                self.status.setText(f"Not withdrawn: {exc}")
            return
        finally:
            if shiboken6.isValid(self):
                self.withdraw_button.setEnabled(True)
        if shiboken6.isValid(self):
            await self.reread(None if outcome.ok else outcome.message)

    async def accept_counter(self) -> None:
        """Take the counter-offer: one concession at the offered amount (the key is kept
        for retries of this click, so a lost reply never grants it twice)."""
        from app.operations import authority as operations

        self._accept_key = self._accept_key or new_key()
        self.accept_button.setEnabled(False)
        try:
            outcome = await self._bridge.perform(
                operations.accept_counter, self._services, self.request_id, self._accept_key
            )
        except (UserError, DatabaseError) as exc:
            if shiboken6.isValid(self):
                self.status.setText(f"Not accepted: {exc}")
            return
        finally:
            if shiboken6.isValid(self):
                self.accept_button.setEnabled(True)
        if shiboken6.isValid(self):
            await self.reread(outcome.message)

    def decline(self) -> None:
        """Nothing to record: the offer simply is not taken (the request stays countered)."""
        self._declined = True
        self.show_view(self.view)

    def stop(self) -> None:
        self._tick.stop()
        self._recheck.stop()


__all__ = ["WaitingPanel"]
