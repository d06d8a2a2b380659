"""The dashboards' bar chart: this period beside the previous one, drawn with
pyqtgraph (MIT: it ships in the installer; Qt Charts is GPL-only), in the colours
of the current palette, so dark mode is dark here too.

A click on a bar (either period's) emits `bar_activated(index)`; the page drills
down to the rows behind it. The keyboard reaches the same rows through the table
under the chart, which lists the same groups.

Signals:
    bar_activated(int): the bar (group) at this index was clicked.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QVBoxLayout, QWidget

# pyqtgraph picks a Qt binding at import: this one, never PyQt5/PyQt6 (the installer
# bundles only PySide6).
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
import pyqtgraph as pg

from ui.features.dashboards import words

WIDTH = 0.38  # of each of the two bars of a group (a group is 1 wide)
MAX_LABEL = 14  # characters of a group's name under its bars


class BarChart(QWidget):
    bar_activated = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(180)
        self.plot.setAccessibleName("Chart: this period beside the previous one")
        self.legend = self.plot.addLegend(offset=(-10, 8))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self._labels: list[str] = []
        self._current: list[float] = []
        self._previous: list[float] = []
        self.title = ""
        self._paint()

    def set_bars(
        self,
        title: str,
        labels: Sequence[str],
        current: Sequence[float],
        previous: Sequence[float],
    ) -> None:
        self.title = title
        self._labels = list(labels)
        self._current = [float(v) for v in current]
        self._previous = [float(v) for v in previous]
        self._paint()

    @property
    def bar_count(self) -> int:
        return len(self._labels)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._paint()
        super().changeEvent(event)

    def _colours(self) -> dict[str, QColor]:
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        previous = palette.color(QPalette.ColorRole.PlaceholderText)
        return {
            "background": palette.color(QPalette.ColorRole.Base),
            "text": text,
            "current": palette.color(QPalette.ColorRole.Highlight),
            "previous": previous,
        }

    def _paint(self) -> None:
        colours = self._colours()
        plot = self.plot
        plot.clear()
        self.legend.clear()
        plot.setBackground(colours["background"])
        plot.setTitle(self.title, color=colours["text"], size="10pt")
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.setPen(colours["text"])
            axis.setTextPen(colours["text"])
        self.legend.setLabelTextColor(colours["text"])
        if not self._labels:
            return
        xs = list(range(len(self._labels)))
        before = pg.BarGraphItem(
            x=[x - WIDTH / 2 for x in xs],
            height=self._previous,
            width=WIDTH,
            brush=colours["previous"],
            pen=pg.mkPen(None),
            name="Previous period",
        )
        now = pg.BarGraphItem(
            x=[x + WIDTH / 2 for x in xs],
            height=self._current,
            width=WIDTH,
            brush=colours["current"],
            pen=pg.mkPen(None),
            name="This period",
        )
        plot.addItem(before)
        plot.addItem(now)
        ticks = [(x, _short(label)) for x, label in zip(xs, self._labels, strict=True)]
        plot.getAxis("bottom").setTicks([ticks])
        top = max([*self._current, *self._previous, 0.0]) or 1.0
        plot.setXRange(-0.6, len(xs) - 0.4, padding=0)
        plot.setYRange(0, top * 1.15, padding=0)

    def bar_at(self, x: float) -> int | None:
        """The group whose bars span x (in plot coordinates), or None."""
        index = round(x)
        if 0 <= index < len(self._labels) and abs(x - index) <= WIDTH + 0.01:
            return index
        return None

    def _clicked(self, event: object) -> None:
        view = self.plot.getPlotItem().getViewBox()
        point = view.mapSceneToView(event.scenePos())  # type: ignore[attr-defined]
        index = self.bar_at(point.x())
        if index is not None and point.y() >= 0:
            self.bar_activated.emit(index)


def _short(label: str) -> str:
    label = words.cell(label)  # "goodwill_gift" as the table says it: "goodwill gift"
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"
