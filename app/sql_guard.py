"""Catch SQL executed on the GUI thread, the one thing that freezes a desktop app.

The UI never queries directly; it awaits services through the async bridge,
which runs them on worker threads. This guard makes a slip visible: tests turn
it into an error, the running app logs it with a stack.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)


class SqlOnGuiThreadError(RuntimeError):
    pass


class GuiThreadSqlGuard:
    def __init__(self, gui_thread: threading.Thread, *, raise_error: bool) -> None:
        self.gui_thread = gui_thread
        self.raise_error = raise_error
        self.violations: list[str] = []
        self.enabled = True

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._check)

    def detach(self, engine: Engine) -> None:
        if event.contains(engine, "before_cursor_execute", self._check):
            event.remove(engine, "before_cursor_execute", self._check)

    def _check(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not self.enabled or threading.current_thread() is not self.gui_thread:
            return
        self.violations.append(statement)
        message = f"SQL on the GUI thread: {statement[:120]}"
        if self.raise_error:
            raise SqlOnGuiThreadError(message)
        log.error("%s\n%s", message, "".join(traceback.format_stack(limit=12)))
