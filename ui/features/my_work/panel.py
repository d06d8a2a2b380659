"""My work: the agent's cases, tasks, promises and department queue, most urgent first.

A tab of the main window (F4). Each row says its urgency in words ("Broken 2 days ago",
"Overdue 3 h", "Due today 18:00") and in colour. Enter opens the customer; "Progress…"
opens the task progress dialog for a task.

Changes: `apply_changes` re-queries when tasks, promises or cases changed (here or by
another agent), once for a burst (coalesced), and not while the tab is out of sight (it
catches up when shown).

Signals:
    open_customer_requested(int): the agent wants this customer's record.
    open_case_requested(int): the agent wants this case (Enter on an item of a case).
    task_progress_requested(object): the WorkItem of a task whose progress to record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.changes import Changes, Entity
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.icons import icon
from ui.table_model import Column, RowTableModel
from ui.widgets import StaleRefresh, make_table, plain_label

if TYPE_CHECKING:  # SQLAlchemy is imported after the first paint
    from app.services.my_work import WorkItem

log = logging.getLogger(__name__)
COALESCE_MS = 100
SHOWN = (Entity.TASK, Entity.COMMITMENT, Entity.CASE)
# By urgency (app.services.my_work.Urgency): broken, overdue, due today, later.
URGENCY_COLOURS = (QColor("#b71c1c"), QColor("#e65100"), QColor("#1565c0"), None)
KIND_WORDS = {"case": "Case", "task": "Task", "commitment": "Promise", "queue": "Queue"}


def _colour(item: WorkItem) -> QColor | None:
    return URGENCY_COLOURS[int(item.urgency)]


COLUMNS: list[Column[WorkItem]] = [
    Column("When", lambda i: i.due_text, foreground=_colour),
    Column("Kind", lambda i: KIND_WORDS.get(i.kind.value, i.kind.value)),
    Column("Customer", lambda i: i.customer_name),
    Column("Case", lambda i: i.case_reference or ""),
    Column("What", lambda i: i.what, stretch=True),
    Column("Priority", lambda i: fmt.label(i.priority) if i.priority else ""),
]


class MyWorkPanel(QWidget):
    open_customer_requested = Signal(int)
    open_case_requested = Signal(int)
    task_progress_requested = Signal(object)

    def __init__(
        self,
        load: Callable[[], list[WorkItem]],
        bridge: DatabaseBridge,
        parent: QWidget | None = None,
    ) -> None:
        """`load`: the agent's work (services.my_work.items), run on the bridge's worker."""
        super().__init__(parent)
        self.load = load
        self.bridge = bridge
        self.loads = 0  # how many queries ran: the tests count the coalescing
        self._generation = 0
        self._changes = StaleRefresh(self, SHOWN, self.refresh, COALESCE_MS)

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(plain_label("My work", bold=True, point_delta=2))
        top.addStretch(1)
        self.count = plain_label("")
        top.addWidget(self.count)
        self.refresh_button = QPushButton(icon("refresh"), "Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)

        self.model: RowTableModel[WorkItem] = RowTableModel(COLUMNS, self)
        self.table = make_table(self.model, "My work")  # type: ignore[arg-type]
        self.table.activated.connect(self._open_row)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        layout.addWidget(self.table, 1)

        bottom = QHBoxLayout()
        self.message = plain_label("")
        self.message.setWordWrap(True)
        bottom.addWidget(self.message, 1)
        self.progress_button = QPushButton("&Progress…")
        self.progress_button.setToolTip("Start, finish or cancel the selected task")
        self.progress_button.clicked.connect(self._progress)
        bottom.addWidget(self.progress_button)
        self.open_case_button = QPushButton(icon("cases"), "Open case")
        self.open_case_button.setToolTip("Open the item's case (Enter)")
        self.open_case_button.clicked.connect(lambda: self._open_row(self.table.currentIndex()))
        bottom.addWidget(self.open_case_button)
        self.open_button = QPushButton(icon("customer"), "Open customer")
        self.open_button.setToolTip("Open the customer's record (Enter on an item without a case)")
        self.open_button.clicked.connect(self._open_customer)
        bottom.addWidget(self.open_button)
        layout.addLayout(bottom)
        bridge.changed.connect(self.apply_changes)
        self._update_buttons()

    def selected(self) -> WorkItem | None:
        return self.model.row_at(self.table.currentIndex().row())

    def refresh(self) -> None:
        self._changes.loaded()  # this query reads what the pending changes wrote
        self.bridge.spawn(self._load())

    def apply_changes(self, changes: Changes) -> None:
        """Re-query when tasks, promises or cases changed, here or elsewhere."""
        self._changes.apply_changes(changes)

    async def _load(self) -> None:
        self._generation += 1
        generation = self._generation
        self.loads += 1
        try:
            rows = await self.bridge.run(self.load)
        except Exception as exc:
            log.exception("loading My work failed")
            self.message.setText(f"Could not load your work: {exc}")
            return
        if generation != self._generation:
            return
        selected = self.selected()
        self.model.set_rows(rows)
        self.count.setText(fmt.plural(len(rows), "item"))
        self.message.setText("" if rows else "Nothing waiting for you.")
        keep = next(
            (
                n
                for n, r in enumerate(rows)
                if selected and (r.kind, r.id) == (selected.kind, selected.id)
            ),
            0 if rows else None,
        )
        if keep is not None:
            self.table.selectRow(keep)
        self._update_buttons()

    def _update_buttons(self) -> None:
        item = self.selected()
        self.open_button.setEnabled(item is not None and item.customer_id is not None)
        self.open_case_button.setEnabled(item is not None and item.case_id is not None)
        self.progress_button.setEnabled(item is not None and item.kind.value in ("task", "queue"))

    def _open_row(self, index: QModelIndex) -> None:
        """Enter: the item's case when it has one, else its customer."""
        item = self.model.row_at(index.row())
        if item is not None and item.case_id is not None:
            self.open_case_requested.emit(item.case_id)
        elif item is not None and item.customer_id is not None:
            self.open_customer_requested.emit(item.customer_id)

    def _open_customer(self) -> None:
        item = self.selected()
        if item is not None and item.customer_id is not None:
            self.open_customer_requested.emit(item.customer_id)

    def _progress(self) -> None:
        item = self.selected()
        if item is not None and item.kind.value in ("task", "queue"):
            self.task_progress_requested.emit(item)
