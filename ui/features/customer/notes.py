"""The Notes section: the customer's notes and the one being written.

What the agent types is precious: it goes to the draft store while they type (restored
when the tab opens again, even after a crash), it stays in the editor when a save fails,
and a refresh of the list (another agent's note, app/changes.py) never touches it. A
note carries a key made when the typing starts and sent again on every retry, so a save
whose reply was lost is not saved twice (`add_note` in app/operations/customers.py).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.drafts import DraftKey, DraftStore
from app.errors import KeyReusedError, UserError
from app.services import views as v
from models.limits import NOTE_LENGTH
from ui import actions
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.features.customer.common import by_id, refill
from ui.icons import icon
from ui.table_model import Column, RowTableModel
from ui.widgets import DRAFT_SAVE_MS, make_table, plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services  # the core loads after the first paint

log = logging.getLogger(__name__)


class NotesSection(QWidget):
    def __init__(
        self,
        data: v.CustomerView,
        services: Services,
        bridge: DatabaseBridge,
        drafts: DraftStore | None,
        draft_label: Callable[[], str],
    ) -> None:
        super().__init__()
        self.customer_id = data.header.id
        self._services = services
        self._bridge = bridge
        self._drafts = drafts
        self._draft_label = draft_label  # the customer's name as it is now
        # The note's idempotency key: made when the agent starts typing, sent again on
        # every retry, dropped once the note is saved.
        self._client_key: str | None = None
        self._saving = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        self.model: RowTableModel[v.NoteRow] = RowTableModel(
            [
                Column("Written", lambda n: fmt.day_time(n.created_at)),
                Column("By", lambda n: n.author or ""),
                Column(
                    "Note",
                    lambda n: n.body.replace("\n", " "),
                    tooltip=lambda n: n.body,
                    stretch=True,
                ),
            ],
            self,
        )
        self.model.set_rows(list(data.notes))
        self.table = make_table(self.model, "Notes")
        layout.addWidget(self.table, 1)
        self.editor = QPlainTextEdit()
        self.editor.setAccessibleName("New note")
        self.editor.setPlaceholderText("Write a note about this customer…")
        self.editor.setMaximumHeight(90)
        layout.addWidget(self.editor)
        row = QHBoxLayout()
        self.status = plain_label("")
        row.addWidget(self.status, 1)
        self.length = plain_label("")
        self.length.setAccessibleName("Note length")
        row.addWidget(self.length)
        self.add_button = QPushButton(icon("add"), "Add note")
        self.add_button.setToolTip(actions.tooltip("note.save"))
        self.add_button.setAccessibleName("Add note")
        self.add_button.clicked.connect(self.submit)
        row.addWidget(self.add_button)
        layout.addLayout(row)
        actions.bind("note.save", self.editor, self.submit)
        self._draft_timer = QTimer(self, singleShot=True, interval=DRAFT_SAVE_MS)
        self._draft_timer.timeout.connect(self._keep_draft)
        self.editor.textChanged.connect(self._draft_timer.start)
        self.editor.textChanged.connect(self._show_length)
        self.editor.textChanged.connect(self._started)
        self._show_length()
        if drafts is not None:
            # The draft file is read on a worker; the editor waits for it (milliseconds).
            self.editor.setReadOnly(True)
            bridge.spawn(self._restore_draft(drafts))

    @property
    def client_key(self) -> str | None:
        """The key the note being written is saved under (None before typing starts)."""
        return self._client_key

    def refresh_from(self, data: v.CustomerView) -> None:
        """The list anew; the note being written, its key and its draft stay as they are."""
        refill(self.table, self.model, data.notes, by_id)

    # -- the draft -------------------------------------------------------------------

    @property
    def _draft_key(self) -> DraftKey:
        return self._services.agent.note_draft(self.customer_id)

    async def _restore_draft(self, drafts: DraftStore) -> None:
        try:
            draft = await self._bridge.run(drafts.get, self._draft_key)
        finally:
            if shiboken6.isValid(self.editor):
                self.editor.setReadOnly(False)
        if draft is None or not shiboken6.isValid(self.editor):
            return
        if not self.editor.toPlainText():
            self.editor.setPlainText(draft.text)
            self._draft_timer.stop()  # it is the draft already
            self.status.setText("Unsaved draft restored.")

    def _keep_draft(self) -> None:
        if self._drafts is not None and not self.editor.isReadOnly():
            self._drafts.put(self._draft_key, self.editor.toPlainText(), label=self._draft_label())

    def keep_draft_now(self) -> None:
        """Write the draft typed in the last moments (before a tab closes or the app quits)."""
        if self._draft_timer.isActive():
            self._draft_timer.stop()
            self._keep_draft()

    # -- length ------------------------------------------------------------------------

    def length_problem(self) -> str | None:
        """Why the note cannot be saved as it stands, or None."""
        length = self._length()
        if length > NOTE_LENGTH:
            return (
                f"The note is {fmt.plural(length - NOTE_LENGTH, 'character')} over the "
                f"{NOTE_LENGTH:,} limit: shorten it to add it (your text is kept as a draft)."
            )
        return None

    def _length(self) -> int:
        # characterCount is cheap (no copy of a 10 MB paste per keystroke) and counts
        # UTF-16 units, never fewer than the characters the service counts; the exact
        # count (stripped, as the service does) is taken only when it can matter.
        units = self.editor.document().characterCount() - 1
        if units > 2 * NOTE_LENGTH:
            return units
        return len(self.editor.toPlainText().strip())

    def _show_length(self) -> None:
        length = self._length()
        over = length > NOTE_LENGTH
        self.length.setText(f"{length:,} / {NOTE_LENGTH:,}")
        self.length.setStyleSheet("color: #c62828; font-weight: bold;" if over else "")
        self.add_button.setEnabled(not over and not self._saving)
        problem = self.length_problem()
        if problem is not None:
            self.status.setText(problem)
        elif self.status.text().startswith("The note is"):
            self.status.setText("")

    # -- saving ------------------------------------------------------------------------

    def _started(self) -> None:
        if self._client_key is None and self.editor.toPlainText().strip():
            self._client_key = str(uuid.uuid4())

    def submit(self) -> None:
        body = self.editor.toPlainText()
        if not body.strip():
            self.status.setText("Type the note first.")
            return
        problem = self.length_problem()
        if problem is not None:
            self.status.setText(problem)
            return
        self._bridge.spawn(self._save(body))

    async def _save(self, body: str) -> None:
        from app.operations.customers import add_note  # the core loads after the first paint

        self.add_button.setEnabled(False)
        self._saving = True
        self.status.setText("Saving…")
        self._started()
        try:
            note = await self._bridge.perform(
                add_note, self._services, self.customer_id, body, self._client_key
            )
        except KeyReusedError as exc:  # the first try was saved; this text is another note
            self._client_key = str(uuid.uuid4())
            self.status.setText(str(exc))
            return
        except UserError as exc:
            self.status.setText(str(exc))
            return
        except Exception as exc:  # keep the typed text; say what happened
            log.exception("saving a note failed")
            self.status.setText(f"Not saved, your text is kept: {exc}")
            return
        finally:
            self._saving = False
            if shiboken6.isValid(self.add_button):
                self.add_button.setEnabled(self.length_problem() is None)
        if not shiboken6.isValid(self.editor):
            return  # the tab closed while saving: the draft it kept stays, to be safe
        self._client_key = None
        if self.editor.toPlainText() == body:
            self.editor.clear()
            self._draft_timer.stop()
            if self._drafts is not None:
                self._drafts.discard(self._draft_key)
        else:  # typed on while it saved: what remains is a new note
            self._started()
        # Shown at once; the refresh its Changes bring lists it in the same place.
        if all(row.id != note.id for row in self.model.rows):
            self.model.set_rows([note, *self.model.rows])
        self.status.setText("Note saved.")


__all__ = ["NotesSection"]
