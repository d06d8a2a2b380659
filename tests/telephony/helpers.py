"""Shared test helpers: run a coroutine with a deadline, collect events, wait for conditions."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from app.telephony.adapter import bounded
from app.telephony.events import CallEvent

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], timeout: float = 15.0) -> T:
    """A fresh event loop per test; the deadline turns a hang into a failure."""

    async def with_deadline() -> T:
        return await bounded(coro, timeout)

    started = time.monotonic()
    result = asyncio.run(with_deadline())
    # A coroutine that swallows the deadline's cancellation would otherwise pass silently.
    assert time.monotonic() - started < timeout, f"scenario ran into its {timeout} s deadline"
    return result


async def until(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    try:
        await bounded(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what or predicate}") from None


class Collector:
    """The emit callback: records events and status changes for assertions."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []
        self.statuses: list[tuple[str, str]] = []

    def __call__(self, event: CallEvent) -> None:
        self.events.append(event)

    def on_status(self, status: str, detail: str) -> None:
        self.statuses.append((status, detail))

    def states(self) -> list[str]:
        return [event.state.value for event in self.events]

    async def wait_events(self, count: int, timeout: float = 5.0) -> list[CallEvent]:
        await until(lambda: len(self.events) >= count, timeout, f"{count} call events")
        return self.events[:count]


async def cancel(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
