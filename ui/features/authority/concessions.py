"""The Concessions section of the customer tab: what this customer received (when, what,
why, from whom, approved by whom, about which case and order), the agent's budget today,
and the policy exceptions the customer qualifies for.

It only shows; `AuthorityDesk` (desk.py) reads the rows off the GUI thread and refreshes
them when the change bus reports a concession of this customer.

Signals:
    grant_requested(): the agent pressed "Make it right…".
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.services import views as v
from app.services.authority import LedgerRow, PolicyHint, TypeAuthority
from ui import actions
from ui import formatting as fmt
from ui.features.authority.hints import PolicyHints
from ui.features.authority.words import budget_line, budget_tip, type_label, value_text
from ui.table_model import Column, RowTableModel
from ui.widgets import make_table, plain_label


def ledger_columns(policy_names: dict[str, str] | None = None) -> list[Column[LedgerRow]]:
    """The ledger's columns; a policy shows by its name when `policy_names` knows it."""
    names = policy_names if policy_names is not None else {}

    def _type(row: LedgerRow) -> str:
        policy = names.get(row.policy_code or "", row.policy_code)
        return type_label(row.type) + (f" ({policy})" if policy else "")

    return [
        Column(
            "Date", lambda r: fmt.day(r.granted_at), tooltip=lambda r: fmt.day_time(r.granted_at)
        ),
        Column("Type", _type),
        Column(
            "Value", lambda r: value_text(r.amount_cents, r.currency, r.percent), align_right=True
        ),
        Column("Reason", lambda r: r.reason, stretch=True, tooltip=lambda r: r.reason),
        Column("Granted by", lambda r: r.granted_by),
        Column("Approved by", lambda r: r.approved_by or ""),
        Column("Case", lambda r: r.case_reference or ""),
        Column("Order", lambda r: r.order_number or ""),
    ]


class ConcessionsSection(QWidget):
    grant_requested = Signal()

    def __init__(self, currency: str = "USD", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.currency = currency
        self.budget = plain_label("Your budget today: …")
        self.budget.setAccessibleName("Your concession budget today")
        self.budget.setWordWrap(True)
        # The qualifying ones are under the customer header already (the desk's strip).
        self.hints = PolicyHints(fold_others=True, show_qualifying=False)
        self._policy_names: dict[str, str] = {}  # code -> name, from the hints
        self.model: RowTableModel[LedgerRow] = RowTableModel(
            ledger_columns(self._policy_names), self
        )
        self.table = make_table(self.model, "Concessions this customer received, newest first")
        self.empty = plain_label("")
        self.empty.setObjectName("muted")
        self.grant_button = QPushButton("Make it right…")
        self.grant_button.setAccessibleName("Make it right: grant a concession or ask a supervisor")
        self.grant_button.setToolTip(actions.tooltip("authority.grant"))
        self.grant_button.clicked.connect(self.grant_requested)
        top = QHBoxLayout()
        top.addWidget(self.budget, 1)
        top.addWidget(self.grant_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.hints)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)

    def show_ledger(self, rows: Sequence[LedgerRow]) -> None:
        self.model.update_rows(list(rows))
        self.empty.setText("" if rows else "No concessions yet.")
        self.empty.setVisible(not rows)

    def show_budget(self, rows: Sequence[TypeAuthority]) -> None:
        self.budget.setText(budget_line(rows, self.currency))
        self.budget.setToolTip(budget_tip(rows, self.currency))

    def show_hints(self, hints: Sequence[PolicyHint]) -> None:
        self._policy_names.update({h.code: h.name for h in hints})
        self.hints.show_hints(hints)

    def refresh_from(self, data: v.CustomerView) -> None:
        """The customer view was read again: nothing here comes from it (the desk reads
        the ledger when a concession changes)."""
        self.currency = data.header.currency
