""" "This caller is…": a staged unknown caller identified as a customer already on file.

Shown on the tab of a staged customer (the record quick-made for an unknown caller).
The agent searches (the same search as the search box, on a worker), picks the real
customer and confirms; `app/operations/merges.py` `identify_caller` merges the staged
record into them: the call and its task move, the staged record is kept as merged
(history) and leaves search. The real customer's values win.

Signals:
    identified(int): the real customer's id, once the merge is done.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.errors import UserError
from ui.bridge import DatabaseBridge

if TYPE_CHECKING:
    from app.bootstrap import Services

log = logging.getLogger(__name__)


class IdentifyCallerDialog(QDialog):
    identified = Signal(int)

    def __init__(
        self,
        staged_id: int,
        staged_name: str,
        services: Services,
        bridge: DatabaseBridge,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.staged_id = staged_id
        self.services = services
        self.bridge = bridge
        self.setWindowTitle("This caller is…")
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(f"Who is {staged_name}? Search by name, phone, e-mail or order, then pick.")
        )
        self.box = QLineEdit()
        self.box.setPlaceholderText("Name, phone, e-mail or order; Enter searches")
        self.box.returnPressed.connect(lambda: self.bridge.spawn(self._search()))
        layout.addWidget(self.box)
        self.results = QListWidget()
        self.results.itemActivated.connect(lambda _item: self._accept())
        layout.addWidget(self.results, 1)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.addButton("This is the caller", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setEnabled(False)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.results.currentItemChanged.connect(lambda item, _old: self.ok.setEnabled(bool(item)))

    async def _search(self) -> None:
        text = self.box.text().strip()
        if not text:
            return
        try:
            hits = await self.bridge.run(self.services.search.search, text)
        except UserError as exc:
            self.message.setText(str(exc))
            return
        self.results.clear()
        for hit in hits:
            if hit.customer_id == self.staged_id:
                continue
            item = QListWidgetItem(f"{hit.name} (#{hit.customer_id}) {hit.city or ''}".strip())
            item.setData(Qt.ItemDataRole.UserRole, hit.customer_id)
            self.results.addItem(item)
        self.message.setText("" if self.results.count() else "Nobody found.")
        if self.results.count():
            self.results.setCurrentRow(0)
            self.results.setFocus()

    def _accept(self) -> None:
        item = self.results.currentItem()
        if item is not None:
            self.bridge.spawn(self._identify(int(item.data(Qt.ItemDataRole.UserRole))))

    async def _identify(self, customer_id: int) -> None:
        from app.operations.merges import identify_caller

        self.ok.setEnabled(False)
        try:
            result = await self.bridge.perform(
                identify_caller, self.services, self.staged_id, customer_id
            )
        except UserError as exc:
            self.message.setText(str(exc))
            self.ok.setEnabled(True)
            return
        self.identified.emit(result.survivor_id)
        self.accept()
