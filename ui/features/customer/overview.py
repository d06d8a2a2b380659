"""The Overview section: key dates coming up, promises, what they buy again, open cases."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QWidget

from app.services import views as v
from ui import formatting as fmt
from ui.features.customer.cases import case_columns
from ui.features.customer.common import WARN, TitledBox, by_id, refill
from ui.table_model import Column, RowTableModel
from ui.widgets import make_table

KEY_DATE_DAYS = 60  # the Overview lists the key dates of the next two months


class OverviewSection(QWidget):
    def __init__(self, data: v.CustomerView) -> None:
        super().__init__()
        self._today = data.today
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 8, 0, 0)

        self.key_dates_model: RowTableModel[v.KeyDateRow] = RowTableModel(
            [
                Column("When", lambda k: fmt.relative_day(k.next_on, self._today)),
                Column("Whose", lambda k: k.whose),
                Column("What", lambda k: k.label or fmt.label(k.kind), stretch=True),
            ],
            self,
        )
        self.key_dates_table = make_table(self.key_dates_model, "Upcoming key dates")
        grid.addWidget(
            TitledBox(f"Coming up (next {KEY_DATE_DAYS} days)", self.key_dates_table), 0, 0
        )

        self.promises_model: RowTableModel[v.CommitmentRow] = RowTableModel(
            [
                Column(
                    "Status",
                    lambda c: "OVERDUE" if c.overdue else c.status.upper(),
                    foreground=lambda c: WARN if c.overdue or c.status == "broken" else None,
                ),
                Column("Promise", lambda c: c.description, stretch=True),
                Column("Due", lambda c: fmt.day(c.due_until)),
                Column("Case", lambda c: c.case_reference or ""),
            ],
            self,
        )
        self.promises_table = make_table(self.promises_model, "Promises made")
        grid.addWidget(TitledBox("Promises", self.promises_table), 0, 1)

        self.last_bought_model: RowTableModel[v.LastBought] = RowTableModel(
            [
                Column("Product", lambda b: b.product, stretch=True),
                Column("Last bought", lambda b: fmt.day(b.last_at)),
                Column("Times", lambda b: str(b.times), align_right=True),
                Column(
                    "Every",
                    lambda b: (
                        f"{b.average_days_between:.0f} days" if b.average_days_between else ""
                    ),
                    align_right=True,
                ),
            ],
            self,
        )
        self.last_bought_table = make_table(self.last_bought_model, "Last bought")
        self.last_bought_box = TitledBox("Last bought", self.last_bought_table)
        grid.addWidget(self.last_bought_box, 1, 0)

        self.open_cases_model: RowTableModel[v.CaseRow] = RowTableModel(case_columns(), self)
        self.open_cases_table = make_table(self.open_cases_model, "Open cases")
        grid.addWidget(TitledBox("Open cases", self.open_cases_table), 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        self.refresh_from(data)

    def refresh_from(self, data: v.CustomerView) -> None:
        soon = [k for k in data.key_dates if k.days_until <= KEY_DATE_DAYS]
        if data.today != self._today:  # "in 3 days" is relative to the day loaded
            self._today = data.today
            self.key_dates_model.set_rows(soon)
        else:
            refill(self.key_dates_table, self.key_dates_model, soon)
        refill(self.promises_table, self.promises_model, data.commitments, by_id)
        refill(self.last_bought_table, self.last_bought_model, data.last_bought, _by_product)
        refill(self.open_cases_table, self.open_cases_model, [c for c in data.cases if c.is_open])
        cut = data.header.order_count > v.LAST_BOUGHT_ORDERS
        self.last_bought_box.title.setText(
            "Last bought" + (f" (in the last {v.LAST_BOUGHT_ORDERS} orders)" if cut else "")
        )


def _by_product(row: v.LastBought) -> int:
    return row.product_id


__all__ = ["OverviewSection"]
