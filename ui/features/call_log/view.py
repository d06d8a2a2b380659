"""The call log: the agent's and the line's calls, answered, missed and dialled.

A tab of the main window (Ctrl+L). A missed call shows its callback task; "Call"
hands the number to the softphone (click-to-call) and, for a missed call, closes
the callback task.

Changes: `apply_changes` re-queries when calls or tasks changed (here or by another
agent), once for a burst of changes, and not while the tab is out of sight (it catches
up when shown).

Signals:
    open_customer_requested(int): the agent wants the caller's record.
    new_customer_requested(str): an unknown caller's number, for quick-create.
    dial_requested(object): the CallLogEntry whose number the agent wants to call.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes, Entity
from app.services.views import CallLogEntry
from ui import actions
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.icons import icon
from ui.table_model import Column, RowTableModel
from ui.widgets import StaleRefresh, make_table, plain_label

if TYPE_CHECKING:  # SQLAlchemy is imported after the first paint
    from app.services.calls import CallService

log = logging.getLogger(__name__)
COALESCE_MS = 100  # changes closer together than this make one re-query
SHOWN = (Entity.INTERACTION, Entity.TASK)  # calls, and the callback tasks of missed ones
MISSED_OPEN = QColor("#c62828")
# "rang": popped here, but no source reported an answer or a hang-up (`rapport pop`).
OUTCOMES = {"completed": "Answered", "missed": "Missed", "abandoned": "Abandoned", "rang": "Rang"}


def outcome_text(entry: CallLogEntry) -> str:
    if entry.direction == "outbound":
        return "Dialled"
    return OUTCOMES.get(entry.outcome, fmt.label(entry.outcome))


def callback_text(entry: CallLogEntry) -> str:
    if entry.callback_status is None:
        return ""
    return "to do" if entry.callback_status in ("open", "in_progress") else entry.callback_status


def _missed_colour(entry: CallLogEntry) -> QColor | None:
    return MISSED_OPEN if callback_text(entry) == "to do" else None


COLUMNS: list[Column[CallLogEntry]] = [
    Column("When", lambda e: fmt.day_time(e.started_at)),
    Column("", lambda e: "in" if e.direction == "inbound" else "out"),
    Column("Number", lambda e: e.number_display or e.number or "withheld"),
    Column("Customer", lambda e: e.customer_name or "unknown caller", stretch=True),
    Column("Outcome", outcome_text, foreground=_missed_colour),
    Column("Talk", lambda e: fmt.duration(e.duration_s), align_right=True),
    Column("Wrap-up", lambda e: fmt.label(e.wrap_up_code) if e.wrap_up_code else ""),
    Column("Callback", callback_text, foreground=_missed_colour),
    Column("Agent", lambda e: e.agent or ""),
    Column("Line", lambda e: e.line or ""),
]


class CallLogView(QWidget):
    open_customer_requested = Signal(int)
    new_customer_requested = Signal(str)
    dial_requested = Signal(object)

    def __init__(
        self,
        calls: CallService,
        bridge: DatabaseBridge,
        agent: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.calls = calls
        self.bridge = bridge
        self.agent = agent  # the agent's login: "my calls"
        self.line: str | None = None  # the line our calls arrive on, learnt from them
        self._generation = 0
        self._changes = StaleRefresh(self, SHOWN, self.refresh, COALESCE_MS)

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(plain_label("Call log", bold=True, point_delta=2))
        self.scope = QComboBox()
        self.scope.setAccessibleName("Which calls")
        self.scope.addItems(["My calls and my line", "All calls"])
        self.scope.setToolTip(
            "Mine: calls I answered, calls on my line and calls that rang on this workstation,"
            " missed ones included"
        )
        self.scope.currentIndexChanged.connect(self.refresh)
        top.addWidget(self.scope)
        self.missed_only = QCheckBox("Missed only")
        self.missed_only.toggled.connect(self.refresh)
        top.addWidget(self.missed_only)
        top.addStretch(1)
        self.count = plain_label("")
        top.addWidget(self.count)
        self.refresh_button = QPushButton(icon("refresh"), "Refresh")
        self.refresh_button.setToolTip(actions.tooltip("call_log.refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)

        self.model: RowTableModel[CallLogEntry] = RowTableModel(COLUMNS, self)
        self.table = make_table(self.model, "Calls")  # type: ignore[arg-type]
        self.table.activated.connect(self._open_row)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        layout.addWidget(self.table, 1)

        bottom = QHBoxLayout()
        self.message = plain_label("")
        self.message.setWordWrap(True)
        bottom.addWidget(self.message, 1)
        self.open_button = QPushButton(icon("customer"), "Open customer")
        self.open_button.setToolTip("Open the caller's record (Enter)")
        self.open_button.clicked.connect(lambda: self._open_row(self.table.currentIndex()))
        bottom.addWidget(self.open_button)
        self.call_button = QPushButton(icon("dial"), "Call")
        self.call_button.setToolTip(actions.tooltip("call_log.dial"))
        self.call_button.clicked.connect(self.call_selected)
        bottom.addWidget(self.call_button)
        layout.addLayout(bottom)
        actions.bind("call_log.refresh", self, self.refresh)
        actions.bind("call_log.dial", self, self.call_selected)
        self._update_buttons()

    def selected(self) -> CallLogEntry | None:
        return self.model.row_at(self.table.currentIndex().row())

    def refresh(self) -> None:
        self._changes.loaded()  # this query reads what the pending changes wrote
        self.bridge.spawn(self._load())

    def apply_changes(self, changes: Changes) -> None:
        """Re-query when calls or their callback tasks changed, here or elsewhere."""
        self._changes.apply_changes(changes)

    async def _load(self) -> None:
        self._generation += 1
        generation = self._generation
        mine = self.scope.currentIndex() == 0
        workstation = self.calls.workstation if mine else None
        try:
            rows = await self.bridge.run(
                self.calls.call_log,
                self.agent if mine else None,
                self.line if mine else None,
                self.missed_only.isChecked(),
                200,
                workstation,
            )
        except Exception as exc:
            log.exception("loading the call log failed")
            self.message.setText(f"Could not load the call log: {exc}")
            return
        if generation != self._generation:
            return  # a newer refresh is on its way
        selected = self.selected()
        self.model.set_rows(rows)
        self.count.setText(fmt.plural(len(rows), "call"))
        if not rows:
            self.message.setText(
                "No calls here yet (All calls shows everyone's)." if mine else "No calls yet."
            )
        else:
            self.message.setText("")
        keep = next(
            (
                i
                for i, r in enumerate(rows)
                if selected and r.interaction_id == selected.interaction_id
            ),
            0 if rows else None,
        )
        if keep is not None:
            self.table.selectRow(keep)
        self._update_buttons()

    def _update_buttons(self) -> None:
        entry = self.selected()
        self.open_button.setEnabled(
            entry is not None and (entry.customer_id is not None or bool(entry.number))
        )
        self.call_button.setEnabled(entry is not None and bool(entry.number))

    def _open_row(self, index: QModelIndex) -> None:
        entry = self.model.row_at(index.row())
        if entry is None:
            return
        if entry.customer_id is not None:
            self.open_customer_requested.emit(entry.customer_id)
        elif entry.number:
            self.new_customer_requested.emit(entry.number)

    def call_selected(self) -> None:
        entry = self.selected()
        if entry is not None and entry.number:
            self.dial_requested.emit(entry)
