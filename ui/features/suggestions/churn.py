"""Churn risk where the agent cannot miss it: a compact badge in the customer header
("Churn risk: high", the factors in its tooltip) and the same factors in words under the
header, so nobody has to hover. Nothing is shown at "none".

The colours are the theme's (`ui/theme.py` `CHURN_COLOURS`): the badge is white on the
level's colour, as the tier badge is; the line keeps the palette's text colour beside a
rule of that colour, so both read in the dark theme.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from app.services import views as v
from ui.features.suggestions import words
from ui.table_model import plain_tooltip
from ui.theme import CHURN_COLOURS

BADGE_STYLE = (
    "background: {colour}; color: white; border-radius: 4px; padding: 1px 8px; font-weight: bold;"
)
BADGE_PADDING = 2 * 8 + 4  # the style's padding each side, and some air


def churn_line_style(level: str) -> str:
    colour = CHURN_COLOURS.get(level)
    if colour is None:
        return ""
    return (
        f"border: 0px; border-left: 3px solid {colour}; padding: 2px 0 2px 8px; font-weight: bold;"
    )


class ChurnBadge(QLabel):
    """ "Churn risk: high" in the header's title row; hidden at "none"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAccessibleName("Churn risk")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.font()
        font.setBold(True)
        self.setFont(font)
        # Never squeezed by a long name: the badge is short and must read whole.
        self.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        self.level = "none"
        self.hide()

    def show_churn(self, churn: v.ChurnRisk) -> None:
        self.level = churn.level
        colour = CHURN_COLOURS.get(churn.level)
        self.setStyleSheet(BADGE_STYLE.format(colour=colour) if colour else "")
        text = words.churn_badge(churn)
        self.setText(text)
        self.setToolTip(plain_tooltip(words.churn_tip(churn)) if churn.level != "none" else "")
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance(text) + BADGE_PADDING)
        self.setVisible(churn.level != "none")


class ChurnLine(QLabel):
    """The factors in words, under the header: "High churn risk: 2 broken promises in
    90 days; 4 contacts in 30 days; open complaint"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setObjectName("churnLine")
        self.setAccessibleName("Churn risk factors")
        self.setWordWrap(True)
        self.hide()

    def show_churn(self, churn: v.ChurnRisk) -> None:
        self.setText(words.churn_line(churn))
        self.setStyleSheet(churn_line_style(churn.level))
        self.setVisible(churn.level != "none")
