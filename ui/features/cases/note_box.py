"""The note being written on a case: internal (colleagues only) or what the customer was
told, chosen before saving and shown in the editor's colour.

What the agent types goes to the draft store as they type (`DraftKey.case_note`, with
the choice in `extra`), so a killed app restores it; a refresh of the case never
touches it, and a failed save keeps it.

Signals:
    save_requested(str, bool): the text and whether it is internal.
"""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.drafts import DraftKey, DraftStore
from ui import actions
from ui.bridge import DatabaseBridge
from ui.widgets import DRAFT_SAVE_MS, plain_label

INTERNAL_EDITOR = "QPlainTextEdit { background: rgba(255, 236, 179, 150); }"


class CaseNoteBox(QWidget):
    save_requested = Signal(str, bool)

    def __init__(
        self,
        bridge: DatabaseBridge,
        drafts: DraftStore | None,
        draft_key: DraftKey,
        draft_label: Callable[[], str],
    ) -> None:
        super().__init__()
        self._bridge = bridge
        self._drafts = drafts
        self._draft_key = draft_key
        self._draft_label = draft_label
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        choice = QHBoxLayout()
        self.internal = QRadioButton("&Internal note (colleagues only)")
        self.customer = QRadioButton("Told the custo&mer")
        self._audience = QButtonGroup(self)
        self._audience.addButton(self.internal)
        self._audience.addButton(self.customer)
        self.internal.setChecked(True)  # the safe default: nothing reads as said to them
        choice.addWidget(self.internal)
        choice.addWidget(self.customer)
        choice.addStretch(1)
        layout.addLayout(choice)
        self.editor = QPlainTextEdit()
        self.editor.setAccessibleName("Case note")
        self.editor.setTabChangesFocus(True)
        self.editor.setMaximumHeight(110)
        layout.addWidget(self.editor)
        row = QHBoxLayout()
        self.status = plain_label("")
        row.addWidget(self.status, 1)
        self.add_button = QPushButton("&Add note")
        self.add_button.setAccessibleName("Add case note")
        self.add_button.clicked.connect(self.submit)
        actions.bind("note.save", self.editor, self.submit)  # Ctrl+Enter, as in a customer
        row.addWidget(self.add_button)
        layout.addLayout(row)
        self.internal.toggled.connect(self._show_audience)
        self._show_audience()
        self._draft_timer = QTimer(self, singleShot=True, interval=DRAFT_SAVE_MS)
        self._draft_timer.timeout.connect(self._keep_draft)
        self.editor.textChanged.connect(self._draft_timer.start)
        self.internal.toggled.connect(self._draft_timer.start)
        if drafts is not None:
            self.editor.setReadOnly(True)  # until the draft file is read (milliseconds)
            bridge.spawn(self._restore_draft(drafts))

    @property
    def is_internal(self) -> bool:
        return self.internal.isChecked()

    def _show_audience(self) -> None:
        internal = self.is_internal
        self.editor.setStyleSheet(INTERNAL_EDITOR if internal else "")
        self.editor.setPlaceholderText(
            "Internal note: only colleagues see it…"
            if internal
            else "What you told the customer (shown as said to them)…"
        )

    # -- the draft ---------------------------------------------------------------------

    async def _restore_draft(self, drafts: DraftStore) -> None:
        try:
            draft = await self._bridge.run(drafts.get, self._draft_key)
        finally:
            if shiboken6.isValid(self.editor):
                self.editor.setReadOnly(False)
        if draft is None or not shiboken6.isValid(self.editor) or self.editor.toPlainText():
            return
        self.editor.setPlainText(draft.text)
        (self.customer if draft.extra.get("audience") == "customer" else self.internal).setChecked(
            True
        )
        self._draft_timer.stop()
        self.status.setText("Unsaved draft restored.")

    def _keep_draft(self) -> None:
        if self._drafts is None or self.editor.isReadOnly():
            return
        text = self.editor.toPlainText()
        audience = "internal" if self.is_internal else "customer"
        extra = {"audience": audience} if text.strip() else {}
        self._drafts.put(self._draft_key, text, label=self._draft_label(), extra=extra)

    def keep_draft_now(self) -> None:
        if self._draft_timer.isActive():
            self._draft_timer.stop()
            self._keep_draft()

    # -- saving ------------------------------------------------------------------------

    def submit(self) -> None:
        body = self.editor.toPlainText()
        if not body.strip():
            self.status.setText("Type the note first.")
            return
        self.add_button.setEnabled(False)
        self.status.setText("Saving…")
        self.save_requested.emit(body, self.is_internal)

    def saved(self, body: str) -> None:
        """The note `body` is on the case: clear it (unless typed on) and drop its draft."""
        self.add_button.setEnabled(True)
        self.status.setText("Note added.")
        if self.editor.toPlainText() == body:
            self.editor.clear()
            self._draft_timer.stop()
            if self._drafts is not None:
                self._drafts.discard(self._draft_key)

    def not_saved(self, message: str) -> None:
        self.add_button.setEnabled(True)
        self.status.setText(f"Not saved, your text is kept: {message}")
