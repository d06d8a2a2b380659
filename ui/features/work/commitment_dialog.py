"""Make a promise: what, by when (a window), and how the customer is to be contacted.

Runs `app.operations.work.make_commitment`. A contact against the customer's
preferences comes back as a `PreferenceWarning`: the dialog shows its sentences and
offers the allowed choice with one click ("Use the work (415) 555-0199, Wed 02 Dec
18:00-00:00") or "Promise anyway". The case tab offers it as "Make a promise".

Signals:
    saved(object): the CommitmentView made.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.contact_rules import Suggestion
from app.errors import UserError
from models.enums import Channel, CommitmentKind
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.features.work.handoff_dialog import date_time_edit, qt_local, to_utc
from ui.widgets import plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services

CHANNELS = (None, Channel.PHONE, Channel.SMS, Channel.EMAIL)


class CommitmentDialog(QDialog):
    saved = Signal(object)

    def __init__(
        self,
        services: Services,
        bridge: DatabaseBridge,
        customer_id: int,
        case_id: int | None,
        phones: list[tuple[int, str]],
        now: dt.datetime,
        parent: QWidget | None = None,
    ) -> None:
        """`phones`: the customer's numbers as (phone id, "mobile (415) 555-0100")."""
        super().__init__(parent)
        self.services = services
        self.bridge = bridge
        self.customer_id = customer_id
        self.case_id = case_id
        self.suggestion: Suggestion | None = None
        self.setWindowTitle("Make a promise")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.kind = QComboBox()
        for kind in CommitmentKind:
            self.kind.addItem(fmt.label(kind.value), kind)
        form.addRow("&Kind", self.kind)
        self.description = QLineEdit()
        self.description.setMaxLength(300)
        form.addRow("&Promise", self.description)
        self.due_from = date_time_edit(now + dt.timedelta(hours=1))
        form.addRow("&From", self.due_from)
        self.due_until = date_time_edit(now + dt.timedelta(hours=3))
        form.addRow("&Until", self.due_until)
        self.channel = QComboBox()
        for channel in CHANNELS:
            self.channel.addItem("no contact" if channel is None else channel.value, channel)
        form.addRow("&Contact by", self.channel)
        self.phone = QComboBox()
        self.phone.addItem("any number", None)
        for phone_id, label in phones:
            self.phone.addItem(label, phone_id)
        form.addRow("&Number", self.phone)
        layout.addLayout(form)
        self.warning = plain_label("")
        self.warning.setStyleSheet("color: #c62828;")
        self.warning.setWordWrap(True)
        layout.addWidget(self.warning)
        self.use_allowed = QPushButton("")
        self.use_allowed.setVisible(False)
        self.use_allowed.clicked.connect(lambda: self.bridge.spawn(self.take_suggestion()))
        layout.addWidget(self.use_allowed)
        self.anyway = QPushButton("Promise &anyway")
        self.anyway.setVisible(False)
        self.anyway.clicked.connect(lambda: self.bridge.spawn(self.save(accept_warning=True)))
        layout.addWidget(self.anyway)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(lambda: self.bridge.spawn(self.save()))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    async def take_suggestion(self) -> Any:
        """Apply the allowed route and window offered, and save."""
        suggestion = self.suggestion
        if suggestion is None:
            return None
        self.channel.setCurrentIndex(max(0, self.channel.findData(suggestion.route.channel)))
        self.phone.setCurrentIndex(max(0, self.phone.findData(suggestion.route.phone_id)))
        if suggestion.window is not None:  # local wall-clock times of the agent's zone
            self.due_from.setDateTime(qt_local(suggestion.window.start))
            end = min(suggestion.window.end, suggestion.window.start + dt.timedelta(hours=2))
            self.due_until.setDateTime(qt_local(end))
        return await self.save()

    async def save(self, accept_warning: bool = False) -> Any:
        from app.operations import work as work_ops
        from app.services.commitments import PreferenceWarning

        try:
            made = await self.bridge.perform(
                work_ops.make_commitment,
                self.services,
                self.customer_id,
                self.case_id,
                self.kind.currentData(),
                self.description.text(),
                to_utc(self.due_from),
                to_utc(self.due_until),
                contact_channel=self.channel.currentData(),
                contact_phone_id=self.phone.currentData(),
                accept_warning=accept_warning,
            )
        except PreferenceWarning as warning:
            self.show_warning(warning.violations, warning.suggestion)
            return None
        except UserError as exc:
            self.warning.setText(str(exc))
            return None
        self.saved.emit(made)
        self.accept()
        return made

    def show_warning(self, violations: tuple[str, ...], suggestion: Suggestion | None) -> None:
        self.suggestion = suggestion
        self.warning.setText("\n".join(violations))
        self.use_allowed.setVisible(suggestion is not None)
        if suggestion is not None:
            self.use_allowed.setText(suggestion.describe())
            self.use_allowed.setFocus()
        self.anyway.setVisible(True)
