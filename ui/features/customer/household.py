"""The Household section: relations (a double click opens one who is a customer) and
addresses with their nearest stores.

Signals:
    open_customer_requested(int): the agent opened a relation who is a customer.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QHBoxLayout, QWidget

from app.services import views as v
from ui import formatting as fmt
from ui.features.customer.common import TitledBox, refill
from ui.table_model import Column, RowTableModel
from ui.widgets import make_table


class HouseholdSection(QWidget):
    open_customer_requested = Signal(int)

    def __init__(self, data: v.CustomerView) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        self.relations_model: RowTableModel[v.RelationRow] = RowTableModel(
            [
                Column("Relation", lambda r: fmt.label(r.relation)),
                Column("Name", lambda r: r.name, stretch=True),
                Column("Customer", lambda r: "yes" if r.customer_id else ""),
            ],
            self,
        )
        self.relations_table = make_table(self.relations_model, "Household and relations")
        self.relations_table.doubleClicked.connect(self._open_relation)
        layout.addWidget(TitledBox("Household and relations", self.relations_table), 1)

        self.addresses_model: RowTableModel[v.AddressRow] = RowTableModel(
            [
                Column("Kind", lambda a: fmt.label(a.kind)),
                Column("Address", lambda a: a.text, stretch=True),
                Column("Nearest stores", lambda a: "; ".join(a.nearest_stores)),
            ],
            self,
        )
        self.addresses_table = make_table(self.addresses_model, "Addresses")
        layout.addWidget(TitledBox("Addresses", self.addresses_table), 2)
        self.refresh_from(data)

    def refresh_from(self, data: v.CustomerView) -> None:
        refill(self.relations_table, self.relations_model, data.relations, _relation_key)
        refill(self.addresses_table, self.addresses_model, data.addresses)

    def _open_relation(self, index: QModelIndex) -> None:
        relation = self.relations_model.row_at(index.row())
        if relation is not None and relation.customer_id:
            self.open_customer_requested.emit(relation.customer_id)


def _relation_key(row: v.RelationRow) -> object:
    # A relative who is a customer stays the same row when renamed.
    return row.customer_id or (row.relation, row.name)


__all__ = ["HouseholdSection"]
