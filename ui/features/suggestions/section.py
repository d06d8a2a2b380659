"""The Suggested section of the customer tab: at most five suggestions, best first, each
with its kind, the product or offer (and a coming launch), its price against the
customer's usual order, an "above usual budget" mark, the one line that says why, and
what became of it; the selected one in full below, with its three actions. (The churn
risk is under the customer header: churn.py.)

It only shows and asks; `SuggestionsDesk` (desk.py) reads the suggestions off the GUI
thread, records what was shown and what the agent did.

Keys (FOCUS scope: while the focus is in this section; also the list's context menu):
Ctrl+Shift+A accept, Ctrl+Shift+D decline (a small menu of reasons, non-modal),
Ctrl+Shift+O offer a discount or sample, or grant a retention or welcome offer.

Signals:
    accept_requested(object): the agent accepted this `Suggestion`.
    decline_requested(object, str): declined it, with one of `DECLINE_REASONS`.
    offer_requested(object): offer a concession with it (the grant dialog, prefilled).
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.services import views as v
from ui import actions
from ui import formatting as fmt
from ui.features.suggestions import words
from ui.table_model import Column, RowTableModel
from ui.widgets import make_table, plain_label

WARN = QBrush(QColor("#c62828"))
ACTION_IDS = ("suggestion.accept", "suggestion.decline", "suggestion.offer")


class SuggestedSection(QWidget):
    accept_requested = Signal(object)
    decline_requested = Signal(object, str)
    offer_requested = Signal(object)

    def __init__(self, today: dt.date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.today = today
        self.suggestions: v.Suggestions | None = None
        self.outcomes: dict[str, v.Impression] = {}  # by the suggestion's key
        self.summary = plain_label("Reading suggestions…")
        self.summary.setObjectName("muted")
        self.summary.setWordWrap(True)
        self.model: RowTableModel[v.Suggestion] = RowTableModel(self._columns(), self)
        self.table = make_table(self.model, "Suggestions for this customer, best first")
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.detail = plain_label("")
        self.detail.setAccessibleName("The suggestion selected")
        self.detail.setWordWrap(True)
        self.status = plain_label("")
        self.status.setAccessibleName("What became of it")
        self.status.setWordWrap(True)
        self.accept_button = QPushButton("Accept")
        self.decline_button = QPushButton("Decline…")
        self.offer_button = QPushButton("Offer discount or sample…")
        for button, action_id in zip(
            (self.accept_button, self.decline_button, self.offer_button), ACTION_IDS, strict=True
        ):
            button.setToolTip(actions.tooltip(action_id))
            button.setAutoDefault(False)
        self.accept_button.clicked.connect(self.accept_selected)
        self.decline_button.clicked.connect(self.ask_decline)
        self.offer_button.clicked.connect(self.offer_selected)
        self.reasons = QMenu(self)
        self.reasons.setAccessibleName("Why the customer declined")
        for reason in v.DECLINE_REASONS:
            action = self.reasons.addAction(_menu_text(reason))
            action.setData(reason)
        self.reasons.triggered.connect(self._declined)
        buttons = QHBoxLayout()
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.decline_button)
        buttons.addWidget(self.offer_button)
        self.keys = plain_label(
            " · ".join(
                f"{actions.spec(a).keys_text} {word}"
                for a, word in zip(ACTION_IDS, ("accept", "decline", "offer"), strict=True)
            )
        )
        self.keys.setObjectName("muted")
        buttons.addSpacing(12)
        buttons.addWidget(self.keys)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        layout.addWidget(self.detail)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addStretch(1)  # five rows at most: the details sit right under them
        # Five rows at most: the reasons wrap rather than hide, and the list is as tall as
        # its rows (the details sit right under it).
        self.table.setWordWrap(True)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # A new width wraps anew, once the header has stretched its columns to it.
        self._fit_timer = QTimer(self, singleShot=True, interval=0)
        self._fit_timer.timeout.connect(self._fit_rows)
        self.table.viewport().installEventFilter(self)
        self.table.horizontalHeader().sectionResized.connect(self._fit_timer.start)
        self._fit_rows()
        self.setFocusProxy(self.table)
        # The keys work while the focus is in this section; the list's context menu
        # offers the same three actions.
        for action_id, slot in zip(
            ACTION_IDS, (self.accept_selected, self.ask_decline, self.offer_selected), strict=True
        ):
            self.table.addAction(actions.bind(action_id, self, slot))
        self.table.selectionModel().currentRowChanged.connect(self._selected)
        self._selected()

    def _columns(self) -> list[Column[v.Suggestion]]:
        def usual() -> tuple[int, str]:
            s = self.suggestions
            return (s.usual_order_cents, s.currency) if s else (0, "USD")

        return [
            Column("Kind", lambda s: words.kind_label(s.kind)),
            Column("Suggestion", lambda s: words.title_text(s, self.today)),
            Column("Price", lambda s: words.price_text(s, *usual())),
            Column("Budget", words.budget_text, foreground=lambda s: WARN),
            Column("Why", lambda s: s.reason, stretch=True),
            Column("Outcome", lambda s: words.outcome_text(self.outcomes.get(s.key))),
        ]

    # -- showing -------------------------------------------------------------------

    def show_suggestions(self, suggestions: v.Suggestions, today: dt.date) -> None:
        self.suggestions, self.today = suggestions, today
        current = self.selected
        self.model.update_rows(list(suggestions.items))
        if current is not None:
            row = next((i for i, s in enumerate(self.model.rows) if s.key == current.key), 0)
            self.table.selectRow(row)
        elif self.model.rows:
            self.table.selectRow(0)
        self.table.resizeColumnsToContents()
        self._fit_rows()
        count = len(suggestions.items)
        if count:
            usual = suggestions.usual_order_cents
            money = fmt.money(usual, suggestions.currency)
            self.summary.setText(
                fmt.plural(count, "suggestion")
                + (f", best first · usual order {money}" if usual else ", best first")
            )
        else:
            self.summary.setText("No suggestions for this customer now.")
        self._selected()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_timer.start()
        return False

    def _fit_rows(self) -> None:
        least = self.table.verticalHeader().defaultSectionSize()
        self.table.resizeRowsToContents()
        for row in range(self.model.rowCount()):
            # A wrapped reason gets the same breathing room as a one-line row.
            self.table.setRowHeight(row, max(self.table.rowHeight(row) + 6, least))
        rows = sum(self.table.rowHeight(r) for r in range(self.model.rowCount())) or least
        header = self.table.horizontalHeader().sizeHint().height()
        self.table.setFixedHeight(rows + header + 2 * self.table.frameWidth() + 6)

    def show_outcome(self, impression: v.Impression) -> None:
        self.outcomes[impression.key] = impression
        rows = self.model.rows
        row = next((i for i, s in enumerate(rows) if s.key == impression.key), None)
        if row is not None:
            last = self.model.columnCount() - 1
            self.model.dataChanged.emit(self.model.index(row, 0), self.model.index(row, last))
        self._selected()

    def say(self, text: str, problem: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c62828;" if problem else "")

    @property
    def selected(self) -> v.Suggestion | None:
        return self.model.row_at(self.table.currentIndex().row())

    def _selected(self, *_args: object) -> None:
        item = self.selected
        s = self.suggestions
        self.detail.setText(
            words.detail_text(item, s.usual_order_cents, s.currency, self.today)
            if item is not None and s is not None
            else ""
        )
        self.detail.setVisible(item is not None)
        for button in (self.accept_button, self.decline_button, self.offer_button):
            button.setEnabled(item is not None)
        offer = item is not None and words.is_offer(item)
        self.offer_button.setText("Grant the offer…" if offer else "Offer discount or sample…")
        self.offer_button.setAccessibleName(
            "Grant the offer" if offer else "Offer a discount or a sample"
        )

    # -- asking --------------------------------------------------------------------

    def accept_selected(self) -> None:
        item = self.selected
        if item is not None:
            self.accept_requested.emit(item)

    def offer_selected(self) -> None:
        item = self.selected
        if item is not None:
            self.offer_requested.emit(item)

    def ask_decline(self) -> None:
        """The reasons, as a small menu at the selected row (non-modal: `popup`)."""
        if self.selected is None:
            return
        rect = self.table.visualRect(self.table.currentIndex())
        at = self.table.viewport().mapToGlobal(rect.bottomLeft() + QPoint(24, 0))
        self.reasons.popup(at)
        if self.reasons.actions():
            self.reasons.setActiveAction(self.reasons.actions()[0])

    def _declined(self, action: object) -> None:
        item = self.selected
        reason = action.data() if hasattr(action, "data") else None
        if item is not None and isinstance(reason, str):
            self.decline_requested.emit(item, reason)

    def refresh_from(self, data: v.CustomerView) -> None:
        """The customer view was read again: nothing here comes from it (the desk reads
        the suggestions again)."""
        self.today = data.today


# The reasons menu's mnemonics, one letter each (a reason not listed gets none).
_MNEMONICS = {
    "not_interested": "&Not interested",
    "already_has": "&Already has it",
    "too_expensive": "Too &expensive",
    "not_now": "Not n&ow",
    "other": "O&ther reason",
}


def _menu_text(reason: str) -> str:
    return _MNEMONICS.get(reason, words.decline_label(reason))
