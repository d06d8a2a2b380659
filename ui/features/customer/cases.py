"""The Cases section, and the case columns the Overview's open cases share with it."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.services import views as v
from ui import formatting as fmt
from ui.features.customer.common import WARN, by_id, refill
from ui.table_model import Column, RowTableModel
from ui.widgets import make_table


def case_columns() -> list[Column[v.CaseRow]]:
    return [
        Column("Case", lambda c: c.reference),
        Column("Subject", lambda c: c.subject, stretch=True),
        Column("Status", lambda c: fmt.label(c.status)),
        Column("Priority", lambda c: fmt.label(c.priority)),
        Column("SLA due", lambda c: fmt.day_time(c.sla_due_at) if c.is_open else ""),
        Column("Contacts", lambda c: str(c.contacts), align_right=True),
        Column("Promises", _promises, foreground=_promises_colour),
    ]


def _promises(case: v.CaseRow) -> str:
    parts = (
        f"{case.broken_commitments} broken" if case.broken_commitments else "",
        f"{case.overdue_commitments} overdue" if case.overdue_commitments else "",
    )
    return ", ".join(part for part in parts if part)


def _promises_colour(case: v.CaseRow) -> object:
    return WARN if case.broken_commitments or case.overdue_commitments else None


class CasesSection(QWidget):
    """Every case of the customer, open first. Enter or a double click opens the case in a
    tab of its own; "New case" opens one for this customer.

    Signals:
        open_case_requested(int): the case to open.
        new_case_requested(): the agent asked to open a new case for this customer.
    """

    open_case_requested = Signal(int)
    new_case_requested = Signal()

    def __init__(self, data: v.CustomerView) -> None:
        super().__init__()
        self.model: RowTableModel[v.CaseRow] = RowTableModel(case_columns(), self)
        self.model.set_rows(list(data.cases))
        self.table = make_table(self.model, "Cases, open first")
        self.table.activated.connect(self._activated)  # Enter, or a double click
        self.open_button = QPushButton("&Open case")
        self.open_button.clicked.connect(lambda: self._activated(self.table.currentIndex()))
        self.new_button = QPushButton("New cas&e…")
        self.new_button.setAccessibleName("New case")
        self.new_button.clicked.connect(self.new_case_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)

    def _activated(self, index: QModelIndex) -> None:
        case = self.model.row_at(index.row())
        if case is not None:
            self.open_case_requested.emit(case.id)

    def refresh_from(self, data: v.CustomerView) -> None:
        refill(self.table, self.model, data.cases, by_id)
