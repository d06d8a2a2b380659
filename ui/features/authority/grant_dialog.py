"""Make it right…: the agent gives the customer something (goodwill gift, discount,
credit, sample, fee waiver, policy exception) or, above their authority, asks a
supervisor while the customer waits.

As the agent types, a check line says whether it is within their authority (the check
is a read, run on a worker 250 ms after the last keystroke, an older answer dropped), and
the main button reads "Grant" or "Ask a supervisor". The write decides for real: a grant
refused as above the limit turns the button into "Ask a supervisor" and says why.

Idempotency: a key is made (`new_key`) when the agent clicks, and kept for the automatic
retries of that click when the database did not answer (a connection error: the grant
may have been recorded, its reply lost); the service then returns the first outcome
instead of granting twice. A click with other parameters, or after an answer, gets a new
key. Outcomes are shown in words (`Outcome.message`), errors in one line.

Keyboard: Tab order as laid out, mnemonics on the labels, Enter presses the main button,
Esc closes.

Signals:
    granted(object): the `Outcome` of a concession recorded (the ledger shows it from
        the change bus).
    asked(object, object): an override request is waiting: its `Outcome` (pending) and
        the `ConcessionAsk`; the customer tab shows the waiting panel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError, is_connection_error
from app.services.authority import (
    Check,
    ConcessionAsk,
    Denial,
    Outcome,
    PolicyHint,
    Status,
    new_key,
)
from models.enums import ConcessionType
from models.errors import DatabaseError
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.features.authority.words import (
    POLICY_TYPES,
    TYPE_ORDER,
    hint_text,
    parse_money,
    parse_percent,
    percent_text,
    type_label,
    within_text,
)
from ui.widgets import plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services  # the core loads after the first paint
    from app.services.authority import AuthorityService, TypeAuthority

log = logging.getLogger(__name__)
REASON_LENGTH = 2000  # the service refuses a longer reason (rule 3 of a grant)
CHECK_AFTER_MS = 250  # typing pauses this long before the check runs
RETRIES = 3  # automatic retries of one click when the database did not answer
RETRY_PAUSE_S = 1.0
GRANT = "grant"
REQUEST = "request"
OK_COLOUR = "#2e7d32"
ASK_COLOUR = "#ef6c00"
PROBLEM_COLOUR = "#c62828"


def check_ask(
    authority: AuthorityService, ask: ConcessionAsk
) -> tuple[Check, TypeAuthority | None]:
    """Runs on a worker: the check, and my authority for the type (for its words)."""
    check = authority.check(ask)
    mine = next((t for t in authority.my_authority() if t.type == ask.type), None)
    return check, mine


@dataclass(frozen=True)
class Choice:
    """A case or an order the concession may be about."""

    id: int
    text: str
    currency: str | None = None
    total_cents: int | None = None


@dataclass(frozen=True)
class GrantContext:
    """What the dialog knows of the customer when it opens."""

    customer_id: int
    name: str
    currency: str
    cases: tuple[Choice, ...] = ()
    orders: tuple[Choice, ...] = ()
    hints: tuple[PolicyHint, ...] = ()
    case_id: int | None = None  # preselected (the case the agent is working on)


@dataclass(frozen=True)
class Prefill:
    """What the dialog opens with when another part of the tab proposes the concession
    (a suggestion's discount, sample or retention offer); the agent may change all of it."""

    type: ConcessionType
    reason: str
    amount_cents: int | None = None
    percent: Decimal | None = None
    order_id: int | None = None


class GrantDialog(QDialog):
    granted = Signal(object)
    asked = Signal(object, object)

    def __init__(
        self,
        context: GrantContext,
        services: Services,
        bridge: DatabaseBridge,
        parent: QWidget | None = None,
        prefill: Prefill | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self._services = services
        self._bridge = bridge
        self.setWindowTitle(f"Make it right for {context.name}")
        self.setAccessibleName("Make it right")
        self.check: Check | None = None  # the last check's answer
        self._checked_ask: ConcessionAsk | None = None  # what it was about
        self._check_seq = 0
        self._prefilled: str | None = None  # the amount a policy's fee put there
        # The click whose answer never came: (action, ask, key), retried with its key.
        self._unanswered: tuple[str, ConcessionAsk, str] | None = None
        self.outcome: Outcome | None = None
        self.busy = False
        self._task: asyncio.Task[Any] | None = None

        self.type = QComboBox()
        for kind in TYPE_ORDER:
            self.type.addItem(type_label(kind), kind)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("0.00")
        self.amount.setMaxLength(14)
        self.currency = plain_label(context.currency)
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount, 1)
        amount_row.addWidget(self.currency)
        self.percent = QLineEdit()
        self.percent.setPlaceholderText("e.g. 10 (of the order chosen below)")
        self.percent.setMaxLength(6)
        self.reason = QLineEdit()
        self.reason.setMaxLength(REASON_LENGTH)
        self.reason.setPlaceholderText("Why, in the customer's words (required)")
        self.case = QComboBox()
        self.case.addItem("No case", None)
        for choice in context.cases:
            self.case.addItem(choice.text, choice.id)
        if context.case_id is not None:
            self.case.setCurrentIndex(max(self.case.findData(context.case_id), 0))
        self.order = QComboBox()
        self.order.addItem("No order", None)
        for choice in context.orders:
            self.order.addItem(choice.text, choice.id)
        self.policy = QComboBox()
        self.policy.addItem("No policy", None)
        for hint in context.hints:
            fee = f" ({fmt.money(hint.fee_cents, hint.currency)})" if hint.fee_cents else ""
            self.policy.addItem(f"{hint.name}{fee}", hint.policy_id)
        self.policy_hint = plain_label("")
        self.policy_hint.setWordWrap(True)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._rows: dict[str, tuple[QLabel, QWidget]] = {}
        for key, text, field in (
            ("type", "&Type", self.type),
            ("amount", "&Amount", amount_row),
            ("percent", "P&ercent", self.percent),
            ("policy", "&Policy", self.policy),
            ("reason", "&Reason", self.reason),
            ("case", "&Case", self.case),
            ("order", "&Order", self.order),
        ):
            buddy = QLabel(text)
            widget = self.amount if key == "amount" else field
            assert isinstance(widget, QWidget)
            buddy.setBuddy(widget)
            widget.setAccessibleName(text.replace("&", ""))
            form.addRow(buddy, field)
            self._rows[key] = (buddy, widget)
        self.form = form

        self.check_line = plain_label("Type the amount and the reason.")
        self.check_line.setAccessibleName("Authority check")
        self.check_line.setWordWrap(True)
        self.result = plain_label("")
        self.result.setAccessibleName("Outcome")
        self.result.setWordWrap(True)
        self.result.hide()
        self.main_button = QPushButton("&Grant")
        self.main_button.setDefault(True)
        self.main_button.setAutoDefault(True)
        self.main_button.clicked.connect(self.submit)
        self.close_button = QPushButton("Cancel")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.main_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.policy_hint)
        layout.addWidget(self.check_line)
        layout.addWidget(self.result)
        layout.addLayout(buttons)
        self.setMinimumWidth(520)

        order = (self.type, self.amount, self.percent, self.policy, self.reason, self.case)
        for first, second in zip(order, (*order[1:], self.order), strict=True):
            QWidget.setTabOrder(first, second)
        QWidget.setTabOrder(self.order, self.main_button)

        self._check_timer = QTimer(self, singleShot=True, interval=CHECK_AFTER_MS)
        self._check_timer.timeout.connect(self._start_check)
        self.type.currentIndexChanged.connect(self._type_changed)
        self.policy.currentIndexChanged.connect(self._policy_changed)
        self.order.currentIndexChanged.connect(self._order_changed)
        for edit in (self.amount, self.percent, self.reason):
            edit.textEdited.connect(self._edited)
        self.case.currentIndexChanged.connect(self._edited)
        self._type_changed()
        self.amount.setFocus()
        if prefill is not None:
            self.fill(prefill)

    def fill(self, prefill: Prefill) -> None:
        """Type, amount or percentage, order and reason as proposed; the check follows."""
        self.choose_type(prefill.type)
        if prefill.order_id is not None:
            self.order.setCurrentIndex(max(self.order.findData(prefill.order_id), 0))
        if prefill.percent is not None:
            self.percent.setText(percent_text(prefill.percent).removesuffix("%"))
        if prefill.amount_cents is not None:
            self.amount.setText(f"{prefill.amount_cents / 100:.2f}")
        self.reason.setText(prefill.reason[:REASON_LENGTH])
        self._edited()

    # -- what the agent typed --------------------------------------------------------

    @property
    def kind(self) -> ConcessionType:
        return ConcessionType(self.type.currentData())

    def choose_type(self, kind: ConcessionType) -> None:
        self.type.setCurrentIndex(self.type.findData(kind))

    def choose_policy(self, policy_id: int) -> None:
        self.policy.setCurrentIndex(max(self.policy.findData(policy_id), 0))

    def _order(self) -> Choice | None:
        order_id = self.order.currentData()
        return next((o for o in self.context.orders if o.id == order_id), None)

    def _currency(self) -> str:
        """The policy's when its fee is waived, else the order's, else the customer's."""
        hint = self._policy_hint()
        if hint is not None and self.kind == ConcessionType.FEE_WAIVER and hint.fee_cents:
            return hint.currency
        order = self._order()
        return (order.currency if order and order.currency else None) or self.context.currency

    def ask(self) -> ConcessionAsk | str:
        """The ask as typed, or what is missing in words."""
        kind = self.kind
        percent: Decimal | None = None
        if kind == ConcessionType.DISCOUNT and self.percent.text().strip():
            percent = parse_percent(self.percent.text())
            if percent is None or not Decimal(0) < percent <= Decimal(100):
                return "The percentage is a number above 0 and at most 100."
        amount = parse_money(self.amount.text()) if self.amount.text().strip() else None
        if amount is None and self.amount.text().strip():
            return "The amount is money, such as 25 or 25.50."
        if amount is None and percent is not None:
            order = self._order()
            if order is None or order.total_cents is None:
                return "A percentage needs the order it is taken off (or type the amount)."
            amount = int((Decimal(order.total_cents) * percent / 100).to_integral_value())
        if amount is None:
            return "Type the amount."
        reason = self.reason.text().strip()
        if not reason:
            return "Say why: the reason is required."
        policy = self.policy.currentData() if kind in POLICY_TYPES else None
        return ConcessionAsk(
            customer_id=self.context.customer_id,
            type=kind,
            amount_cents=amount,
            reason=reason,
            currency=self._currency(),
            case_id=self.case.currentData(),
            order_id=self.order.currentData(),
            percent=percent,
            policy_id=policy,
        )

    def _type_changed(self) -> None:
        kind = self.kind
        for key, shown in (
            ("percent", kind == ConcessionType.DISCOUNT),
            ("policy", kind in POLICY_TYPES),
        ):
            self.form.setRowVisible(self._rows[key][1], shown)
        if kind in POLICY_TYPES and self.policy.currentData() is None:
            # A fee waiver waives a fee: the policies that have one, qualifying first.
            hints = self.context.hints
            fitting = (
                [h for h in hints if h.fee_cents] if kind == ConcessionType.FEE_WAIVER else hints
            )
            chosen = next((h for h in fitting if h.qualifies), None) or next(iter(fitting), None)
            if chosen is not None:
                self.choose_policy(chosen.policy_id)
        self._policy_changed()
        self._edited()

    def _policy_hint(self) -> PolicyHint | None:
        if self.kind not in POLICY_TYPES:
            return None
        chosen = self.policy.currentData()
        return next((h for h in self.context.hints if h.policy_id == chosen), None)

    def _policy_changed(self) -> None:
        hint = self._policy_hint()
        self.currency.setText(self._currency())
        shown = hint is not None and self.kind in POLICY_TYPES
        self.policy_hint.setText(hint_text(hint) if shown and hint else "")
        self.policy_hint.setStyleSheet(
            f"color: {OK_COLOUR};" if shown and hint and hint.qualifies else ""
        )
        self.policy_hint.setVisible(shown)
        if self.isVisible():
            self.adjustSize()  # the hint wraps over two lines: grow to show it whole
        if shown and hint and hint.fee_cents and self.kind == ConcessionType.FEE_WAIVER:
            typed = self.amount.text().strip()
            if not typed or typed == self._prefilled:
                self._prefilled = f"{hint.fee_cents / 100:.2f}"
                self.amount.setText(self._prefilled)
        self._edited()

    def _order_changed(self) -> None:
        self.currency.setText(self._currency())
        self._edited()

    def _edited(self, *_args: object) -> None:
        """Parameters changed: the old check and any unanswered click no longer apply."""
        if self.outcome is not None and self.outcome.status == Status.GRANTED:
            self._reset_after_grant()
        self._check_timer.start()

    # -- the check line ------------------------------------------------------------------

    def _start_check(self) -> None:
        ask = self.ask()
        if isinstance(ask, str):
            self._checked_ask, self.check = None, None
            self._say_check(ask, None)
            self._set_button(within=True)
            return
        if ask == self._checked_ask:
            return
        self._bridge.spawn(self.run_check(ask))

    async def run_check(self, ask: ConcessionAsk) -> Check | None:
        """Ask the service whether `ask` is within authority; show it unless outdated."""
        self._check_seq += 1
        seq = self._check_seq
        try:
            check, mine = await self._bridge.run(check_ask, self._services.authority, ask)
        except (UserError, DatabaseError) as exc:
            if shiboken6.isValid(self) and seq == self._check_seq:
                self._say_check(f"Cannot check now: {exc}", PROBLEM_COLOUR)
            return None
        except Exception:
            log.warning("authority check failed", exc_info=True)
            if shiboken6.isValid(self) and seq == self._check_seq:
                self._say_check("Cannot check now: the database did not answer.", PROBLEM_COLOUR)
            return None
        if not shiboken6.isValid(self) or seq != self._check_seq:
            return None  # the agent typed on meanwhile: a newer check is coming
        self.check, self._checked_ask = check, ask
        words = within_text(mine, ask.currency) if check.within else check.message
        self._say_check(words, OK_COLOUR if check.within else ASK_COLOUR)
        self._set_button(within=check.within or check.reason == Denial.INVALID)
        return check

    def _say_check(self, text: str, colour: str | None) -> None:
        self.check_line.setText(text)
        self.check_line.setStyleSheet(f"color: {colour};" if colour else "")

    def _set_button(self, within: bool) -> None:
        self.main_button.setText("&Grant" if within else "Ask a &supervisor")
        self.main_button.setAccessibleName("Grant" if within else "Ask a supervisor")

    @property
    def action(self) -> str:
        """What the main button does now: grant or request."""
        return GRANT if self.main_button.accessibleName() != "Ask a supervisor" else REQUEST

    # -- the click -------------------------------------------------------------------

    def submit(self) -> None:
        """The main button (Enter): grant, ask a supervisor, or close after a grant."""
        if self.outcome is not None and self.outcome.status == Status.GRANTED:
            self.accept()
            return
        if self.busy:
            return
        self._task = self._bridge.spawn(self.act())

    async def act(self) -> Outcome | None:
        ask = self.ask()
        if isinstance(ask, str):
            self._say_check(ask, PROBLEM_COLOUR)
            return None
        self.busy = True
        self.main_button.setEnabled(False)
        try:
            if ask != self._checked_ask:  # Enter came before the check's answer
                self._check_timer.stop()
                await self.run_check(ask)
                if not shiboken6.isValid(self):
                    return None
            action = self.action
            key = self._key_for(action, ask)
            outcome = await self._write(action, ask, key)
        finally:
            if shiboken6.isValid(self):
                self.busy = False
                self.main_button.setEnabled(True)
        if outcome is not None and shiboken6.isValid(self):
            self._show_outcome(outcome, ask)
        return outcome

    def _key_for(self, action: str, ask: ConcessionAsk) -> str:
        """The key of this click: the unanswered click's again if it is the same one."""
        if self._unanswered is not None and self._unanswered[:2] == (action, ask):
            return self._unanswered[2]
        return new_key()

    async def _write(self, action: str, ask: ConcessionAsk, key: str) -> Outcome | None:
        from app.operations import authority as operations  # the core loads after the paint

        operation: Callable[..., Any] = (
            operations.grant if action == GRANT else operations.request_override
        )
        self._unanswered = (action, ask, key)
        for attempt in range(RETRIES + 1):
            try:
                outcome: Outcome = await self._bridge.perform(operation, self._services, ask, key)
            except UserError as exc:
                self._unanswered = None
                self._say_result(str(exc), PROBLEM_COLOUR)
                return None
            except Exception as exc:
                if is_connection_error(exc) and attempt < RETRIES:
                    if shiboken6.isValid(self):
                        self._say_result(
                            "The database did not answer: trying again "
                            f"({attempt + 1} of {RETRIES})…",
                            ASK_COLOUR,
                        )
                    await asyncio.sleep(RETRY_PAUSE_S * (attempt + 1))
                    continue
                if not is_connection_error(exc):
                    log.warning("authority %s failed", action, exc_info=True)
                if shiboken6.isValid(self):
                    self._say_result(self._failure_words(exc, action), PROBLEM_COLOUR)
                return None
            self._unanswered = None
            return outcome
        return None

    @staticmethod
    def _failure_words(exc: Exception, action: str) -> str:
        again = "Grant" if action == GRANT else "Ask a supervisor"
        if is_connection_error(exc):
            return (
                f"The database did not answer. Press {again} again when it is back: "
                "it is recorded once, however often you press."
            )
        if isinstance(exc, DatabaseError):
            return f"Not done: {exc}"
        return "Not done: something went wrong (it is in the log). Nothing was granted twice."

    def _say_result(self, text: str, colour: str | None) -> None:
        self.result.setText(text)
        self.result.setStyleSheet(f"color: {colour};" if colour else "")
        self.result.show()

    def _show_outcome(self, outcome: Outcome, ask: ConcessionAsk) -> None:
        self.outcome = outcome
        status = outcome.status
        if status == Status.GRANTED:
            self._say_result(outcome.message, OK_COLOUR)
            self.main_button.setText("&Done")
            self.main_button.setAccessibleName("Done")
            self.close_button.setText("Close")
            self.granted.emit(outcome)
        elif status == Status.PENDING:
            self._say_result(outcome.message, OK_COLOUR)
            self.asked.emit(outcome, ask)
            self.accept()  # the waiting panel in the customer tab takes it from here
        elif status == Status.NOT_NEEDED:
            self._say_result(outcome.message, OK_COLOUR)
            self._set_button(within=True)
        elif status == Status.NO_APPROVER:
            self._say_result(outcome.message, PROBLEM_COLOUR)
        else:  # denied
            self._say_result(outcome.message, PROBLEM_COLOUR)
            if outcome.reason in (
                Denial.ABOVE_LIMIT,
                Denial.TYPE_NOT_ALLOWED,
                Denial.CUSTOMER_LIMIT,
                Denial.OVER_BUDGET,
            ):
                self._set_button(within=False)
                self._checked_ask = ask

    def _reset_after_grant(self) -> None:
        """The agent edits after a grant: a second concession, a fresh click."""
        self.outcome = None
        self.result.hide()
        self.close_button.setText("Cancel")
        self._set_button(within=True)


def grant_context(
    customer_id: int,
    name: str,
    currency: str,
    cases: Sequence[Any],
    orders: Sequence[Any],
    hints: Sequence[PolicyHint],
    case_id: int | None = None,
) -> GrantContext:
    """From the customer view's rows: the open cases, the orders of the first page."""
    return GrantContext(
        customer_id=customer_id,
        name=name,
        currency=currency,
        cases=tuple(
            Choice(c.id, f"{c.reference} · {c.subject}") for c in cases if getattr(c, "is_open", 1)
        ),
        orders=tuple(
            Choice(
                o.id,
                f"{o.number} · {fmt.day(o.placed_at)} · {fmt.money(o.total_cents, o.currency)}",
                o.currency,
                o.total_cents,
            )
            for o in orders
        ),
        hints=tuple(hints),
        case_id=case_id,
    )


__all__ = ["Choice", "GrantContext", "GrantDialog", "Prefill", "grant_context"]
