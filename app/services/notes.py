"""Notes on a customer: written by the agent of this connection, saved once.

Who writes is the injected `AgentContext` (app/agent.py): its staff id is the
note's author and its login the audit actor; nobody passes an author per call.
"""

from __future__ import annotations

from app.agent import AgentContext
from app.clock import Clock, system_clock
from app.errors import KeyReusedError, UserError
from app.services import views as v
from app.validation import NOTE_MAX_CHARS, check_client_key, check_text
from models.authority import AuditEntry
from models.database import Database, insert_or_get
from models.people import Customer, CustomerNote, User


class NoteService:
    def __init__(self, db: Database, clock: Clock = system_clock, *, agent: AgentContext) -> None:
        self._db = db
        self.clock = clock
        self.agent = agent

    def add_note(self, customer_id: int, body: str, client_key: str | None = None) -> v.NoteRow:
        """Save a note; with `client_key` a retry never saves it twice.

        The UI makes the key when the agent starts the note and sends it again when
        it retries (e.g. after a lost connection whose commit went through): the
        note saved the first time is returned. The same key with other text is
        refused with `KeyReusedError` rather than saved as a second note.
        """
        text = check_text(body, "note", NOTE_MAX_CHARS, multiline=True, required=True)
        key = check_client_key(client_key)
        with self._db.write() as session:
            if session.get(Customer, customer_id) is None:
                raise UserError(f"customer {customer_id} does not exist")
            note_id, new = insert_or_get(
                session,
                CustomerNote,
                {
                    "customer_id": customer_id,
                    "author_id": self.agent.user_id,
                    "body": text,
                    "client_key": key,
                    "created_at": self.clock(),
                    "pinned": False,
                    "version": 1,
                },
                ("client_key",),
            )
            note = session.get(CustomerNote, note_id)
            assert note is not None  # just inserted or found under its key
            if not new and (note.customer_id, note.body) != (customer_id, text):
                raise KeyReusedError(
                    "note: already saved with different text before the connection dropped; "
                    "save again to add this text as a new note"
                )
            if new:
                session.add(
                    AuditEntry(
                        actor=self.agent.actor,
                        action="note.add",
                        entity="customer",
                        entity_id=customer_id,
                        detail={"note_id": note.id},
                    )
                )
            saved_by = session.get(User, note.author_id) if note.author_id else None
            return v.NoteRow(
                id=note.id,
                body=note.body,
                author=saved_by.display_name if saved_by else None,
                created_at=note.created_at,
            )
