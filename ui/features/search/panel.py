"""The search box and its results: understands phones, e-mails, orders, cases, names.

Results come as you type (debounced); an answer to an older query is dropped.
Enter opens the selected (or best) match, arrows move, Esc clears.

Changes: `apply_changes` runs the search shown again when a customer it lists changed
(renamed, another phone, a new order), keeping the selected customer selected. A new
customer who would match is listed at the next search, not pushed into the list.

Signals:
    open_requested(int): the agent chose a customer id to open.
    new_customer_requested(str): nothing matched; create a customer from this text.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QPushButton, QTableView, QVBoxLayout, QWidget

from app.changes import Changes, Entity
from app.services import views as v
from ui import actions
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.icons import icon
from ui.table_model import Column, RowTableModel
from ui.widgets import make_table, plain_label

DEBOUNCE_MS = 180
MAX_QUERY_CHARS = 200  # app.services.search.MAX_QUERY_CHARS (not imported: see Start-up)
log = logging.getLogger(__name__)
MATCH_LABELS = {"phone": "phone", "email": "e-mail", "order": "order", "case": "case"}
# What a result shows: the customer (name, city, tier) and their last order.
SHOWN = (Entity.CUSTOMER, Entity.ORDER)


class SearchPanel(QWidget):
    open_requested = Signal(int)
    new_customer_requested = Signal(str)

    def __init__(self, bridge: DatabaseBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._search: object | None = None  # SearchService once connected
        self._generation = 0
        self._open_when_ready = False
        self._open_if_single: str | None = None  # a look-up (tel:) opens a sole match
        self._listed_query: str | None = None  # the query whose results are listed
        self.setMinimumWidth(340)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 0, 8)
        self.box = QLineEdit()
        self.box.setObjectName("searchBox")
        self.box.setAccessibleName("Search customers")
        self.box.setPlaceholderText("Phone, e-mail, order, case or name")
        self.box.setMaxLength(MAX_QUERY_CHARS)
        self.box.setToolTip(
            actions.tooltip("search.focus")
            + f"; typos allowed in names (up to {MAX_QUERY_CHARS} characters)"
        )
        self.box.setClearButtonEnabled(True)
        self.box.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.box.installEventFilter(self)
        layout.addWidget(self.box)
        self.status = plain_label("Type to search.")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        self.model: RowTableModel[v.SearchHit] = RowTableModel(
            [
                Column(
                    "Name", lambda h: h.name, tooltip=lambda h: f"{h.name} ({h.tier})", stretch=True
                ),
                Column("City", lambda h: h.city or ""),
                Column("Last order", lambda h: fmt.day(h.last_order_at)),
                Column("Match", lambda h: _matched(h), tooltip=lambda h: h.matched_text),
            ]
        )
        self.results: QTableView = make_table(self.model, "Search results")
        self.results.activated.connect(lambda index: self._open_row(index.row()))
        self.results.installEventFilter(self)
        layout.addWidget(self.results, 1)
        self.new_button = QPushButton(icon("new_customer"), "New customer…")
        self.new_button.setToolTip(actions.tooltip("customer.new"))
        self.new_button.setAccessibleName("New customer")
        self.new_button.clicked.connect(
            lambda: self.new_customer_requested.emit(self.box.text().strip())
        )
        self.new_button.hide()
        layout.addWidget(self.new_button)

        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self._start_search)
        self.box.textChanged.connect(lambda _text: self._timer.start())
        self.box.returnPressed.connect(self._open_best)

    def set_service(self, search_service: object) -> None:
        self._search = search_service
        if self.box.text().strip():
            self._timer.start()

    def show_candidates(self, hits: list[v.SearchHit] | tuple[v.SearchHit, ...], why: str) -> None:
        """Several customers for one caller (a household phone): let the agent pick."""
        self._generation += 1  # whatever was being searched is no longer wanted
        self._listed_query = None  # not the answer to what is typed: nothing to re-run
        self.model.set_rows(list(hits))
        self.results.selectRow(0)
        self.status.setText(f"{why}: {len(hits)} customers share this number. Enter opens.")
        self.results.setFocus()

    def search_for(self, text: str) -> None:
        """Search `text` now (a `tel:` look-up); one match opens, several are listed."""
        self._open_if_single = text.strip()
        self.box.setText(text)
        self._timer.stop()
        self._start_search()

    def focus_box(self) -> None:
        self.box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.box.selectAll()

    def apply_changes(self, changes: Changes) -> None:
        """Search again when a listed customer changed (nothing else is queried)."""
        query = self._listed_query
        if query is None or query != self.box.text().strip() or self._timer.isActive():
            return  # nothing listed, or a search of what is typed is coming anyway
        listed = {hit.customer_id for hit in self.model.rows}
        if changes.everything or listed & changes.customers(SHOWN):
            self._generation += 1
            self._bridge.spawn(self._run_search(query, self._generation, refresh=True))

    # -- searching -------------------------------------------------------------

    def _start_search(self) -> None:
        query = self.box.text().strip()
        self._generation += 1
        self._listed_query = None
        if not query:
            self.model.set_rows([])
            self.new_button.hide()
            self.status.setText("Type to search.")
            return
        if self._search is None:
            self.status.setText("Connecting to the database…")
            return
        self._bridge.spawn(self._run_search(query, self._generation))

    async def _run_search(self, query: str, generation: int, refresh: bool = False) -> None:
        try:
            hits = await self._bridge.run(self._search.search, query)  # type: ignore[union-attr]
        except Exception as exc:  # show it in place, keep what is typed
            log.exception("search failed")
            if generation == self._generation:
                self.status.setText(f"Search failed: {exc}")
            return
        if generation != self._generation:
            return  # a newer query is on its way: drop this stale answer
        self._listed_query = query
        if refresh:
            self._show_again(query, hits)
            return
        self.model.set_rows(hits)
        if hits:
            self.results.selectRow(0)
        self._say_found(query, hits)
        if self._open_when_ready:
            self._open_when_ready = False
            self._open_row(0)
        elif self._open_if_single == query:
            self._open_if_single = None
            log.info("look-up: %d match(es)%s", len(hits), "; opened" if len(hits) == 1 else "")
            if len(hits) == 1:
                self._open_row(0)

    def _say_found(self, query: str, hits: list[v.SearchHit]) -> None:
        self.new_button.setVisible(not hits)
        if hits:
            self.status.setText(
                f"{fmt.plural(len(hits), 'match', 'matches')}. Enter opens, ↑↓ move, Esc clears."
            )
        else:
            self.status.setText(f"No customer matches {query!r}. Create one with Ctrl+N.")

    def _show_again(self, query: str, hits: list[v.SearchHit]) -> None:
        """The same search answered anew: the selected customer stays selected."""
        selected = self.model.row_at(self.results.currentIndex().row())
        if not self.model.update_rows(hits):
            return
        self._say_found(query, hits)
        row = next(
            (i for i, h in enumerate(hits) if selected and h.customer_id == selected.customer_id),
            0 if hits else None,
        )
        if row is not None and row != self.results.currentIndex().row():
            self.results.selectRow(row)

    def _open_best(self) -> None:
        if self._timer.isActive():  # Enter before the debounce fired: search now
            self._timer.stop()
            self._start_search()
            self._open_when_ready = True
            return
        row = self.results.currentIndex().row()
        self._open_row(row if row >= 0 else 0)

    def _open_row(self, row: int) -> None:
        hit = self.model.row_at(row)
        if hit is not None:
            self.open_requested.emit(hit.customer_id)

    # -- keyboard ----------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if watched is self.box and key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._move(1 if key == Qt.Key.Key_Down else -1)
                return True
            if key == Qt.Key.Key_Escape:
                self.box.clear()
                self.box.setFocus()
                return True
        return super().eventFilter(watched, event)

    def _move(self, step: int) -> None:
        count = self.model.rowCount()
        if not count:
            return
        row = self.results.currentIndex().row()
        self.results.selectRow(max(0, min(count - 1, row + step)))


def _matched(hit: v.SearchHit) -> str:
    if hit.matched_on == "name":
        return f"name {hit.score:.0%}"
    return MATCH_LABELS.get(hit.matched_on, hit.matched_on)
