"""Drafts an earlier run left (a crash, a kill, a close with text unsaved), offered back.

After connecting, the shell lists this database's drafts in `RecoveredDraftsPanel`
(ui/drafts_panel.py). Open puts a note back in its customer's tab and a wrap-up back in
the wrap-up panel; Discard drops the file. The drafts themselves are kept while typing
by the editors (`CustomerPanel`, `WrapUpPanel`) in the one `DraftStore` the shell owns.

Signals:
    message(str, int): a status-bar message and how long to show it (ms).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.drafts import Draft, DraftStore
from ui.bridge import DatabaseBridge
from ui.drafts_panel import RecoveredDraftsPanel
from ui.features.calls.controller import CallsController
from ui.shell.tabs import CustomerTabs


class DraftsRecovery(QObject):
    message = Signal(str, int)

    def __init__(
        self,
        store: DraftStore,
        bridge: DatabaseBridge,
        tabs: CustomerTabs,
        calls: CallsController,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.bridge = bridge
        self.tabs = tabs
        self.calls = calls
        self.panel = RecoveredDraftsPanel()
        self.panel.open_requested.connect(lambda draft: bridge.spawn(self.open(draft)))
        self.panel.discard_requested.connect(self.discard)

    async def offer(self, database: str) -> None:
        """Drafts of this database left by an earlier run."""
        drafts = await self.bridge.run(self.store.drafts, database)  # reads files
        self.panel.show_drafts(drafts)

    async def open(self, draft: Draft) -> None:
        """Put a recovered draft back in its editor: the customer's note or the wrap-up."""
        if draft.key.kind == "wrap_up":
            self.calls.resume_wrap_up(draft)
        elif draft.key.kind == "case_note":
            if not await self.tabs.open_case_draft(int(draft.key.subject)):
                return  # the case is gone: the tabs said so; the draft stays
        elif not await self.tabs.open_note_draft(int(draft.key.subject)):
            return  # the customer is gone: the tabs said so; the draft stays
        self.panel.remove(draft.key)

    def discard(self, draft: Draft) -> None:
        self.store.discard(draft.key)
        self.panel.remove(draft.key)
        self.message.emit(f"Draft discarded: {draft.preview(40)}", 5000)
