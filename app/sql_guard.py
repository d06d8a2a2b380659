"""Catch SQL executed on the GUI thread, the one thing that freezes a desktop app.

The UI never queries directly; it awaits services through the async bridge,
which runs them on worker threads. This guard makes a slip visible: tests turn
it into an error, the running app logs a warning with the stack, once per call
site (the line outside the database layer that called into it), so a slip in a
timer or a loop does not flood the log.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import FrameType
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)

# Modules whose frames are "the database layer": the call site is the caller of the
# outermost of them (a service method called from a widget: the widget's line).
DATABASE_LAYER = ("sqlalchemy", "alembic", "models", "app.services", "app.sql_guard")
STACK_FRAMES = 15


class SqlOnGuiThreadError(RuntimeError):
    pass


def _in_database_layer(frame: FrameType) -> bool:
    module = str(frame.f_globals.get("__name__", ""))
    return any(module == name or module.startswith(name + ".") for name in DATABASE_LAYER)


def call_site(frame: FrameType | None) -> tuple[tuple[str, int] | None, list[FrameType]]:
    """The (file, line) that called into the database layer, and the frames up to it.

    `frame` is the innermost frame; the frames come back outermost first, ending with
    the first one inside the database layer.
    """
    frames: list[FrameType] = []
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    frames.reverse()
    for depth, current in enumerate(frames):
        if _in_database_layer(current):
            if depth == 0:
                return None, frames
            caller = frames[depth - 1]
            return (caller.f_code.co_filename, caller.f_lineno), frames[: depth + 1]
    return None, frames


class GuiThreadSqlGuard:
    def __init__(self, gui_thread: threading.Thread, *, raise_error: bool) -> None:
        self.gui_thread = gui_thread
        self.raise_error = raise_error
        self.violations: list[str] = []
        self.enabled = True
        self._logged_sites: set[tuple[str, int] | None] = set()

    def attach(self, engine: Engine) -> None:
        if not event.contains(engine, "before_cursor_execute", self._check):
            event.listen(engine, "before_cursor_execute", self._check)

    def detach(self, engine: Engine) -> None:
        if event.contains(engine, "before_cursor_execute", self._check):
            event.remove(engine, "before_cursor_execute", self._check)

    def _check(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not self.enabled or threading.current_thread() is not self.gui_thread:
            return
        message = f"SQL on the GUI thread: {statement[:120]}"
        if self.raise_error:
            self.violations.append(statement)
            raise SqlOnGuiThreadError(message)
        site, frames = call_site(sys._getframe(1))
        if site in self._logged_sites:
            return
        self._logged_sites.add(site)
        self.violations.append(statement)
        stack = traceback.StackSummary.extract((f, f.f_lineno) for f in frames[-STACK_FRAMES:])
        where = f"{site[0]}:{site[1]}" if site else "unknown site"
        log.warning("%s\ncalled from %s\n%s", message, where, "".join(stack.format()))
