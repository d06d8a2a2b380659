"""The authority matrix (Tools > Authority matrix…): what each role, and each person with
an adjustment, may grant alone per concession type.

Everyone may read it; only an admin edits (the service refuses anyone else:
`not_admin`, audited, whatever this dialog shows). Enter or "Edit…" opens the selected
row in `LimitDialog`; "Add adjustment…" makes a person's own row for a type (it replaces
their role's row while valid); "Delete adjustment" removes one (their role's row applies
again). Every save goes through `set_limit(row, key)` with a fresh idempotency key per
click; the audit with before and after is written by the service (or, on PostgreSQL, the
database function). The outcome is said in words under the table.

Both dialogs open with open(), never exec() (a nested loop breaks qasync).

Signals (LimitDialog):
    save_requested(object): the LimitRow the admin asks to save (validated here).
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.services.authority import LimitRow
from models.enums import ConcessionType, Role
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.features.approvals import words
from ui.table_model import Column, RowTableModel
from ui.widgets import make_table, plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services
    from app.services.authority import Outcome

log = logging.getLogger(__name__)
GOOD = "#2e7d32"
BAD = "#c62828"
MUTED = "#59636e"
NO_DATE = QDate(2000, 1, 1)  # a QDateEdit's "not set" (shown as "none")

COLUMNS: list[Column[LimitRow]] = [
    Column("Who", words.who),
    Column("Type", lambda r: words.type_words(r.type)),
    Column("Alone", lambda r: "yes" if r.allowed else "no"),
    Column("Max per concession", lambda r: fmt.money(r.max_amount_cents), align_right=True),
    Column("Max %", lambda r: words.percent_text(r.max_percent) or "—", align_right=True),
    Column(
        "Daily budget",
        lambda r: words.optional_money(r.daily_budget_cents, "no budget"),
        align_right=True,
    ),
    Column("Per customer", words.per_customer, align_right=True),
    Column("Valid", words.validity, stretch=True),
]


def _date(edit: QDateEdit) -> dt.date | None:
    value = edit.date()
    return None if value == NO_DATE else dt.date(value.year(), value.month(), value.day())


def _date_edit(name: str, value: dt.date | None) -> QDateEdit:
    edit = QDateEdit()
    edit.setAccessibleName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("d MMM yyyy")
    edit.setMinimumDate(NO_DATE)
    edit.setSpecialValueText("none")  # the minimum date reads "none": open-ended
    edit.setDate(QDate(value.year, value.month, value.day) if value else NO_DATE)
    return edit


class LimitDialog(QDialog):
    """One matrix row: its limits and validity. Who and type are fixed for an existing row;
    a new adjustment picks the person and the type."""

    save_requested = Signal(object)

    def __init__(
        self,
        row: LimitRow,
        parent: QWidget,
        *,
        staff: list[tuple[int, str, Role]] | None = None,
        role_rows: list[LimitRow] | None = None,
    ) -> None:
        super().__init__(parent)
        self.original = row
        self._role_rows = role_rows or []
        self._staff = staff or []
        new = staff is not None
        self.setWindowTitle(
            "New adjustment" if new else f"{words.who(row)} · {words.type_words(row.type)}"
        )
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.person = QComboBox()
        self.person.setAccessibleName("Person")
        self.kind = QComboBox()
        self.kind.setAccessibleName("Concession type")
        for kind in ConcessionType:
            self.kind.addItem(words.type_words(kind), kind.value)
        self.kind.setCurrentIndex(list(ConcessionType).index(ConcessionType(row.type)))
        if new:
            for user_id, name, role in self._staff:
                self.person.addItem(f"{name} ({words.role_words(role)})", user_id)
            self.person.setEditable(True)  # type to find someone among many
            self.person.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            form.addRow("&Person", self.person)
            form.addRow("&Type", self.kind)
            self.person.currentIndexChanged.connect(self._prefill)
            self.kind.currentIndexChanged.connect(self._prefill)
        else:
            form.addRow("Who", plain_label(words.who(row)))
            form.addRow("Type", plain_label(words.type_words(row.type)))
        self.allowed = QCheckBox("May grant this type alone")
        self.allowed.setChecked(row.allowed)
        form.addRow("", self.allowed)
        self.max_amount = QLineEdit(f"{row.max_amount_cents / 100:.2f}")
        self.max_amount.setAccessibleName("Maximum per concession")
        form.addRow("Max per &concession ($)", self.max_amount)
        self.max_percent = QLineEdit(words.percent_text(row.max_percent).rstrip("%"))
        self.max_percent.setAccessibleName("Maximum discount percent")
        self.max_percent.setPlaceholderText("none (no percentage discounts)")
        form.addRow("Max &discount (%)", self.max_percent)
        self.budget = QLineEdit(
            "" if row.daily_budget_cents is None else f"{row.daily_budget_cents / 100:.2f}"
        )
        self.budget.setAccessibleName("Daily budget")
        self.budget.setPlaceholderText("none (no daily budget)")
        form.addRow("Daily &budget ($)", self.budget)
        per_customer = QHBoxLayout()
        self.period_total = QLineEdit(
            ""
            if row.max_total_per_period_cents is None
            else f"{row.max_total_per_period_cents / 100:.2f}"
        )
        self.period_total.setAccessibleName("Per-customer total")
        self.period_total.setPlaceholderText("no limit")
        per_customer.addWidget(self.period_total, 1)
        per_customer.addWidget(plain_label("over"))
        self.period_days = QSpinBox()
        self.period_days.setAccessibleName("Days the per-customer total covers")
        self.period_days.setRange(1, 3650)
        self.period_days.setSuffix(" days")
        self.period_days.setValue(row.period_days)
        per_customer.addWidget(self.period_days)
        per_customer_label = QLabel("Per c&ustomer ($)")
        per_customer_label.setBuddy(self.period_total)
        form.addRow(per_customer_label, per_customer)
        self.valid_from = _date_edit("Valid from", row.valid_from)
        self.valid_until = _date_edit("Valid until", row.valid_until)
        form.addRow("Valid &from", self.valid_from)
        form.addRow("Valid &until", self.valid_until)
        layout.addLayout(form)
        self.problem = plain_label("")
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName("Problems")
        self.problem.setStyleSheet(f"color: {BAD};")
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        if new:
            self._prefill()

    def _prefill(self) -> None:
        """A new adjustment starts from the person's role row for the type."""
        index = self.person.currentIndex()
        if index < 0 or index >= len(self._staff):
            return
        role = self._staff[index][2]
        kind = ConcessionType(self.kind.currentData())
        base = next((r for r in self._role_rows if r.role == role and r.type == kind), None)
        if base is None:
            return
        self.allowed.setChecked(base.allowed)
        self.max_amount.setText(f"{base.max_amount_cents / 100:.2f}")
        self.max_percent.setText(words.percent_text(base.max_percent).rstrip("%"))
        self.budget.setText(
            "" if base.daily_budget_cents is None else f"{base.daily_budget_cents / 100:.2f}"
        )
        self.period_total.setText(
            ""
            if base.max_total_per_period_cents is None
            else f"{base.max_total_per_period_cents / 100:.2f}"
        )
        self.period_days.setValue(base.period_days)

    def values(self) -> LimitRow:
        """The row as typed; ValueError names every problem, one a line."""
        problems: list[str] = []

        def amount(edit: QLineEdit, name: str, required: bool = False) -> int | None:
            try:
                cents = words.parse_money(edit.text())
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
                return None
            if cents is None and required:
                problems.append(f"{name}: type an amount (0 means none alone)")
            return cents

        max_amount = amount(self.max_amount, "Max per concession", required=True)
        budget = amount(self.budget, "Daily budget")
        period_total = amount(self.period_total, "Per customer")
        percent: Decimal | None = None
        typed = self.max_percent.text().strip().rstrip("%").strip()
        if typed:
            try:
                percent = Decimal(typed)
            except InvalidOperation:
                problems.append(f"Max discount: “{typed}” is not a percentage")
            else:
                if not percent.is_finite() or not (0 <= percent <= 100):
                    problems.append("Max discount: between 0 and 100 %")
                elif percent != percent.quantize(Decimal("0.01")):
                    problems.append("Max discount: at most two decimals")
        valid_from, valid_until = _date(self.valid_from), _date(self.valid_until)
        if valid_from and valid_until and valid_until < valid_from:
            problems.append("Valid until: on or after the day it starts")
        original = self.original
        user_id, user_name, role = original.user_id, original.user_name, original.role
        kind = ConcessionType(original.type)
        if self._staff:
            index = self.person.currentIndex()
            if (
                index < 0
                or index >= len(self._staff)
                or self.person.currentText() != (self.person.itemText(index))
            ):
                problems.append("Person: choose someone from the list")
            else:
                user_id, user_name, _role = self._staff[index]
                role = None
            kind = ConcessionType(self.kind.currentData())
        if problems:
            raise ValueError("\n".join(problems))
        return LimitRow(
            id=original.id,
            role=role,
            user_id=user_id,
            user_name=user_name,
            type=kind,
            allowed=self.allowed.isChecked(),
            max_amount_cents=max_amount or 0,
            max_percent=percent,
            daily_budget_cents=budget,
            period_days=self.period_days.value(),
            max_total_per_period_cents=period_total,
            valid_from=valid_from,
            valid_until=valid_until,
        )

    def save(self) -> None:
        try:
            row = self.values()
        except ValueError as exc:
            self.problem.setText(str(exc))
            return
        self.problem.setText("")
        self.save_button.setEnabled(False)
        self.save_requested.emit(row)

    def refused(self, text: str) -> None:
        """The service said no: keep the dialog open with why."""
        self.problem.setText(text)
        self.save_button.setEnabled(True)


class MatrixDialog(QDialog):
    """The matrix, read by everyone; edited by admins through `LimitDialog`."""

    def __init__(self, services: Services, bridge: DatabaseBridge, parent: QWidget) -> None:
        super().__init__(parent)
        self.services = services
        self.bridge = bridge
        self.admin = services.agent.role is Role.ADMIN
        self.editor: LimitDialog | None = None
        self.staff: list[tuple[int, str, Role]] = []
        self.outcomes: list[Outcome] = []
        self.setWindowTitle("Authority matrix")
        layout = QVBoxLayout(self)
        intro = plain_label(
            "What each role may grant alone, per concession type; a person's adjustment "
            "replaces their role's row while it is valid. Above these limits an agent asks "
            "for an override."
            + ("" if self.admin else " Read only: only an admin changes the matrix.")
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.model: RowTableModel[LimitRow] = RowTableModel(COLUMNS, self)
        self.table = make_table(self.model, "Authority matrix")  # type: ignore[arg-type]
        self.table.activated.connect(lambda _index: self.edit_selected())
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        layout.addWidget(self.table, 1)
        self.message = plain_label("Loading the matrix…")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Outcome")
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.edit_button = QPushButton("&Edit…")
        self.edit_button.setToolTip("Change the selected row (Enter)")
        self.edit_button.clicked.connect(self.edit_selected)
        self.add_button = QPushButton("&Add adjustment…")
        self.add_button.setToolTip("Give one person their own limits for a type")
        self.add_button.clicked.connect(self.add_adjustment)
        self.delete_button = QPushButton("&Delete adjustment")
        self.delete_button.setToolTip("The person's role row applies again")
        self.delete_button.clicked.connect(self.delete_selected)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        for button in (self.edit_button, self.add_button, self.delete_button):
            button.setVisible(self.admin)
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        screen = parent.screen().availableGeometry()
        self.resize(min(1080, screen.width() - 60), min(840, screen.height() - 100))
        self._update_buttons()

    def reload(self) -> None:
        self.bridge.spawn(self._load())

    async def _load(self, say: str | None = None) -> None:
        authority = self.services.authority
        try:
            rows = await self.bridge.run(authority.matrix)
            if self.admin and not self.staff:
                self.staff = await self.bridge.run(authority.staff)
        except Exception as exc:
            log.warning("loading the authority matrix failed", exc_info=True)
            if shiboken6.isValid(self):
                self._say(f"Could not load the matrix: {exc}", False)
            return
        if not shiboken6.isValid(self):
            return
        selected = self.selected()
        self.model.set_rows(rows)
        keep = next(
            (
                n
                for n, r in enumerate(rows)
                if selected
                and (r.role, r.user_id, r.type) == (selected.role, selected.user_id, selected.type)
            ),
            0 if rows else None,
        )
        if keep is not None:
            self.table.selectRow(keep)
        if say is not None:
            self._say(say, True)
        else:
            adjustments = sum(1 for r in rows if r.user_id is not None)
            self.message.setStyleSheet(f"color: {MUTED};")
            self.message.setText(
                f"{fmt.plural(len(rows) - adjustments, 'role row')}, "
                f"{fmt.plural(adjustments, 'personal adjustment')}."
                + ("" if self.admin else " Read only.")
            )
        self._update_buttons()
        self.table.setFocus()

    def selected(self) -> LimitRow | None:
        return self.model.row_at(self.table.currentIndex().row())

    def _update_buttons(self) -> None:
        row = self.selected()
        self.edit_button.setEnabled(self.admin and row is not None)
        self.delete_button.setEnabled(self.admin and row is not None and row.user_id is not None)

    def edit_selected(self) -> None:
        row = self.selected()
        if row is None:
            return
        if not self.admin:
            self._say("Read only: only an admin changes the authority matrix.", False)
            return
        self._open_editor(LimitDialog(row, self))

    def add_adjustment(self) -> None:
        if not self.admin:
            return
        row = self.selected()
        kind = row.type if row is not None else ConcessionType.GOODWILL_GIFT
        template = LimitRow(
            id=None,
            role=None,
            user_id=None,
            user_name=None,
            type=kind,
            allowed=True,
            max_amount_cents=0,
            max_percent=None,
            daily_budget_cents=None,
            period_days=30,
            max_total_per_period_cents=None,
            valid_from=None,
            valid_until=None,
        )
        role_rows = [r for r in self.model.rows if r.role is not None]
        self._open_editor(LimitDialog(template, self, staff=self.staff, role_rows=role_rows))

    def _open_editor(self, dialog: LimitDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.save_requested.connect(lambda row: self.bridge.spawn(self._save(dialog, row)))
        dialog.destroyed.connect(lambda: setattr(self, "editor", None))
        self.editor = dialog
        dialog.open()

    async def _save(self, dialog: LimitDialog, row: LimitRow) -> None:
        from app.operations import authority as operations
        from app.services.authority import new_key

        try:
            outcome = await self.bridge.perform(operations.set_limit, self.services, row, new_key())
        except Exception as exc:
            log.warning("saving a matrix row failed", exc_info=True)
            if shiboken6.isValid(dialog):
                dialog.refused(f"Not saved: {exc}")
            return
        self.outcomes.append(outcome)
        text = words.save_outcome(outcome)
        if not outcome.ok:
            if shiboken6.isValid(dialog):
                dialog.refused(text)
            return
        if shiboken6.isValid(dialog):
            dialog.accept()
        if shiboken6.isValid(self):
            await self._load(f"{words.who(row)} · {words.type_words(row.type)}: saved.")

    def delete_selected(self) -> None:
        row = self.selected()
        if row is None or row.user_id is None or row.id is None or not self.admin:
            return
        self.bridge.spawn(self._delete(row))

    async def _delete(self, row: LimitRow) -> None:
        from app.operations import authority as operations

        assert row.id is not None
        try:
            outcome = await self.bridge.perform(operations.delete_limit, self.services, row.id)
        except Exception as exc:
            log.warning("deleting a matrix row failed", exc_info=True)
            self._say(f"Not deleted: {exc}", False)
            return
        self.outcomes.append(outcome)
        if not outcome.ok:
            self._say(words.save_outcome(outcome), False)
            return
        await self._load(
            f"{words.who(row)} · {words.type_words(row.type)}: adjustment deleted; "
            "their role's row applies again."
        )

    def _say(self, text: str, ok: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {GOOD if ok else BAD};")
