"""The list of drafts recovered at start: "2 unsaved notes recovered", each with Open
and Discard. Non-modal: it sits above the work and the agent may ignore it.

Signals:
    open_requested(object): the agent wants this `Draft` back in its editor.
    discard_requested(object): the agent threw this `Draft` away.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from app.drafts import Draft, DraftKey
from ui import formatting as fmt
from ui.widgets import plain_label


def recovered_title(drafts: list[Draft]) -> str:
    notes = sum(d.key.kind == "note" for d in drafts)
    wrap_ups = len(drafts) - notes
    parts = []
    if notes:
        parts.append(f"{fmt.plural(notes, 'unsaved note')}")
    if wrap_ups:
        parts.append(f"{fmt.plural(wrap_ups, 'unsaved call wrap-up')}")
    return " and ".join(parts) + " recovered"


def draft_title(draft: Draft) -> str:
    if draft.key.kind == "wrap_up":
        return f"Wrap-up of the {draft.label or 'call'}"
    return f"Note for {draft.label or f'customer {draft.key.subject}'}"


class RecoveredDraftsPanel(QFrame):
    open_requested = Signal(object)
    discard_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recoveredDrafts")
        self.setAccessibleName("Recovered drafts")
        self.setStyleSheet(
            "QFrame#recoveredDrafts { background: #fff8e1; border-bottom: 1px solid #ffe082; }"
        )
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(10, 6, 10, 6)
        self._layout.setSpacing(2)
        header = QHBoxLayout()
        self.title = plain_label("", bold=True)
        header.addWidget(self.title, 1)
        self.hide_button = QPushButton("Hide")
        self.hide_button.setToolTip("Hide this list; the drafts stay until opened or discarded")
        self.hide_button.setFlat(True)
        self.hide_button.clicked.connect(self.hide)
        header.addWidget(self.hide_button)
        self._layout.addLayout(header)
        self.rows: dict[DraftKey, QWidget] = {}
        self.drafts: dict[DraftKey, Draft] = {}
        self.hide()

    def show_drafts(self, drafts: list[Draft]) -> None:
        self.clear()
        for draft in drafts:
            self._add_row(draft)
        self._update()

    def clear(self) -> None:
        for key in list(self.rows):
            self.remove(key)

    def remove(self, key: DraftKey) -> None:
        row = self.rows.pop(key, None)
        self.drafts.pop(key, None)
        if row is not None:
            row.deleteLater()
            self._update()

    def _add_row(self, draft: Draft) -> None:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(plain_label(draft_title(draft), bold=True))
        preview = plain_label(f"“{draft.preview()}”")
        preview.setAccessibleName("Draft preview")
        layout.addWidget(preview, 1)
        open_button = QPushButton("Open")
        open_button.setAccessibleName(f"Open {draft_title(draft)}")
        open_button.clicked.connect(lambda: self.open_requested.emit(draft))
        discard = QPushButton("Discard")
        discard.setAccessibleName(f"Discard {draft_title(draft)}")
        discard.clicked.connect(lambda: self.discard_requested.emit(draft))
        layout.addWidget(open_button)
        layout.addWidget(discard)
        self._layout.addWidget(row)
        self.rows[draft.key] = row
        self.drafts[draft.key] = draft

    def _update(self) -> None:
        if not self.rows:
            self.hide()
            return
        self.title.setText(recovered_title(list(self.drafts.values())))
        self.show()
