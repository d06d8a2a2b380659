"""The Approvals page (F6): the live queue of override requests this supervisor or
manager may decide, the selected request beside the customer's relationship and the
policy hints, and the decision: Approve, Reject or Counter-offer with a comment.

Keyboard: the queue has the focus when the page opens (↑/↓ choose a request); Alt+E
goes to the comment, Alt+M to the counter-offer's amount; Ctrl+Enter (anywhere in the
page) or Alt+A approves after a confirmation naming the amount (Enter confirms, Esc
cancels); Alt+R rejects and Alt+O counter-offers (both need a comment). The outcome is
said in words under the buttons ("Approved — the agent sees it now", "Already approved
by Maria Lopez at 14:02: nothing changed").

The queue itself is loaded by `ApprovalsController` (it also notifies of new requests
while the page is out of sight); `set_rows` hands it over. A request that leaves the
queue while selected (decided by a colleague, withdrawn, expired) is said so, and the
next one is selected.

Signals:
    refresh_requested(): the approver pressed Refresh (F5 in the queue).
    decided(): a decision was recorded (the controller re-reads the queue at once).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QHideEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.clock import Clock, system_clock
from app.errors import UserError
from models.enums import OverrideDecisionKind
from ui import actions
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.features.approvals import words
from ui.icons import icon
from ui.table_model import Column, RowTableModel
from ui.widgets import make_table, plain_label

if TYPE_CHECKING:  # the core loads after the first paint
    from app.bootstrap import Services
    from app.services.authority import (
        Outcome,
        OverrideView,
        PolicyHint,
        RelationshipSummary,
    )

log = logging.getLogger(__name__)
TICK_MS = 1000  # the countdowns move once a second while the page is shown
URGENT_SECONDS = 60  # under a minute left: the countdown turns red
GOOD = "#2e7d32"
BAD = "#c62828"
NOTICE = "#8a5a00"  # news about a request, neither your success nor a refusal
MUTED = "#59636e"
URGENT = QColor(BAD)


class QueueModel(RowTableModel["OverrideView"]):
    """The queue's rows; "Asked" and "Expires in" read `now` (moved by the page's tick)."""

    def __init__(self, clock: Clock, parent: QWidget | None = None) -> None:
        self.clock = clock
        self.now = clock()
        super().__init__(
            [
                Column("Customer", lambda v: v.customer_name),
                Column("What", words.what),
                Column("Reason", lambda v: v.reason.replace("\n", " "), stretch=True),
                Column("Requested by", lambda v: v.requested_by),
                Column("Asked", lambda v: words.ago(v.requested_at, self.now)),
                Column(
                    "Expires in",
                    lambda v: words.countdown(v.expires_at, self.now),
                    align_right=True,
                    foreground=self._urgency,
                ),
            ],
            parent,
        )

    def _urgency(self, view: OverrideView) -> QColor | None:
        left = words.seconds_left(view.expires_at, self.now)
        return URGENT if left is not None and left < URGENT_SECONDS else None

    def tick(self) -> None:
        self.now = self.clock()
        if self.rowCount():
            self.dataChanged.emit(
                self.index(0, 4), self.index(self.rowCount() - 1, self.columnCount() - 1)
            )


class ApprovalsPage(QWidget):
    refresh_requested = Signal()
    decided = Signal()

    def __init__(
        self,
        services: Services,
        bridge: DatabaseBridge,
        *,
        clock: Clock = system_clock,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.bridge = bridge
        self.clock = clock
        self.setAccessibleName("Approvals")
        self._detail_generation = 0
        self._shown_id: int | None = None  # the request whose detail is shown
        self.deciding = False
        self.confirmation: QMessageBox | None = None  # the Approve confirmation, while open
        self.outcomes: list[Outcome] = []  # the decisions' outcomes (tests read them)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        top = QHBoxLayout()
        top.addWidget(plain_label("Approvals", bold=True, point_delta=2))
        self.count = plain_label("")
        top.addWidget(self.count)
        top.addStretch(1)
        self.availability = plain_label("")
        self.availability.setStyleSheet(f"color: {MUTED};")
        top.addWidget(self.availability)
        self.refresh_button = QPushButton(icon("refresh"), "Refresh")
        self.refresh_button.setToolTip("Read the queue again (it refreshes by itself)")
        self.refresh_button.clicked.connect(self.refresh_requested)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)

        split = QSplitter(Qt.Orientation.Vertical)
        self.model = QueueModel(clock, self)
        self.table = make_table(self.model, "Requests waiting for a decision")  # type: ignore[arg-type]
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._selection_moved())
        split.addWidget(self.table)
        split.addWidget(self._build_detail())
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)
        split.setCollapsible(1, False)
        layout.addWidget(split, 1)
        self.empty = plain_label("")
        self.empty.setStyleSheet(f"color: {MUTED};")
        layout.addWidget(self.empty)

        # Ctrl+Enter anywhere in the page (also typing the comment) approves, after the
        # confirmation. Bound here: the page exists only for supervisors and managers.
        self.approve_keys = []
        for keys in actions.spec("approvals.approve").keys:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.approve)
            self.approve_keys.append(shortcut)
        self._tick = QTimer(self, interval=TICK_MS)
        self._tick.timeout.connect(self._on_tick)
        self._show_request(None)

    # -- layout --------------------------------------------------------------------------

    def _build_detail(self) -> QWidget:
        detail = QWidget()
        row = QHBoxLayout(detail)
        row.setContentsMargins(0, 0, 0, 0)

        request_box = QGroupBox("Request")
        request = QVBoxLayout(request_box)
        self.customer = plain_label("", bold=True, point_delta=1)
        self.what = plain_label("")
        self.reason = plain_label("")
        self.reason.setWordWrap(True)
        self.asked = plain_label("")
        self.asked.setWordWrap(True)
        self.expires = plain_label("")
        for label in (self.customer, self.what, self.reason, self.asked, self.expires):
            request.addWidget(label)
        request.addSpacing(6)
        form = QFormLayout()
        self.comment = QPlainTextEdit()
        self.comment.setAccessibleName("Comment for the agent")
        self.comment.setPlaceholderText(
            "What the agent tells the customer (needed to reject or counter-offer)"
        )
        self.comment.setTabChangesFocus(True)
        self.comment.setFixedHeight(self.fontMetrics().height() * 3 + 14)
        comment_label = QLabel("Comm&ent")
        comment_label.setBuddy(self.comment)
        form.addRow(comment_label, self.comment)
        self.counter_amount = QLineEdit()
        self.counter_amount.setAccessibleName("Counter-offer amount")
        self.counter_amount.setPlaceholderText("e.g. 75.00")
        self.counter_amount.setMaximumWidth(140)
        self.counter_amount.returnPressed.connect(self.counter)
        amount_label = QLabel("Counter a&mount")
        amount_label.setBuddy(self.counter_amount)
        form.addRow(amount_label, self.counter_amount)
        request.addLayout(form)
        buttons = QHBoxLayout()
        self.approve_button = QPushButton("&Approve…")
        self.approve_button.setToolTip(actions.tooltip("approvals.approve"))
        self.approve_button.clicked.connect(self.approve)
        self.reject_button = QPushButton("&Reject")
        self.reject_button.setToolTip(actions.tooltip("approvals.reject"))
        self.reject_button.clicked.connect(self.reject)
        self.counter_button = QPushButton("C&ounter-offer")
        self.counter_button.setToolTip(actions.tooltip("approvals.counter"))
        self.counter_button.clicked.connect(self.counter)
        for button in (self.approve_button, self.reject_button, self.counter_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        request.addLayout(buttons)
        self.outcome = plain_label("")
        self.outcome.setAccessibleName("Outcome of the decision")
        self.outcome.setWordWrap(True)
        request.addWidget(self.outcome)
        request.addStretch(1)
        row.addWidget(self._scrolled(request_box), 1)

        relation_box = QGroupBox("Relationship")
        relation = QVBoxLayout(relation_box)
        self.relationship = plain_label("")
        self.relationship.setAccessibleName("Relationship summary")
        self.relationship.setWordWrap(True)
        relation.addWidget(self.relationship)
        policy_title = plain_label("Policy", bold=True)
        relation.addSpacing(6)
        relation.addWidget(policy_title)
        self.hints = plain_label("")
        self.hints.setAccessibleName("Policy hints")
        self.hints.setWordWrap(True)
        relation.addWidget(self.hints)
        relation.addStretch(1)
        row.addWidget(self._scrolled(relation_box), 1)
        return detail

    @staticmethod
    def _scrolled(widget: QWidget) -> QScrollArea:
        area = QScrollArea()
        area.setWidget(widget)
        area.setWidgetResizable(True)
        area.setFrameShape(QScrollArea.Shape.NoFrame)
        return area

    # -- the queue -----------------------------------------------------------------------

    def set_rows(self, rows: list[OverrideView]) -> None:
        """The queue as the controller read it; the selection stays on its request."""
        selected = self.selected()
        self.model.now = self.clock()
        self.model.set_rows(rows)
        self.count.setText(f"{fmt.plural(len(rows), 'request')} waiting" if rows else "")
        self.empty.setText(
            "" if rows else "No request is waiting for you. New ones appear here as they come."
        )
        keep = next(
            (n for n, r in enumerate(rows) if selected is not None and r.id == selected.id),
            None,
        )
        if selected is not None and keep is None:
            self._left_queue(selected)
            keep = 0 if rows else None
        elif keep is None and rows:
            keep = 0
        if keep is not None:
            self.table.selectRow(keep)
        self._selection_moved()

    def set_available(self, available: bool) -> None:
        self.availability.setText(
            "You are available: new requests reach you"
            if available
            else "You are away: new requests go to others"
        )

    def selected(self) -> OverrideView | None:
        return self.model.row_at(self.table.currentIndex().row())

    def showEvent(self, event: QShowEvent) -> None:
        self._tick.start()
        self._on_tick()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self._tick.stop()
        super().hideEvent(event)

    def _on_tick(self) -> None:
        self.model.tick()
        self._show_countdown()

    def _selection_moved(self) -> None:
        view = self.selected()
        if view is None:
            self._show_request(None)
            return
        if view.id != self._shown_id:
            self._show_request(view)

    def _left_queue(self, view: OverrideView) -> None:
        """The request on screen left the queue: say what became of it."""
        self.bridge.spawn(self._say_what_became(view))

    async def _say_what_became(self, view: OverrideView) -> None:
        try:
            now_view = await self.bridge.run(self.services.authority.override, view.id)
        except Exception:
            log.warning("reading request %s failed", view.id, exc_info=True)
            return
        if now_view is None or not shiboken6.isValid(self):
            return
        if self.outcome.property("request") == view.id:
            return  # our own decision: its outcome is said already
        self._say(
            f"{view.customer_name}'s request ({words.what(view)}): "
            + words.request_status(now_view, self.clock()),
            None,
        )

    # -- the selected request --------------------------------------------------------------

    def _show_request(self, view: OverrideView | None) -> None:
        self._shown_id = view.id if view is not None else None
        self._detail_generation += 1
        enabled = view is not None and not self.deciding
        for button in (self.approve_button, self.reject_button, self.counter_button):
            button.setEnabled(enabled)
        self.comment.setEnabled(view is not None)
        self.counter_amount.setEnabled(view is not None)
        if view is None:
            for label in (self.customer, self.what, self.reason, self.asked, self.expires):
                label.setText("")
            self.customer.setText("Select a request")
            self.relationship.setText("")
            self.hints.setText("")
            return
        self.comment.clear()
        self.counter_amount.clear()
        self.customer.setText(view.customer_name)
        case = f" · case {view.case_reference}" if view.case_reference else ""
        self.what.setText(f"{words.what(view)}{case}")
        self.reason.setText(f"“{view.reason}”")
        needs = words.role_words(view.required_role)
        self.asked.setText(
            f"Asked by {view.requested_by} at {view.requested_at.astimezone():%H:%M} "
            f"({words.ago(view.requested_at, self.clock())}); needs a {needs}"
        )
        self._show_countdown()
        self.relationship.setText("Loading the relationship…")
        self.hints.setText("")
        self.bridge.spawn(self._load_relationship(view, self._detail_generation))

    def _show_countdown(self) -> None:
        view = self.selected()
        if view is None or view.id != self._shown_id:
            self.expires.setText("")
            return
        text = words.countdown(view.expires_at, self.clock())
        left = words.seconds_left(view.expires_at, self.clock())
        self.expires.setText(
            "" if not text else ("Expired" if text == "Expired" else f"Expires in {text}")
        )
        urgent = left is not None and left < URGENT_SECONDS
        self.expires.setStyleSheet(f"color: {BAD}; font-weight: bold;" if urgent else "")

    async def _load_relationship(self, view: OverrideView, generation: int) -> None:
        authority = self.services.authority
        try:
            summary = await self.bridge.run(authority.relationship, view.customer_id)
            hints = await self.bridge.run(authority.policy_hints, view.customer_id)
        except Exception as exc:
            log.warning("loading the relationship failed", exc_info=True)
            if generation == self._detail_generation:
                self.relationship.setText(f"Could not load the relationship: {exc}")
            return
        if generation != self._detail_generation or not shiboken6.isValid(self):
            return  # another request was chosen meanwhile
        self.show_relationship(summary, hints, view)

    def show_relationship(
        self, summary: RelationshipSummary, hints: list[PolicyHint], view: OverrideView
    ) -> None:
        self.relationship.setText(words.join_lines(words.relationship_lines(summary)))
        shown = words.hints_for(hints, view.policy_code)
        self.hints.setText(
            words.join_lines([words.hint_line(h) for h in shown])
            if shown
            else "No policy exception applies to this customer."
        )

    # -- deciding --------------------------------------------------------------------------

    def approve(self) -> None:
        """Ctrl+Enter or Alt+A: confirm the amount, then approve."""
        view = self.selected()
        if view is None or self.deciding or self.confirmation is not None:
            return
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Approve this request?")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(f"Approve {words.asked_words(view)} for {view.customer_name}?")
        named = view.policy_name or view.policy_code
        policy = f"Policy: {named}\n" if named else ""
        comment = self.comment.toPlainText().strip()
        said = f"\nYour comment: “{comment}”" if comment else ""
        box.setInformativeText(
            f"{policy}Asked by {view.requested_by}: “{view.reason}”{said}\n\n"
            "The concession is recorded at once and the agent sees it."
        )
        yes = box.addButton("Approve", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(yes)

        def finished() -> None:
            self.confirmation = None
            if box.clickedButton() is yes:
                self._decide(view, OverrideDecisionKind.APPROVE)
            box.deleteLater()

        box.finished.connect(finished)
        self.confirmation = box
        box.open()

    def reject(self) -> None:
        view = self.selected()
        if view is None or self.deciding:
            return
        if not self.comment.toPlainText().strip():
            self._need_comment(
                "Rejecting needs a comment: say why, for the agent to tell the customer."
            )
            return
        self._decide(view, OverrideDecisionKind.REJECT)

    def counter(self) -> None:
        view = self.selected()
        if view is None or self.deciding:
            return
        try:
            amount = words.parse_money(self.counter_amount.text())
        except ValueError as exc:
            self._say(str(exc), False)
            self.counter_amount.setFocus()
            return
        if amount is None or amount <= 0:
            self._say("Type the amount you can offer instead (less than asked).", False)
            self.counter_amount.setFocus()
            return
        if amount >= view.amount_cents:
            self._say(
                f"A counter-offer is less than the {fmt.money(view.amount_cents, view.currency)}"
                " asked: approve it instead, or offer less.",
                False,
            )
            self.counter_amount.setFocus()
            return
        if not self.comment.toPlainText().strip():
            self._need_comment("A counter-offer needs a comment: say why this amount.")
            return
        self._decide(view, OverrideDecisionKind.COUNTER, amount)

    def _need_comment(self, text: str) -> None:
        self._say(text, False)
        self.comment.setFocus()

    def _decide(
        self, view: OverrideView, kind: OverrideDecisionKind, amount: int | None = None
    ) -> None:
        self.deciding = True
        for button in (self.approve_button, self.reject_button, self.counter_button):
            button.setEnabled(False)
        self._say("Recording your decision…", None)
        self.bridge.spawn(self._record(view, kind, self.comment.toPlainText().strip(), amount))

    async def _record(
        self, view: OverrideView, kind: OverrideDecisionKind, comment: str, amount: int | None
    ) -> None:
        from app.operations import authority as operations

        outcome: Outcome | None = None
        ok: bool | None = False
        try:
            outcome = await self.bridge.perform(
                operations.decide, self.services, view.id, kind, comment, amount, view.customer_id
            )
        except UserError as exc:
            text = str(exc)
        except Exception as exc:
            log.warning("recording a decision failed", exc_info=True)
            text = f"Not recorded: {exc}"
        else:
            text = words.decision_outcome(outcome, view)
            ok = None if outcome.status.value == "expired" else outcome.ok
        if not shiboken6.isValid(self):
            return
        self.deciding = False
        if outcome is not None:
            self.outcomes.append(outcome)
        self.outcome.setProperty("request", view.id)
        self._say(f"{view.customer_name}: {text}", ok)
        self._enable()
        if outcome is not None and outcome.ok:
            self.comment.clear()
            self.counter_amount.clear()
        self.decided.emit()
        self.table.setFocus()

    def _enable(self) -> None:
        view = self.selected()
        for button in (self.approve_button, self.reject_button, self.counter_button):
            button.setEnabled(view is not None)

    def _say(self, text: str, ok: bool | None) -> None:
        """A sentence under the buttons: green when done, red when refused, brown for
        news about a request (`ok` None: decided elsewhere, withdrawn, expired)."""
        self.outcome.setText(text)
        colour = NOTICE if ok is None else GOOD if ok else BAD
        self.outcome.setStyleSheet(f"color: {colour};")

    async def wait_confirmation(self) -> QMessageBox:
        """The open confirmation (tests and the screenshots wait for it)."""
        while self.confirmation is None:
            await asyncio.sleep(0.01)
        return self.confirmation
