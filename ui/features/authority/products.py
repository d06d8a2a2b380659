"""Product lookup (Ctrl+Shift+P, Go menu): what a product costs, where it is in stock, when
the next delivery comes, and when a coming product launches ("Launches from 16 Dec, in
two weeks"), so nobody tells a customer "quite some time" (S7). Below, what launches
soon.

A plain window the agent keeps beside the customer (opened with show(), not modal).
Typing searches 250 ms after the last key, on a worker; an older answer is dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QModelIndex, Qt, QTimer
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QSplitter, QVBoxLayout, QWidget

from app.services.authority import ProductAvailability
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.table_model import Column, RowTableModel
from ui.widgets import make_table, plain_label

if TYPE_CHECKING:
    from app.services.products import ProductService  # the core loads after the first paint

log = logging.getLogger(__name__)
SEARCH_AFTER_MS = 250
Store = tuple[str, int, dt.date | None]


def store_text(store: Store) -> str:
    """ "3 in Sydney CBD", "0 in Parramatta, next delivery 9 Dec"."""
    name, quantity, expected = store
    text = f"{quantity} in {name}"
    if quantity == 0 and expected is not None:
        text += f", next delivery {expected.day} {expected:%b}"
    return text


def launch_words(product: ProductAvailability) -> str:
    return f"Launches {product.launch_note}" if product.launch_note else ""


def stock_words(product: ProductAvailability, shown: int = 4) -> str:
    """ "20 in Clifton · 12 in Collins Street · … and 17 more stores below": the stores
    with the most first (the table under it lists them all)."""
    if product.launch_note and not product.in_stock:
        return "Not in the stores yet."
    if not product.stores:
        return "No store stocks it."
    ordered = sorted(product.stores, key=lambda s: -s[1])  # most first; the rest as read
    words = " · ".join(store_text(s) for s in ordered[:shown])
    rest = len(ordered) - shown
    return words + (f" · and {fmt.plural(rest, 'more store')} below" if rest > 0 else "")


def summary_words(product: ProductAvailability) -> str:
    """Name, SKU and price; then how many units in how many stores (when any are)."""
    stocked = sum(1 for s in product.stores if s[1] > 0)
    line = f"{product.name} ({product.sku}) · {fmt.money(product.price_cents)}"
    if product.in_stock:
        line += (
            f" · {fmt.plural(product.in_stock, 'unit')} in {stocked} of "
            f"{fmt.plural(len(product.stores), 'store')}"
        )
    return line


def _stock_column(p: ProductAvailability) -> str:
    return "coming" if p.launch_note and not p.in_stock else str(p.in_stock)


class ProductLookup(QDialog):
    def __init__(
        self, products: ProductService, bridge: DatabaseBridge, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Product lookup")
        self.setAccessibleName("Product lookup")
        self._products = products
        self._bridge = bridge
        self._seq = 0
        self.box = QLineEdit()
        self.box.setPlaceholderText("Product name or SKU, e.g. chiming clock")
        self.box.setAccessibleName("Product name or SKU")
        self.box.setClearButtonEnabled(True)
        self.model: RowTableModel[ProductAvailability] = RowTableModel(
            [
                Column("Product", lambda p: p.name, stretch=True),
                Column("SKU", lambda p: p.sku),
                Column("Price", lambda p: fmt.money(p.price_cents), align_right=True),
                Column("In stock", _stock_column, align_right=True),
                Column("Launch", launch_words),
            ],
            self,
        )
        self.table = make_table(self.model, "Products found")
        self.table.selectionModel().currentRowChanged.connect(self._selected)
        self.summary = plain_label("Type a product's name or SKU.", bold=True)
        self.summary.setAccessibleName("Product")
        self.summary.setWordWrap(True)
        self.launch = plain_label("", point_delta=1)
        self.launch.setAccessibleName("Launch")
        self.launch.setStyleSheet("color: #1f6feb;")
        self.launch.hide()
        self.stock = plain_label("")
        self.stock.setAccessibleName("Stock per store")
        self.stock.setWordWrap(True)
        self.stores: RowTableModel[Store] = RowTableModel(
            [
                Column("Store", lambda st: st[0], stretch=True),
                Column("In stock", lambda st: str(st[1]), align_right=True),
                Column("Next delivery", lambda st: fmt.day(st[2]) if st[1] == 0 and st[2] else ""),
            ],
            self,
        )
        self.stores_table = make_table(self.stores, "Stock per store, most first")
        self.coming: RowTableModel[ProductAvailability] = RowTableModel(
            [
                Column("Product", lambda p: p.name, stretch=True),
                Column("Price", lambda p: fmt.money(p.price_cents), align_right=True),
                Column("Launches", lambda p: p.launch_note or fmt.day(p.launch_date)),
            ],
            self,
        )
        self.coming_table = make_table(self.coming, "Coming soon")
        self.coming_table.activated.connect(self._coming_chosen)

        found = QWidget()
        found_layout = QVBoxLayout(found)
        found_layout.setContentsMargins(0, 0, 0, 0)
        found_layout.addWidget(self.table, 2)
        found_layout.addWidget(self.summary)
        found_layout.addWidget(self.launch)
        found_layout.addWidget(self.stock)
        found_layout.addWidget(self.stores_table, 2)
        soon = QWidget()
        soon_layout = QVBoxLayout(soon)
        soon_layout.setContentsMargins(0, 0, 0, 0)
        soon_layout.addWidget(plain_label("Coming soon", bold=True))
        soon_layout.addWidget(self.coming_table)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(found)
        splitter.addWidget(soon)
        splitter.setSizes([460, 130])
        search_label = QLabel("&Find")
        search_label.setBuddy(self.box)
        layout = QVBoxLayout(self)
        layout.addWidget(search_label)
        layout.addWidget(self.box)
        layout.addWidget(splitter, 1)
        self.resize(760, 640)

        self._timer = QTimer(self, singleShot=True, interval=SEARCH_AFTER_MS)
        self._timer.timeout.connect(lambda: self._bridge.spawn(self.search(self.box.text())))
        self.box.textEdited.connect(lambda _text: self._timer.start())
        self.box.returnPressed.connect(self._enter)
        self.box.setFocus()

    def start(self) -> None:
        self._bridge.spawn(self.load_coming())

    async def load_coming(self) -> None:
        try:
            rows = await self._bridge.run(self._products.launches)
        except Exception:
            log.warning("reading coming launches failed", exc_info=True)
            return
        if shiboken6.isValid(self):
            self.coming.set_rows(rows)

    async def search(self, text: str) -> list[ProductAvailability]:
        self._seq += 1
        seq = self._seq
        if not text.strip():
            self.model.set_rows([])
            self.summary.setText("Type a product's name or SKU.")
            self.launch.hide()
            self.stock.setText("")
            self.stores.set_rows([])
            return []
        try:
            rows = await self._bridge.run(self._products.lookup, text)
        except Exception as exc:
            log.warning("product lookup failed", exc_info=True)
            if shiboken6.isValid(self) and seq == self._seq:
                self.summary.setText(f"Cannot look it up now: {str(exc).splitlines()[0]}")
            return []
        if not shiboken6.isValid(self) or seq != self._seq:
            return rows
        self.model.set_rows(rows)
        if rows:
            self.table.selectRow(0)
        else:
            self.summary.setText(f"No product matches “{text.strip()}”.")
            self.launch.hide()
            self.stock.setText("")
            self.stores.set_rows([])
        return rows

    def _enter(self) -> None:
        self._timer.stop()
        self._bridge.spawn(self.search(self.box.text()))

    def _selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        product = self.model.row_at(current.row())
        if product is not None:
            self.show_product(product)

    def show_product(self, product: ProductAvailability) -> None:
        self.summary.setText(summary_words(product))
        self.launch.setText(launch_words(product))
        self.launch.setVisible(bool(product.launch_note))
        self.stock.setText(stock_words(product))
        self.stores.set_rows(sorted(product.stores, key=lambda st: -st[1]))

    def _coming_chosen(self, index: QModelIndex) -> None:
        product = self.coming.row_at(index.row())
        if product is not None:
            self.model.set_rows([product])
            self.table.selectRow(0)


def show_product_lookup(
    products: ProductService, bridge: DatabaseBridge, parent: QWidget
) -> ProductLookup:
    dialog = ProductLookup(products, bridge, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.setModal(False)
    dialog.show()
    dialog.start()
    return dialog


__all__ = ["ProductLookup", "show_product_lookup", "store_text"]
