"""Collect cyclic garbage on the GUI thread only.

Python's collector runs in whichever thread happens to allocate. If it runs on a
database worker and frees a cycle that holds a Qt widget, Qt destroys that
widget off the GUI thread ("Timers cannot be stopped from another thread",
and sometimes a crash). So automatic collection is switched off and a timer
on the GUI thread collects instead, generation by generation, as Python would.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class GuiThreadGarbageCollector(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self, interval=INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()
