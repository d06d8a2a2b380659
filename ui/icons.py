"""Icons from Material Design Icons (via qtawesome), tinted to the current palette."""

from __future__ import annotations

import functools

import qtawesome
from PySide6.QtGui import QIcon, QPalette
from PySide6.QtWidgets import QApplication

NAMES = {
    "search": "mdi6.magnify",
    "overview": "mdi6.view-dashboard-outline",
    "orders": "mdi6.package-variant-closed",
    "cases": "mdi6.briefcase-outline",
    "timeline": "mdi6.timeline-clock-outline",
    "household": "mdi6.home-heart",
    "notes": "mdi6.note-text-outline",
    "edit": "mdi6.account-edit-outline",
    "add": "mdi6.plus",
    "new_customer": "mdi6.account-plus-outline",
    "customer": "mdi6.account-outline",
    "call_log": "mdi6.phone-log",
    "dial": "mdi6.phone-outgoing",
    "refresh": "mdi6.refresh",
}


def icon(name: str) -> QIcon:
    app = QApplication.instance()
    colour = (
        app.palette().color(QPalette.ColorRole.WindowText).name()
        if isinstance(app, QApplication)
        else "#444444"
    )
    return _tinted(name, colour)


@functools.cache
def _tinted(name: str, colour: str) -> QIcon:
    # A screen pop builds a customer view with seven icons: make each once per colour.
    return qtawesome.icon(NAMES[name], color=colour)
