"""Light and dark look, following the OS colour scheme unless told otherwise.

Fusion with an explicit palette renders the same on every platform, so what the
screenshots show is what agents get.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

LIGHT = {
    "window": "#f4f5f7",
    "base": "#ffffff",
    "alt": "#f7f8fa",
    "text": "#1f2328",
    "muted": "#59636e",
    "button": "#eceef1",
    "highlight": "#1f6feb",
    "header": "#ffffff",
    "border": "#d0d7de",
    "link": "#0b5cd5",
}
DARK = {
    "window": "#1e2024",
    "base": "#25282d",
    "alt": "#2b2f35",
    "text": "#e6e8eb",
    "muted": "#9aa3ad",
    "button": "#30343a",
    "highlight": "#3d7be0",
    "header": "#2a2e34",
    "border": "#3b4048",
    "link": "#7fb0ff",
}
TIER_COLOURS = {
    "platinum": "#6e6e8f",
    "gold": "#a67c00",
    "silver": "#6b7785",
    "standard": "#3b7d4f",
}
# The churn badge in the customer header (ui/features/suggestions/churn.py): white on a
# strong colour, as the tiers, readable on both themes' header.
CHURN_COLOURS = {"watch": "#b26a00", "high": "#c62828"}


def is_dark_requested(choice: str) -> bool:
    if choice == "dark":
        return True
    if choice == "light":
        return False
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, choice: str = "system") -> str:
    """Apply the palette and style sheet; returns "dark" or "light"."""
    dark = is_dark_requested(choice)
    colours = DARK if dark else LIGHT
    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "window",
        QPalette.ColorRole.WindowText: "text",
        QPalette.ColorRole.Base: "base",
        QPalette.ColorRole.AlternateBase: "alt",
        QPalette.ColorRole.Text: "text",
        QPalette.ColorRole.Button: "button",
        QPalette.ColorRole.ButtonText: "text",
        QPalette.ColorRole.ToolTipBase: "base",
        QPalette.ColorRole.ToolTipText: "text",
        QPalette.ColorRole.PlaceholderText: "muted",
        QPalette.ColorRole.Highlight: "highlight",
        QPalette.ColorRole.Link: "link",
    }
    for role, key in roles.items():
        palette.setColor(role, QColor(colours[key]))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colours["muted"]))
    app.setPalette(palette)
    tiers = "\n".join(
        f"QLabel#tier_{tier} {{ background: {colour}; color: white; border-radius: 4px;"
        f" padding: 1px 8px; }}"
        for tier, colour in TIER_COLOURS.items()
    )
    app.setStyleSheet(
        f"""
        QFrame#customerHeader {{ background: {colours["header"]};
            border: 1px solid {colours["border"]}; border-radius: 6px; }}
        QLineEdit#searchBox {{ padding: 6px 8px; font-size: 11pt; }}
        QTabWidget::pane {{ border-top: 1px solid {colours["border"]}; }}
        QTableView {{ gridline-color: {colours["border"]}; }}
        QLabel#muted {{ color: {colours["muted"]}; }}
        {tiers}
        """
    )
    return "dark" if dark else "light"


def follow_system_scheme(app: QApplication) -> None:
    """Re-apply the theme when the OS switches between light and dark."""
    QGuiApplication.styleHints().colorSchemeChanged.connect(
        lambda _scheme: apply_theme(app, "system")
    )
