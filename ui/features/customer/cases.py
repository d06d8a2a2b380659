"""The Cases section, and the case columns the Overview's open cases share with it."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

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
    """Every case of the customer, open first."""

    def __init__(self, data: v.CustomerView) -> None:
        super().__init__()
        self.model: RowTableModel[v.CaseRow] = RowTableModel(case_columns(), self)
        self.model.set_rows(list(data.cases))
        self.table = make_table(self.model, "Cases, open first")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)

    def refresh_from(self, data: v.CustomerView) -> None:
        refill(self.table, self.model, data.cases, by_id)
