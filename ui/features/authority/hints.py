"""Policy hints as the agent sees them: the exceptions a customer qualifies for, calm
but in sight, and the ones they do not, folded away behind "Why not…".

Why fold rather than drop the others: most of the time they are noise during a call, but
when a customer asks "can't you make an exception?" the agent needs the reason at hand
("customer for 2 years, needs 3") instead of guessing; one click shows it.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.services.authority import PolicyHint
from ui.features.authority.words import hint_text, worth_saying
from ui.widgets import plain_label

# A calm accent: a thin green rule beside the words, no fill, readable in both themes.
QUALIFIES_STYLE = (
    "QLabel#policyHint { border: 0px; border-left: 3px solid #2e7d32; padding: 2px 0 2px 8px; }"
)


def hint_label(hint: PolicyHint) -> QLabel:
    label = plain_label(hint_text(hint))
    label.setObjectName("policyHint")
    label.setStyleSheet(QUALIFIES_STYLE)
    label.setWordWrap(True)
    label.setToolTip(hint.rule_text)
    label.setAccessibleName(f"Policy hint: {hint.name}")
    return label


class PolicyHints(QWidget):
    """The qualifying hints, one line each (unless `show_qualifying` is false: the tab's
    strip shows them already); with `fold_others`, the rest behind a toggle. Hidden when
    there is nothing to say."""

    def __init__(
        self, fold_others: bool, show_qualifying: bool = True, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._fold_others = fold_others
        self._show_qualifying = show_qualifying
        self.hints: tuple[PolicyHint, ...] = ()
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.qualifying: list[QLabel] = []
        self.others = plain_label("")
        self.others.setObjectName("muted")
        self.others.setWordWrap(True)
        self.others.hide()
        self.why_not = QPushButton("Why not…")
        self.why_not.setFlat(True)
        self.why_not.setCheckable(True)
        self.why_not.setAccessibleName("Show the exceptions this customer does not qualify for")
        self.why_not.toggled.connect(self.others.setVisible)
        self._fold_row = QFrame()
        fold = QHBoxLayout(self._fold_row)
        fold.setContentsMargins(0, 0, 0, 0)
        self.not_qualifying = plain_label("")
        self.not_qualifying.setObjectName("muted")
        fold.addWidget(self.not_qualifying)
        fold.addWidget(self.why_not)
        fold.addStretch(1)
        self._layout.addWidget(self._fold_row)
        self._layout.addWidget(self.others)
        self._fold_row.hide()
        self.hide()

    def show_hints(self, hints: Sequence[PolicyHint]) -> None:
        hints = tuple(h for h in hints if worth_saying(h))
        if hints == self.hints:
            return
        self.hints = hints
        for label in self.qualifying:
            self._layout.removeWidget(label)
            label.deleteLater()
        self.qualifying = [hint_label(h) for h in hints if h.qualifies and self._show_qualifying]
        for position, label in enumerate(self.qualifying):
            self._layout.insertWidget(position, label)
        others = [h for h in hints if not h.qualifies] if self._fold_others else []
        self.not_qualifying.setText(f"No exception to {', '.join(h.name for h in others)}.")
        self.others.setText("\n".join(hint_text(h) for h in others))
        self._fold_row.setVisible(bool(others))
        self.others.setVisible(bool(others) and self.why_not.isChecked())
        self.setVisible(bool(self.qualifying or others))
