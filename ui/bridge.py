"""The one way the UI reaches the database: await a service call on a worker thread.

Services are synchronous and may block; the GUI thread must not. `DatabaseBridge.run`
hands a call to a small thread pool and awaits it on the qasync loop, so the
widget code reads top to bottom while the window keeps painting.

Signals:
    busy_changed(bool): True once a call has run longer than BUSY_AFTER_MS,
        False when no call is running any more. Drives the discreet busy indicator.
    connection_lost(str): a call failed because the database is unreachable.
    changed(Changes): entities were written, here (an operation run by `perform`)
        or by another agent (the change feed publishes what it hears). Views
        connect to it and refresh only what they show (app/changes.py).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal

from app.changes import Changes
from app.errors import is_connection_error
from app.operations import Done

BUSY_AFTER_MS = 150
P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)


class DatabaseBridge(QObject):
    busy_changed = Signal(bool)
    connection_lost = Signal(str)
    changed = Signal(object)  # Changes

    def __init__(self, max_workers: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix="rapport-db")
        self._running = 0
        self._busy = False
        self._busy_timer = QTimer(self, singleShot=True, interval=BUSY_AFTER_MS)
        self._busy_timer.timeout.connect(self._show_busy)
        self._tasks: set[asyncio.Task[Any]] = set()
        # Stopped by `shutdown` too: what runs beside the workers (the change feed).
        self._stop_at_shutdown: list[Callable[[], None]] = []

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        self._running += 1
        if self._running == 1:
            self._busy_timer.start()
        try:
            return await loop.run_in_executor(
                self._executor, functools.partial(fn, *args, **kwargs)
            )
        except Exception as exc:
            if is_connection_error(exc):
                self.connection_lost.emit(str(exc).splitlines()[0])
            raise
        finally:
            self._running -= 1
            if self._running == 0:
                self._busy_timer.stop()
                if self._busy:
                    self._busy = False
                    self.busy_changed.emit(False)

    async def perform(
        self, operation: Callable[P, Done[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run a write (app/operations/) on a worker; publish what it changed."""
        done = await self.run(operation, *args, **kwargs)
        self.publish(done.changes)
        return done.value

    def publish(self, changes: Changes) -> None:
        if changes:
            self.changed.emit(changes)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Start a UI coroutine from a plain slot; keep it referenced, log its failure."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The loop's exception handler logs it (and in the app shows the crash
            # dialog, see ui/crash_dialog.py); the default one just logs.
            task.get_loop().call_exception_handler(
                {"message": "background task failed", "exception": task.exception(), "task": task}
            )

    def _show_busy(self) -> None:
        if self._running and not self._busy:
            self._busy = True
            self.busy_changed.emit(True)

    @property
    def running(self) -> int:
        return self._running

    def stop_at_shutdown(self, stop: Callable[[], None]) -> None:
        """Have `shutdown` call `stop` (a synchronous stop of a background service)."""
        self._stop_at_shutdown.append(stop)

    def shutdown(self) -> None:
        """Cancel UI tasks and wait for worker threads; call before the loop stops."""
        for stop in self._stop_at_shutdown:
            stop()
        self._stop_at_shutdown.clear()
        for task in list(self._tasks):
            task.cancel()
        self._busy_timer.stop()
        self._executor.shutdown(wait=True, cancel_futures=True)
