"""The Orders section: the orders newest first (paged as the agent scrolls) and, for the
selected one, its lines and its delivery."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSplitter, QVBoxLayout, QWidget

from app.services import views as v
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.features.customer.common import by_id, refill
from ui.table_model import Column, RowTableModel
from ui.widgets import make_table, plain_label

if TYPE_CHECKING:
    from app.services.customers import CustomerService  # the core loads after the first paint


class OrdersSection(QSplitter):
    """Signals:
    new_case_requested(int, int): a case about a line: the order's id and the line's number.
    """

    new_case_requested = Signal(int, int)

    def __init__(
        self, data: v.CustomerView, customers: CustomerService, bridge: DatabaseBridge
    ) -> None:
        super().__init__(Qt.Orientation.Vertical)
        self._customers = customers
        self._bridge = bridge
        self.customer_id = data.header.id
        self._currency = data.header.currency
        self._selections = 0  # orders selected so far: tells a refresh whether it selected
        self.model: RowTableModel[v.OrderRow] = RowTableModel(
            [
                Column("Placed", lambda o: fmt.day(o.placed_at)),
                Column("Order", lambda o: o.number),
                Column("Total", lambda o: fmt.money(o.total_cents, o.currency), align_right=True),
                Column("Lines", lambda o: str(o.line_count), align_right=True),
                Column("Channel", lambda o: fmt.label(o.channel)),
                Column("Status", lambda o: fmt.label(o.status), stretch=True),
            ],
            self,
        )
        self.model.set_rows(list(data.orders), more=data.more_orders)
        self.model.request_more = self._request_more
        self.table = make_table(self.model, "Orders, newest first")
        self.table.selectionModel().currentRowChanged.connect(self._order_selected)
        self.addWidget(self.table)

        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        self.lines_model: RowTableModel[v.OrderLineRow] = RowTableModel(
            [
                Column("Product", lambda line: line.product, stretch=True),
                Column("SKU", lambda line: line.sku),
                Column("Qty", lambda line: str(line.quantity), align_right=True),
                Column(
                    "Price",
                    lambda line: fmt.money(line.unit_price_cents, self._currency),
                    align_right=True,
                ),
                Column(
                    "Discount",
                    lambda line: (
                        fmt.money(line.discount_cents, self._currency)
                        if line.discount_cents
                        else ""
                    ),
                    align_right=True,
                ),
                Column("Personalisation", lambda line: line.personalisation or ""),
            ],
            self,
        )
        self.lines_table = make_table(self.lines_model, "Order lines")
        self.shipment_label = plain_label("Select an order to see its lines and delivery.")
        self.shipment_label.setWordWrap(True)
        detail_layout.addWidget(self.lines_table, 1)
        self.new_case_button = QPushButton("New case about this &line…")
        self.new_case_button.setAccessibleName("New case about the selected order line")
        self.new_case_button.clicked.connect(self._new_case_for_line)
        line_row = QHBoxLayout()
        line_row.addWidget(self.shipment_label, 1)
        line_row.addWidget(self.new_case_button)
        detail_layout.addLayout(line_row)
        self.addWidget(detail)
        self.setSizes([300, 200])
        if data.orders:
            self.table.selectRow(0)

    def refresh_from(self, data: v.CustomerView) -> None:
        """The first page anew, the pages the agent scrolled to kept, the selected order
        kept selected and its lines and delivery read again (they may be what changed)."""
        rows, more = list(data.orders), data.more_orders
        loaded = self.model.rows
        if more and len(loaded) > len(rows):
            oldest = rows[-1].placed_at
            rows += [r for r in loaded if r.placed_at < oldest]
            more = self.model.canFetchMore(QModelIndex())
        selections = self._selections
        refill(self.table, self.model, rows, by_id, more)
        current = self.model.row_at(self.table.currentIndex().row())
        if current is None and rows:
            self.table.selectRow(0)
        elif current is not None and self._selections == selections:
            # The same order is still selected, so no selection signal reads it again.
            self._bridge.spawn(self._show_order(current.id))

    def _new_case_for_line(self) -> None:
        order = self.model.row_at(self.table.currentIndex().row())
        line = self.lines_model.row_at(self.lines_table.currentIndex().row())
        if line is None and self.lines_model.rows:
            line = self.lines_model.rows[0]  # no line chosen: the order's first
        if order is not None and line is not None:
            self.new_case_requested.emit(order.id, line.line_no)

    def _request_more(self) -> None:
        rows = self.model.rows
        if rows:
            self._bridge.spawn(self._load_more(rows[-1].placed_at))

    async def _load_more(self, before: dt.datetime) -> None:
        rows, more = await self._bridge.run(self._customers.more_orders, self.customer_id, before)
        if shiboken6.isValid(self.table):  # the tab may have closed meanwhile
            self.model.append_rows(rows, more)

    def _order_selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        order = self.model.row_at(current.row())
        if order is not None:
            self._selections += 1
            self._bridge.spawn(self._show_order(order.id))

    async def _show_order(self, order_id: int) -> None:
        detail = await self._bridge.run(self._customers.order_detail, order_id)
        if not shiboken6.isValid(self.table):
            return  # the tab was closed while the order was loading
        current = self.model.row_at(self.table.currentIndex().row())
        if current is None or current.id != order_id:
            return  # the agent moved on meanwhile
        self._currency = detail.order.currency
        self.lines_model.set_rows(list(detail.lines))
        parts = []
        for s in detail.shipments:
            promised = f"promised {fmt.day(s.promised_date)}" if s.promised_date else ""
            delivered = (
                f"delivered {fmt.day(s.delivered_at)}" if s.delivered_at else "not delivered"
            )
            late = "  LATE" if s.late else ""
            parts.append(
                f"{s.carrier} {s.tracking_number or ''}: {fmt.label(s.status)}, "
                f"{promised}, {delivered}{late}"
            )
        self.shipment_label.setText(
            "\n".join(parts) if parts else f"Order {detail.order.number}: no shipment (store sale)"
        )


__all__ = ["OrdersSection"]
