"""Draw the Rapport application icon with QPainter: resources/icons/rapport.png and .ico.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m installer.make_icon

Drawn in code (no downloaded art, no Pillow): a rounded blue tile with a white
speech bubble holding an "R". The .ico holds PNG-compressed images
at the sizes Windows asks for (16..256); Windows Vista and later read PNG
entries, and writing the container by hand avoids depending on Qt's ico plugin.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter, QPainterPath

ICON_DIR = Path(__file__).resolve().parent.parent / "resources" / "icons"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def draw(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    s = float(size)
    # Tile: drawn in a 1-unit space scaled to the size, so every size is the same shape.
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#1f5fa8"))
    painter.drawRoundedRect(QRectF(0.0, 0.0, s, s), s * 0.2, s * 0.2)
    # Speech bubble with a tail at the bottom left.
    bubble = QPainterPath()
    bubble.addRoundedRect(QRectF(s * 0.16, s * 0.18, s * 0.68, s * 0.52), s * 0.14, s * 0.14)
    tail = QPainterPath()
    tail.moveTo(QPointF(s * 0.28, s * 0.62))
    tail.lineTo(QPointF(s * 0.22, s * 0.84))
    tail.lineTo(QPointF(s * 0.46, s * 0.66))
    tail.closeSubpath()
    painter.setBrush(QColor("#ffffff"))
    painter.drawPath(bubble.united(tail))
    # The letter; below 24 px a glyph is mush, the bubble alone reads better.
    if size >= 24:
        font = QFont("DejaVu Sans")
        font.setBold(True)
        font.setPixelSize(max(8, round(s * 0.4)))
        painter.setFont(font)
        painter.setPen(QColor("#1f5fa8"))
        painter.drawText(
            QRectF(s * 0.16, s * 0.18, s * 0.68, s * 0.52), Qt.AlignmentFlag.AlignCenter, "R"
        )
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]  # stubs want bytes, runtime str
        raise RuntimeError("Qt could not encode PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(images: list[tuple[int, bytes]]) -> bytes:
    # ICONDIR (reserved, type 1 = icon, count), one ICONDIRENTRY per image, then the data.
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries = b""
    blobs = b""
    for size, blob in images:
        dim = 0 if size >= 256 else size  # 0 means 256 in the directory entry
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        offset += len(blob)
        blobs += blob
    return header + entries + blobs


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    ICON_DIR.mkdir(parents=True, exist_ok=True)
    (ICON_DIR / "rapport.png").write_bytes(png_bytes(draw(256)))
    (ICON_DIR / "rapport.ico").write_bytes(
        ico_bytes([(size, png_bytes(draw(size))) for size in ICO_SIZES])
    )
    del app
    print(ICON_DIR / "rapport.png")
    print(ICON_DIR / "rapport.ico")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
