"""A case as a tab: who and what at the top, the timeline, the note being written, the
status steps the workflow allows, and where the time went per department.

The header says what matters in words and colour: the reference (large, selectable, one
click to copy, as it is quoted to the customer), the status, the priority with its
reason, and a repeat-contact warning ("3rd contact about this in 9 days"). Every
widget is reachable by keyboard (mnemonics, Tab). Data comes from the worker
(`CaseController`); a `Changes` record naming this case refreshes it in place: the
note being written and the fields being edited stay as they are.

Signals:
    open_customer_requested(int): the agent asked for the case's customer.
    title_changed(str): the tab's title (the reference) changed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from app.drafts import DraftKey, DraftStore
from app.errors import UserError
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.features.cases.controller import CaseController
from ui.features.cases.note_box import CaseNoteBox
from ui.features.cases.timeline import make_timeline
from ui.features.teamwork.macro_picker import MacroPicker
from ui.features.teamwork.presence import PresenceBar, PresenceDriver
from ui.table_model import Column, RowTableModel
from ui.widgets import make_table, plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services  # the core loads after the first paint
    from app.services.case_timeline import DepartmentTime
    from app.services.case_view import CaseDetail

log = logging.getLogger(__name__)
PRIORITY_COLOURS = {"urgent": "#c62828", "high": "#e65100"}
REPEAT_COLOUR = "#c62828"
NOTICE_COLOUR = "#8a5a00"
SLA_COLOURS = {"breached": "#c62828", "warning": "#e65100", "paused": "#59636e"}
EDITED_FIELDS = ("subject", "priority")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def waited_text(waited: Any) -> str:
    minutes = int(waited.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {mins} min" if hours else f"{mins} min"


class CasePanel(QWidget):
    open_customer_requested = Signal(int)
    title_changed = Signal(str)

    def __init__(
        self,
        detail: CaseDetail,
        services: Services,
        bridge: DatabaseBridge,
        drafts: DraftStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.case_id = detail.id
        self.customer_id = detail.customer_id
        self.detail = detail
        self._bridge = bridge
        self.controller = CaseController(detail, services, bridge, self.isVisible, parent=self)
        self.controller.refreshed.connect(self.show_detail)
        self.controller.failed.connect(lambda message: self.notice.setText(message))
        self.setAccessibleName(f"Case {detail.reference}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self._build_header())
        layout.addLayout(self._build_actions())
        self.presence_bar = PresenceBar()
        layout.addWidget(self.presence_bar)
        split = QSplitter(Qt.Orientation.Vertical)
        self.timeline_model, self.timeline = make_timeline(detail.timeline)
        split.addWidget(self.timeline)
        bottom = QWidget()
        bottom_layout = QHBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        self.note_box = CaseNoteBox(
            bridge,
            drafts,
            DraftKey.case_note(services.agent.database, detail.id),
            lambda: f"{self.detail.reference} {self.detail.customer_name}",
        )
        self.note_box.save_requested.connect(
            lambda body, internal: bridge.spawn(self._save_note(body, internal))
        )
        bottom_layout.addWidget(self.note_box, 3)
        # Macros: canned replies and note templates of the agent's team, filled in for
        # this case (rendered in a sandbox on the worker), inserted into the note.
        self.macros = MacroPicker(bridge, services, detail.id, self.note_box.editor)
        self.macros.setMaximumWidth(260)
        bottom_layout.addWidget(self.macros, 1)
        times = QWidget()
        times_layout = QVBoxLayout(times)
        times_layout.setContentsMargins(0, 0, 0, 0)
        times_layout.addWidget(plain_label("Time per department", bold=True))
        self.times_model: RowTableModel[DepartmentTime] = RowTableModel(
            [
                Column("Department", lambda d: d.department, stretch=True),
                Column("Waited", lambda d: waited_text(d.waited), align_right=True),
                Column("Spells", lambda d: str(d.intervals), align_right=True),
            ],
            self,
        )
        self.times_table = make_table(self.times_model, "Time per department")  # type: ignore[arg-type]
        times_layout.addWidget(self.times_table)
        bottom_layout.addWidget(times, 2)
        split.addWidget(bottom)
        split.setSizes([400, 160])
        layout.addWidget(split, 1)
        # Heartbeats while the tab is shown; typing in the note says "typing".
        self.presence = PresenceDriver(
            bridge,
            services,
            detail.id,
            detail.customer_id,
            self.presence_bar,
            watched=self,
            editor=self.note_box.editor,
            case_version=lambda: self.detail.version,
        )
        self._services = services
        self.show_detail(detail)
        self.macros.load()

    # -- header ------------------------------------------------------------------------

    def _build_header(self) -> QWidget:
        box = QFrame()
        box.setObjectName("caseHeader")
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        self.reference = plain_label("", bold=True, point_delta=6)
        self.reference.setAccessibleName("Case reference")
        self.copy_button = QPushButton("Cop&y reference")
        self.copy_button.clicked.connect(self.copy_reference)
        self.status = plain_label("", bold=True)
        self.status.setAccessibleName("Case status")
        self.status_button = QPushButton("&Status…")
        self.status_button.setAccessibleName("Change status")
        self.status_menu = QMenu(self.status_button)
        self.status_button.setMenu(self.status_menu)
        self.customer_button = QPushButton("Open c&ustomer")
        self.customer_button.clicked.connect(
            lambda: self.open_customer_requested.emit(self.customer_id)
        )
        self.sla = plain_label("")
        self.sla.setAccessibleName("Service level")
        top = QHBoxLayout()
        for widget in (self.reference, self.copy_button, self.status, self.status_button, self.sla):
            top.addWidget(widget)
        top.addStretch(1)
        top.addWidget(self.customer_button)
        grid.addLayout(top, 0, 0, 1, 4)
        self.priority = plain_label("")
        self.priority.setAccessibleName("Priority")
        self.repeat = plain_label("")
        self.repeat.setAccessibleName("Repeat contact")
        self.about = plain_label("")
        self.about.setWordWrap(True)
        self.notice = plain_label("")
        self.notice.setStyleSheet(f"color: {NOTICE_COLOUR};")
        grid.addWidget(self.priority, 1, 0, 1, 2)
        grid.addWidget(self.repeat, 1, 2, 1, 2)
        grid.addWidget(self.about, 2, 0, 1, 4)
        # Editing: subject and priority, saved with the values they were loaded with.
        self.subject_edit = QLineEdit()
        self.subject_edit.setAccessibleName("Subject")
        self.subject_edit.setMaxLength(200)
        self.priority_edit = QComboBox()
        self.priority_edit.setAccessibleName("Priority")
        for code in ("low", "normal", "high", "urgent"):
            self.priority_edit.addItem(code.capitalize(), code)
        self.save_button = QPushButton("Sa&ve changes")
        self.save_button.clicked.connect(lambda: self._bridge.spawn(self.save_edits()))
        edit_row = QHBoxLayout()
        edit_row.addWidget(self.subject_edit, 1)
        edit_row.addWidget(self.priority_edit)
        edit_row.addWidget(self.save_button)
        grid.addLayout(edit_row, 3, 0, 1, 4)
        grid.addWidget(self.notice, 4, 0, 1, 4)
        self._edit_base: dict[str, Any] = {}
        self._edit_version = 0
        return box

    def _build_actions(self) -> QHBoxLayout:
        """What the agent can do with the case besides notes and status (Alt+letter)."""
        row = QHBoxLayout()
        self.handoff_button = QPushButton("Hand &off…")
        self.handoff_button.setToolTip("Give part of the case to a department, with a due date")
        self.handoff_button.clicked.connect(lambda: self._bridge.spawn(self.hand_off()))
        self.promise_button = QPushButton("Make a &promise…")
        self.promise_button.setToolTip("A call back, visit or delivery the customer is promised")
        self.promise_button.clicked.connect(lambda: self._bridge.spawn(self.make_promise()))
        self.feedback_button = QPushButton("Feedbac&k…")
        self.feedback_button.setToolTip("Record the customer's rating and comment")
        self.feedback_button.clicked.connect(self.record_feedback)
        for button in (self.handoff_button, self.promise_button, self.feedback_button):
            row.addWidget(button)
        row.addStretch(1)
        return row

    async def hand_off(self) -> None:
        from ui.features.work.handoff_dialog import HandoffDialog

        departments = await self._bridge.run(self._services.handoffs.departments)
        dialog = HandoffDialog(
            self._services, self._bridge, self.case_id, departments, _now(), parent=self
        )
        dialog.saved.connect(lambda _task: self._say("Handed off: it is on the timeline."))
        self.dialog = dialog
        dialog.open()

    async def make_promise(self) -> None:
        from ui.features.work.commitment_dialog import CommitmentDialog

        phones = await self._bridge.run(self._services.commitments.phones_of, self.customer_id)
        dialog = CommitmentDialog(
            self._services,
            self._bridge,
            self.customer_id,
            self.case_id,
            phones,
            _now(),
            parent=self,
        )
        dialog.saved.connect(lambda _promise: self._say("Promise recorded: it is tracked."))
        self.dialog = dialog
        dialog.open()

    def record_feedback(self) -> None:
        from ui.features.teamwork.feedback_dialog import FeedbackDialog

        dialog = FeedbackDialog(
            self._bridge, self._services, self.customer_id, self.case_id, parent=self
        )
        self.dialog = dialog
        dialog.open()

    def copy_reference(self) -> None:
        QGuiApplication.clipboard().setText(self.detail.reference)
        self.notice.setText(f"{self.detail.reference} copied.")

    # -- showing -----------------------------------------------------------------------

    def show_detail(self, detail: CaseDetail) -> None:
        retitled = detail.reference != self.detail.reference
        self.detail = detail
        self.reference.setText(detail.reference)
        self.status.setText(detail.status_label)
        colour = PRIORITY_COLOURS.get(detail.priority)
        reason = f" ({detail.priority_reason})" if detail.priority_reason else ""
        self.priority.setText(f"Priority: {detail.priority.capitalize()}{reason}")
        self.priority.setStyleSheet(f"color: {colour}; font-weight: bold;" if colour else "")
        self.sla.setText(f"SLA: {detail.sla_text}" if detail.sla_text else "")
        sla_colour = SLA_COLOURS.get(detail.sla_state or "")
        self.sla.setStyleSheet(f"color: {sla_colour}; font-weight: bold;" if sla_colour else "")
        if detail.repeat_text:
            flagged = detail.repeat_flag
            self.repeat.setText(("Repeat contact: " if flagged else "") + detail.repeat_text)
            self.repeat.setStyleSheet(
                f"color: {REPEAT_COLOUR}; font-weight: bold;" if flagged else ""
            )
        else:
            self.repeat.setText("")
        parts = [
            detail.customer_name,
            detail.category,
            detail.order_text or "",
            detail.contract_text or "",
            f"Assigned to {detail.assignee}" if detail.assignee else "Unassigned",
            detail.department or "",
            f"opened {fmt.day_time(detail.opened_at)}",
        ]
        self.about.setText(" · ".join(p for p in parts if p))
        self._fill_status_menu(detail)
        self._fill_edits(detail)
        self.timeline_model.update_rows(list(detail.timeline))
        self.times_model.update_rows(list(detail.department_times))
        if retitled:
            self.title_changed.emit(detail.reference)

    def _fill_status_menu(self, detail: CaseDetail) -> None:
        self.status_menu.clear()
        for to, words in detail.allowed_steps:
            action = self.status_menu.addAction(words)
            action.setData(to)
            action.triggered.connect(lambda _=False, status=to: self.step(status))
        self.status_button.setEnabled(bool(detail.allowed_steps))

    def _edits_dirty(self) -> bool:
        return bool(self._my_edits())

    def _my_edits(self) -> dict[str, Any]:
        mine = {
            "subject": self.subject_edit.text().strip(),
            "priority": self.priority_edit.currentData(),
        }
        return {k: v for k, v in mine.items() if self._edit_base and v != self._edit_base.get(k)}

    def _fill_edits(self, detail: CaseDetail) -> None:
        if self._edits_dirty():
            return  # the agent is editing: their values and what they started from stay
        base = detail.base()
        self._edit_base = {k: base[k] for k in EDITED_FIELDS}
        self._edit_version = detail.version
        self.subject_edit.setText(detail.subject)
        self.priority_edit.setCurrentIndex(max(self.priority_edit.findData(detail.priority), 0))

    # -- acting ------------------------------------------------------------------------

    def step(self, to: str) -> None:
        """Move to status `to`; closing with open tasks (or resolving) asks why first."""
        needs_reason = to == "closed" and self.detail.open_tasks > 0
        if needs_reason or to == "resolved":
            dialog = QInputDialog(self)
            dialog.setWindowTitle(self.detail.reference)
            dialog.setLabelText(
                f"{self.detail.open_tasks} task(s) are still open. Why close the case anyway?"
                if needs_reason
                else "How was it resolved? (optional)"
            )
            dialog.textValueSelected.connect(
                lambda text: self._bridge.spawn(self._change_status(to, text))
            )
            self.reason_dialog = dialog
            dialog.open()
            return
        self._bridge.spawn(self._change_status(to, None))

    async def _change_status(self, to: str, reason: str | None) -> None:
        try:
            await self.controller.change_status(to, reason or None)
        except UserError as exc:
            self._say(str(exc))

    async def _save_note(self, body: str, internal: bool) -> None:
        try:
            await self.controller.add_note(body, internal)
        except UserError as exc:
            if shiboken6.isValid(self.note_box):
                self.note_box.not_saved(str(exc))
            return
        except Exception as exc:
            log.exception("saving a case note failed")
            if shiboken6.isValid(self.note_box):
                self.note_box.not_saved(str(exc))
            return
        if shiboken6.isValid(self.note_box):
            self.note_box.saved(body)

    async def save_edits(self) -> None:
        from app.services.cases import CaseConflict
        from ui.features.cases.dialogs import ConflictDialog

        mine = self._my_edits()
        if not mine:
            self._say("Nothing changed.")
            return
        base, version = dict(self._edit_base), self._edit_version
        try:
            await self.controller.edit(mine, base, version)
        except CaseConflict as raised:
            conflict = raised  # kept for the dialog's answer (`raised` ends with the block)
            dialog = ConflictDialog(self.detail.reference, conflict.conflicts, parent=self)
            self.conflict_dialog = dialog
            dialog.accepted.connect(
                lambda: self._bridge.spawn(self._resend(dialog.chosen(), conflict))
            )
            dialog.open()
            return
        except UserError as exc:
            self._say(str(exc))
            return
        self._edit_base = {}  # saved: the refresh fills the fields afresh
        self._say("Changes saved.")

    async def _resend(self, chosen: dict[str, Any], conflict: Any) -> None:
        self._edit_base = {}
        if chosen:
            try:
                await self.controller.edit(chosen, conflict.current, conflict.version)
            except UserError as exc:
                self._say(str(exc))
                return
        self._say("Saved with your choices." if chosen else "Kept their changes.")
        await self.controller.refresh()

    def _say(self, message: str) -> None:
        if shiboken6.isValid(self.notice):
            self.notice.setText(message)

    # -- living in a tab ---------------------------------------------------------------

    def apply_changes(self, changes: Changes) -> None:
        self.controller.apply_changes(changes)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.controller.shown()

    def keep_draft_now(self) -> None:
        self.note_box.keep_draft_now()

    def leave(self) -> None:
        """The tab closes: no more heartbeats, my presence and claim go."""
        self.presence.close()
        self.presence.deleteLater()

    def show_note(self) -> None:
        self.note_box.editor.setFocus()


__all__ = ["CasePanel", "waited_text"]
