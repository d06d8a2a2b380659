"""Who else is on this case: the presence bar and the driver that keeps it current.

`PresenceBar` shows, in words and colour, who else has the case open ("Maria Lopez is
viewing"), who is typing ("Tom Baker is typing…") and who claimed it ("Claimed by Tom
Baker 2 min ago — he is replying"), with the "Claim (I'm replying)" button.

`PresenceDriver` sends this workstation's heartbeat every `HEARTBEAT_MS` while the case
tab is shown (app/services/presence.py: a presence not refreshed for 30 s disappears),
says "typing" while the agent types in the reply editor, refreshes the bar when the
change bus reports presence on the case, and leaves the case when `close()` is called.
Hidden tab: heartbeats pause (the row expires by itself); shown again: they resume.

Signals (PresenceBar):
    claim_requested(): the agent pressed "Claim (I'm replying)".
    release_requested(): the agent pressed "Release" on their own claim.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QWidget

from app.changes import Changes, Entity
from app.errors import UserError
from ui.bridge import DatabaseBridge
from ui.widgets import plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services  # the core loads after the first paint
    from app.services.presence import CasePresenceView

log = logging.getLogger(__name__)

HEARTBEAT_MS = 10_000
# Typing is reported for this long after the last keystroke, then "viewing" again.
TYPING_FOR_S = 15.0
TONES = {
    "viewing": "#1f6feb",
    "typing": "#a15c00",
    "claimed": "#c62828",  # someone else is replying: think twice before typing
    "mine": "#2e7d32",
}


@dataclass(frozen=True)
class PresenceLine:
    text: str
    tone: str  # a key of TONES


def presence_lines(view: CasePresenceView, now: dt.datetime) -> list[PresenceLine]:
    """What the bar says: the claim first (it matters most), then the other viewers."""
    lines: list[PresenceLine] = []
    claim = view.claim
    if claim is not None:
        ago = _ago(now - claim.since)
        if claim.mine:
            lines.append(PresenceLine(f"You claimed this case {ago} — you are replying", "mine"))
        else:
            doing = "replying now" if claim.holder_activity == "typing" else "has it open"
            lines.append(PresenceLine(f"Claimed by {claim.holder_name} {ago} — {doing}", "claimed"))
    for viewer in view.others:
        if claim is not None and not claim.mine and viewer.user_id == claim.holder_id:
            continue  # said in the claim's line
        if viewer.activity == "typing":
            lines.append(PresenceLine(f"{viewer.name} is typing…", "typing"))
        else:
            lines.append(PresenceLine(f"{viewer.name} is viewing", "viewing"))
    return lines


def _ago(elapsed: dt.timedelta) -> str:
    seconds = max(0, int(elapsed.total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


class PresenceBar(QWidget):
    claim_requested = Signal()
    release_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Who else is on this case")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._lines_box = QHBoxLayout()
        layout.addLayout(self._lines_box, 1)
        self.alone = plain_label("Nobody else has this case open")
        self.alone.setStyleSheet("color: #59636e;")
        self._lines_box.addWidget(self.alone)
        self.labels: list[QLabel] = []
        self.message = plain_label("")
        self.message.setAccessibleName("Presence message")
        layout.addWidget(self.message)
        self.claim_button = QPushButton("Claim (I'm replying)")
        self.claim_button.setToolTip("Tell the others you are writing to the customer")
        self.claim_button.clicked.connect(self._clicked)
        layout.addWidget(self.claim_button)
        self._mine = False

    def show_presence(self, view: CasePresenceView, now: dt.datetime | None = None) -> None:
        now = now or dt.datetime.now(dt.UTC)
        for label in self.labels:
            self._lines_box.removeWidget(label)
            label.deleteLater()
        self.labels = []
        lines = presence_lines(view, now)
        for line in lines:
            label = plain_label(line.text, bold=line.tone in ("claimed", "typing"))
            label.setStyleSheet(f"color: {TONES[line.tone]};")
            label.setProperty("tone", line.tone)
            self._lines_box.addWidget(label)
            self.labels.append(label)
        self.alone.setVisible(not lines)
        self._mine = view.claim is not None and view.claim.mine
        self.claim_button.setText(
            "Release (done replying)" if self._mine else "Claim (I'm replying)"
        )
        self.claim_button.setEnabled(True)

    def show_message(self, text: str) -> None:
        """A sentence about the last claim or heartbeat (a refusal, a lost connection)."""
        self.message.setText(text)
        self.message.setStyleSheet("color: #c62828;" if text else "")

    @property
    def texts(self) -> list[str]:
        return [label.text() for label in self.labels]

    def _clicked(self) -> None:
        self.claim_button.setEnabled(False)  # until the answer comes back
        if self._mine:
            self.release_requested.emit()
        else:
            self.claim_requested.emit()


class PresenceDriver(QObject):
    """Keeps one case tab's presence alive and its `PresenceBar` current.

    `watched`: the case tab; its Show and Hide events resume and pause the heartbeats.
    `editor`: the reply editor; typing in it reports "typing". `case_version`: the
    version of the case the tab shows (a claim on a case changed since is refused).
    Call `close()` when the tab closes: it stops the timer and leaves the case.
    """

    def __init__(
        self,
        bridge: DatabaseBridge,
        services: Services,
        case_id: int,
        customer_id: int | None,
        bar: PresenceBar,
        *,
        watched: QWidget | None = None,
        editor: QPlainTextEdit | None = None,
        case_version: Callable[[], int | None] = lambda: None,
        interval_ms: int = HEARTBEAT_MS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._bridge = bridge
        self._services = services
        self.case_id = case_id
        self.customer_id = customer_id
        self.bar = bar
        self._case_version = case_version
        self._monotonic = clock
        self._typed_at: float | None = None
        self._reported: str | None = None  # the activity last sent
        self._closed = False
        self.beats = 0  # heartbeats answered (for tests and the log)
        # Heartbeats on their way: leaving waits for them, or one finishing on the other
        # worker after the leave would put a ghost back for 30 s.
        self._in_flight: set[asyncio.Task[None]] = set()
        self.timer = QTimer(self, interval=interval_ms)
        self.timer.timeout.connect(self.beat)
        bar.claim_requested.connect(self.claim)
        bar.release_requested.connect(self.release)
        bridge.changed.connect(self._on_changes)
        self._editor = editor
        if editor is not None:
            editor.textChanged.connect(self._typed)
        self._watched = watched
        if watched is not None:
            watched.installEventFilter(self)
            if watched.isVisible():
                self.start()
        else:
            self.start()

    @property
    def running(self) -> bool:
        return self.timer.isActive()

    def start(self) -> None:
        if self._closed or self.timer.isActive():
            return
        self.timer.start()
        self.beat()

    def pause(self) -> None:
        self.timer.stop()

    def close(self) -> None:
        """The tab is closing: no more heartbeats; my presence (and claim) go."""
        if self._closed:
            return
        self._closed = True
        self.timer.stop()
        self._disconnect()
        self._bridge.spawn(self._leave())

    def activity(self) -> str:
        typing = self._typed_at is not None and self._monotonic() - self._typed_at < TYPING_FOR_S
        return "typing" if typing else "viewing"

    def beat(self) -> None:
        if not self._closed:
            task = self._bridge.spawn(self._heartbeat())
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    def claim(self) -> None:
        self._bridge.spawn(self._claim(release=False))

    def release(self) -> None:
        self._bridge.spawn(self._claim(release=True))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._watched:
            if event.type() == QEvent.Type.Show:
                self.start()
            elif event.type() == QEvent.Type.Hide:
                self.pause()
        return False

    # -- the round trips ---------------------------------------------------------------

    async def _heartbeat(self) -> None:
        from app.operations.teamwork import heartbeat
        from models.enums import PresenceActivity

        activity = PresenceActivity(self.activity())
        self._reported = activity.value
        try:
            view = await self._bridge.perform(
                heartbeat, self._services, self.case_id, self.customer_id, activity
            )
        except Exception as exc:  # the next beat tries again; say why this one failed
            log.info("presence heartbeat failed: %s", type(exc).__name__)
            self._say(f"Presence not updated: {exc}")
            return
        self.beats += 1
        self._show(view)

    async def _claim(self, *, release: bool) -> None:
        from app.operations.teamwork import claim_case, release_case

        try:
            if release:
                view = await self._bridge.perform(
                    release_case, self._services, self.case_id, self.customer_id
                )
            else:
                view = await self._bridge.perform(
                    claim_case,
                    self._services,
                    self.case_id,
                    self.customer_id,
                    self._case_version(),
                )
        except UserError as exc:
            self._say(str(exc))
            await self._refresh()
            return
        except Exception as exc:
            log.info("claim failed: %s", type(exc).__name__)
            self._say(f"Not claimed: {exc}")
            await self._refresh()
            return
        self._say("")
        self._show(view)

    async def _refresh(self) -> None:
        try:
            view = await self._bridge.run(self._services.presence.who_else, self.case_id)
        except Exception as exc:
            log.info("presence refresh failed: %s", type(exc).__name__)
            return
        self._show(view)

    async def _leave(self) -> None:
        from app.operations.teamwork import leave_case

        if self._in_flight:
            await asyncio.wait(set(self._in_flight))
        try:
            await self._bridge.perform(leave_case, self._services, self.case_id, self.customer_id)
        except Exception as exc:  # the row expires by itself within 30 s
            log.info("leaving a case failed: %s", type(exc).__name__)

    # -- plumbing ----------------------------------------------------------------------

    def _typed(self) -> None:
        self._typed_at = self._monotonic()
        if self._reported != "typing" and self.timer.isActive():
            self._reported = "typing"  # one early beat, not one per keystroke
            self.beat()  # the others see "typing" now, not at the next beat

    def _on_changes(self, changes: Changes) -> None:
        if self._closed:
            return
        if changes.everything or self.case_id in changes.ids(Entity.PRESENCE):
            self._bridge.spawn(self._refresh())

    def _show(self, view: CasePresenceView) -> None:
        if not self._closed and shiboken6.isValid(self.bar):
            self.bar.show_presence(view)

    def _say(self, text: str) -> None:
        if shiboken6.isValid(self.bar):
            self.bar.show_message(text)
            self.bar.claim_button.setEnabled(True)

    def _disconnect(self) -> None:
        try:
            self._bridge.changed.disconnect(self._on_changes)
        except (RuntimeError, TypeError):  # already gone with the bridge
            pass
        if self._watched is not None and shiboken6.isValid(self._watched):
            self._watched.removeEventFilter(self)
        if self._editor is not None and shiboken6.isValid(self._editor):
            self._editor.textChanged.disconnect(self._typed)


__all__ = ["HEARTBEAT_MS", "PresenceBar", "PresenceDriver", "PresenceLine", "presence_lines"]
