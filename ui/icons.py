"""Icons from Material Design Icons, tinted to the current palette.

The eleven icons Rapport shows are SVG files in resources/icons/mdi/ (MDI 6.9.96,
drawn from the same glyphs qtawesome used). Loading them costs well under 1 MB and
no time; qtawesome loaded ten icon fonts, their charmaps and QtOpenGL (25 MB and
0.3 s before the first window). See resources/icons/mdi/README.md.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

ICON_DIR = Path(__file__).resolve().parent.parent / "resources" / "icons" / "mdi"
NAMES = (
    "search",
    "overview",
    "orders",
    "cases",
    "timeline",
    "household",
    "notes",
    "edit",
    "add",
    "new_customer",
    "customer",
    "call_log",
    "dial",
    "refresh",
    "concessions",
    "suggested",
)
SIZES = (16, 20, 24, 32, 48, 64)  # pixels; Qt picks (and on high-DPI screens doubles)


def icon(name: str) -> QIcon:
    app = QApplication.instance()
    colour = (
        app.palette().color(QPalette.ColorRole.WindowText).name()
        if isinstance(app, QApplication)
        else "#444444"
    )
    return _tinted(name, colour)


@cache
def _tinted(name: str, colour: str) -> QIcon:
    if name not in NAMES:
        raise KeyError(f"no icon named {name!r}")
    # The files fill with currentColor, which Qt's SVG renderer leaves black: put
    # the palette's text colour in its place, then draw the sizes Qt asks for.
    svg = (ICON_DIR / f"{name}.svg").read_text(encoding="utf-8").replace("currentColor", colour)
    renderer = QSvgRenderer(QByteArray(svg.encode()))
    result = QIcon()
    for size in SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(pixmap)
    return result
