"""What every telephony adapter shares: status reporting, backoff, safe emission, and the
reconnect loop of the adapters that hold a connection to their peer (AMI, baresip).

Users complain most about pop-ups that stop after the PBX or the softphone restarts,
so a dropped link is retried for ever, with a delay that grows to BACKOFF_MAX and
starts again from BACKOFF_INITIAL after a connection that worked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from app.telephony.events import CallEvent

log = logging.getLogger(__name__)

Status = Literal["connecting", "connected", "disconnected", "listening", "error"]
Emit = Callable[[CallEvent], None]
StatusCallback = Callable[[str, str], None]
# What a session calls once its peer is usable (logged in, greeted): its detail is
# shown with the "connected" status, and the backoff starts again from the beginning.
Connected = Callable[[str], None]
Session = Callable[[Connected], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]

BACKOFF_INITIAL = 0.5
BACKOFF_MAX = 30.0

T = TypeVar("T")


async def bounded(awaitable: Awaitable[T], seconds: float) -> T:
    """asyncio.wait_for without Python 3.11's race that can swallow a cancellation.

    On 3.11, wait_for returns the result when it completes in the same loop
    iteration as a cancel, so stopping an adapter could hang; asyncio.timeout
    does not have that flaw.
    """
    async with asyncio.timeout(seconds):
        return await awaitable


class Backoff:
    """Exponential reconnect delay: 0.5 s doubling to 30 s, reset after a good connect."""

    def __init__(self, initial: float = BACKOFF_INITIAL, maximum: float = BACKOFF_MAX) -> None:
        self.initial = initial
        self.maximum = maximum
        self._next = initial

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return delay

    def reset(self) -> None:
        self._next = self.initial


class StatusReporter:
    """Holds an adapter's status and tells `on_status` about every change; runs the
    reconnect loop of adapters that keep a connection (`keep_connected`)."""

    def __init__(self, on_status: StatusCallback | None = None) -> None:
        self.status: Status = "disconnected"
        self.status_detail = ""
        self.on_status = on_status

    def _set_status(self, status: Status, detail: str = "") -> None:
        if (status, detail) == (self.status, self.status_detail):
            return
        self.status = status
        self.status_detail = detail
        log.info("%s: %s %s", type(self).__name__, status, detail)
        if self.on_status is not None:
            try:
                self.on_status(status, detail)
            except Exception:
                # A broken UI callback must not take the telephony link down with it.
                log.exception("on_status callback failed")

    async def keep_connected(
        self,
        address: str,
        session: Session,
        *,
        closed: str,
        dropped: tuple[type[Exception], ...],
        refused: tuple[type[Exception], ...] = (),
        backoff: Backoff | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Connect, run `session` until the connection drops, report it, back off, again.

        `session(connected)` opens the connection, calls `connected(detail)` once the
        peer is usable and reads until the peer closes (it returns: `closed` is shown)
        or the link fails with one of `dropped`. An error in `refused` (a login the peer
        turned down) is shown as "error" with its message, which stays up while the loop
        backs off as after a drop. Anything else is a bug and propagates rather than
        spinning. Runs until cancelled; then reports "stopped".
        """
        backoff = backoff or Backoff()

        def connected(detail: str) -> None:
            backoff.reset()
            self._set_status("connected", detail)

        try:
            while True:
                self._set_status("connecting", address)
                try:
                    await session(connected)
                    detail = closed
                except refused as exc:
                    self._set_status("error", str(exc))
                    await sleep(backoff.next_delay())
                    continue
                except dropped as exc:
                    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                delay = backoff.next_delay()
                self._set_status("disconnected", f"{detail}; retrying in {delay:g} s")
                await sleep(delay)
        finally:
            self._set_status("disconnected", "stopped")


def safe_emit(emit: Emit, event: CallEvent) -> None:
    """Hand an event to the app; its failures are logged, never allowed to kill the adapter."""
    try:
        emit(event)
    except Exception:
        log.exception("call event handler failed for %s", event.call_id)
