"""The tabs on the right: open customers and cases, the call log, and the start page when
empty.

Opening focuses a customer already open rather than loading them twice; closing keeps
the note's draft and remembers the customer for Ctrl+Shift+T; the call log closes by
hiding (Ctrl+L brings it back as it was). Every `Changes` record the bridge publishes
(our writes, and later other agents' through the change feed) goes to each open tab's
`apply_changes`, and each refreshes only when the change is about what it shows: a
wrap-up refreshes its caller's tab and the call log, not every open customer.

Signals:
    customer_shown(int): a customer tab was filled and shown.
    message(str, int): a status-bar message and how long to show it (ms).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QTabWidget, QWidget

from app.changes import Changes
from app.drafts import DraftStore
from app.errors import UserError
from app.services.views import CustomerView
from ui.bridge import DatabaseBridge
from ui.features.call_log.view import CallLogView
from ui.features.cases.view import CasePanel
from ui.features.customer.panel import CustomerPanel
from ui.icons import icon
from ui.widgets import plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services
    from app.services.case_view import CaseDetail
    from ui.features.cases.dialogs import NewCaseDialog
    from ui.features.customer.contact_dialog import ContactDialog

log = logging.getLogger(__name__)
RECENTLY_CLOSED = 10
CASES_SECTION = 2  # CustomerPanel.sections: Overview, Orders, Cases, ...


class CustomerTabs(QTabWidget):
    customer_shown = Signal(int)
    message = Signal(str, int)

    def __init__(self, bridge: DatabaseBridge, drafts: DraftStore) -> None:
        super().__init__()
        self.bridge = bridge
        self.drafts = drafts
        self.services: Services | None = None  # set by the shell while connected
        self.closed: list[int] = []  # recently closed customers, for Ctrl+Shift+T
        self.new_customer_dialog: ContactDialog | None = None
        self.new_case_dialog: NewCaseDialog | None = None
        self._pages: list[QWidget] = []  # tabs that close by hiding (the call log)
        self.setAccessibleName("Open customers")
        self.setTabsClosable(True)
        self.setMovable(True)
        self.tabCloseRequested.connect(self.close_tab)
        self.placeholder = plain_label(
            "Find a customer: Ctrl+K, then a phone number, e-mail, order number, "
            "case reference or name."
        )
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.addTab(self.placeholder, "Start")
        bridge.changed.connect(self.apply_changes)

    def panels(self) -> list[CustomerPanel]:
        return [w for w in map(self.widget, range(self.count())) if isinstance(w, CustomerPanel)]

    def panel_of(self, customer_id: int) -> CustomerPanel | None:
        return next((p for p in self.panels() if p.customer_id == customer_id), None)

    def apply_changes(self, changes: Changes) -> None:
        """Hand a change record to every open tab and to the pages closed by hiding (the
        call log marks itself stale); each refreshes only what it shows."""
        shown = [self.widget(i) for i in range(self.count())]
        for page in shown + [p for p in self._pages if p not in shown]:
            if isinstance(page, CustomerPanel | CallLogView | CasePanel):
                page.apply_changes(changes)

    # -- customers ---------------------------------------------------------------------

    def open_customer(self, customer_id: int) -> None:
        panel = self.panel_of(customer_id)
        if panel is not None:
            self.setCurrentWidget(panel)
            return
        self.bridge.spawn(self.load_customer(customer_id))

    async def load_customer(self, customer_id: int) -> CustomerPanel | None:
        if self.services is None:
            return None
        try:
            data = await self.bridge.run(self.services.customers.load_customer, customer_id)
        except UserError as exc:
            self.message.emit(str(exc), 8000)
            return None
        except Exception as exc:
            log.exception("loading customer %s failed", customer_id)
            self.message.emit(f"Could not open the customer: {exc}", 8000)
            return None
        if data.merged_from is not None:
            self.message.emit(
                f"Customer {data.merged_from} was merged into {data.header.name}", 8000
            )
        return self.show_customer(data)

    def show_customer(self, data: CustomerView) -> CustomerPanel:
        """Open a tab for a loaded customer, or focus the one already open."""
        existing = self.panel_of(data.header.id)  # opened twice quickly: keep one
        if existing is not None:
            self.setCurrentWidget(existing)
            return existing
        panel = self.make_panel(data)
        self._add(panel, icon("customer"), data.header.name, f"{data.header.name} (Ctrl+W closes)")
        self.customer_shown.emit(data.header.id)
        return panel

    def show_popped(self, data: CustomerView, case_id: int | None) -> None:
        """A ringing caller: shown and painted before the agent answers (that is the point),
        then their recent case in front."""
        panel = self.show_customer(data)
        panel.repaint()
        if case_id is not None:
            panel.sections.setCurrentIndex(CASES_SECTION)

    def make_panel(self, data: CustomerView) -> CustomerPanel:
        assert self.services is not None
        panel = CustomerPanel(data, self.services, self.bridge, drafts=self.drafts)
        panel.open_customer_requested.connect(self.open_customer)
        panel.open_case_requested.connect(self.open_case)
        panel.new_case_requested.connect(self.new_case)
        panel.title_changed.connect(lambda name: self.setTabText(self.indexOf(panel), name))
        panel.show_requested.connect(lambda: self.setCurrentWidget(panel))
        panel.merged.connect(lambda survivor: self.bridge.spawn(self._give_way(panel, survivor)))
        return panel

    async def _give_way(self, panel: CustomerPanel, survivor_id: int) -> None:
        """A customer open here was merged into `survivor_id`: their tab closes and the
        survivor's is shown instead, in front only if the merged one was, so another tab
        the agent is working in stays put. A note being written moves with them."""
        index = self.indexOf(panel)
        if index < 0:
            return
        in_front = self.currentWidget() is panel
        before = self.currentWidget()
        name, merged_id = panel.data.header.name, panel.customer_id
        self.close_tab(index)  # its note draft is written first, as on any close
        await self._carry_note(merged_id, survivor_id, name)
        survivor = self.panel_of(survivor_id) or await self.load_customer(survivor_id)
        if survivor is None:
            return
        if in_front:
            self.setCurrentWidget(survivor)
        elif before is not None and self.indexOf(before) >= 0:
            self.setCurrentWidget(before)
        self.message.emit(f"{name} was merged into {survivor.data.header.name}", 8000)

    async def _carry_note(self, merged_id: int, survivor_id: int, name: str) -> None:
        """The merged customer's unsaved note, added to the survivor's: into their open
        Notes, else into their draft (read on a worker), then the old draft is gone."""
        if self.services is None:
            return
        agent = self.services.agent
        old_key, new_key = agent.note_draft(merged_id), agent.note_draft(survivor_id)
        typed = await self.bridge.run(self.drafts.text, old_key)
        if not typed.strip():
            return
        survivor = self.panel_of(survivor_id)
        if survivor is None or not survivor.add_to_note(typed):
            theirs = await self.bridge.run(self.drafts.text, new_key)
            both = f"{theirs}\n\n{typed}" if theirs.strip() else typed
            self.drafts.put(new_key, both, label=name)
        self.drafts.discard(old_key)

    async def open_note_draft(self, customer_id: int) -> bool:
        """The customer's tab with its Notes in front (a recovered note draft); False if
        the customer is gone (load_customer said so)."""
        panel = self.panel_of(customer_id) or await self.load_customer(customer_id)
        if panel is None:
            return False
        self.setCurrentWidget(panel)
        panel.show_notes()
        return True

    def new_customer(
        self, typed: str, name: str | None = None, *, staged: bool = False
    ) -> ContactDialog | None:
        """Quick-create, prefilled with what was searched (or a caller's number and the
        name their source sent); nothing is saved until Save, which opens the customer.
        `staged`: an unknown caller's record, held until identified (S8)."""
        if self.services is None:
            return None
        from ui.features.customer.contact_dialog import ContactDialog, prefilled

        dialog = ContactDialog(
            prefilled(typed, name=name, staged=staged),
            self.services,
            self.bridge,
            parent=self.window(),
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda saved: self.open_customer(saved.customer_id))
        dialog.open_existing.connect(self.open_customer)
        self.new_customer_dialog = dialog
        dialog.open()
        return dialog

    # -- cases -------------------------------------------------------------------------

    def case_panels(self) -> list[CasePanel]:
        return [w for w in map(self.widget, range(self.count())) if isinstance(w, CasePanel)]

    def case_panel_of(self, case_id: int) -> CasePanel | None:
        return next((p for p in self.case_panels() if p.case_id == case_id), None)

    def open_case(self, case_id: int) -> None:
        """The case in a tab of its own (focused if it is open already)."""
        panel = self.case_panel_of(case_id)
        if panel is not None:
            self.setCurrentWidget(panel)
            return
        self.bridge.spawn(self.load_case(case_id))

    async def load_case(self, case_id: int) -> CasePanel | None:
        if self.services is None:
            return None
        try:
            detail = await self.bridge.run(self.services.cases.load, case_id)
        except UserError as exc:
            self.message.emit(str(exc), 8000)
            return None
        except Exception as exc:
            log.exception("loading case %s failed", case_id)
            self.message.emit(f"Could not open the case: {exc}", 8000)
            return None
        return self.show_case(detail)

    def show_case(self, detail: CaseDetail) -> CasePanel:
        existing = self.case_panel_of(detail.id)
        if existing is not None:
            self.setCurrentWidget(existing)
            return existing
        assert self.services is not None
        panel = CasePanel(detail, self.services, self.bridge, drafts=self.drafts)
        panel.open_customer_requested.connect(self.open_customer)
        panel.title_changed.connect(lambda title: self.setTabText(self.indexOf(panel), title))
        self._add(panel, icon("cases"), detail.reference, f"{detail.subject} (Ctrl+W closes)")
        return panel

    async def open_case_draft(self, case_id: int) -> bool:
        """The case's tab with the cursor in its note (a recovered draft); False if gone."""
        panel = self.case_panel_of(case_id) or await self.load_case(case_id)
        if panel is None:
            return False
        self.setCurrentWidget(panel)
        panel.show_note()
        return True

    def new_case(
        self,
        customer_id: int,
        order_line: tuple[int, int] | None = None,
        from_call: tuple[int, str] | None = None,
    ) -> None:
        """The New case dialog for the customer, about `order_line` (order id, line number)
        or opened from a call's wrap-up (`from_call`: the call, its summary), if given;
        Open case saves it (the call joins it) and opens its tab."""
        self.bridge.spawn(self._new_case(customer_id, order_line, from_call))

    async def _new_case(
        self,
        customer_id: int,
        order_line: tuple[int, int] | None,
        from_call: tuple[int, str] | None = None,
    ) -> None:
        if self.services is None:
            return
        from app.operations.cases import open_case
        from ui.features.cases.dialogs import NewCaseDialog

        services = self.services
        lines = await self.bridge.run(services.cases.order_lines_for, customer_id)
        line_id = next(
            (c.line_id for c in lines if order_line and (c.order_id, c.line_no) == order_line),
            None,
        )
        customer = self.panel_of(customer_id)
        name = customer.data.header.name if customer else f"customer {customer_id}"
        dialog = NewCaseDialog(name, lines, line_id, parent=self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if from_call is not None:
            dialog.description.setPlainText(from_call[1])

        async def create(values: dict[str, Any]) -> None:
            try:
                case_id, reference = await self.bridge.perform(
                    open_case, services, customer_id, **values
                )
            except UserError as exc:
                self.message.emit(str(exc), 8000)
                return
            self.message.emit(f"Case {reference} opened.", 5000)
            await self.load_case(case_id)

        def values() -> dict[str, Any]:
            # Read now: the dialog deletes itself once closed.
            chosen = dialog.values()
            if from_call is not None:
                chosen["interaction_id"] = from_call[0]
            return chosen

        dialog.accepted.connect(lambda: self.bridge.spawn(create(values())))
        self.new_case_dialog = dialog
        dialog.open()

    # -- other pages, closing, moving ---------------------------------------------------

    def show_page(self, page: QWidget, name: str, title: str, tip: str) -> None:
        """Bring a page that closes by hiding (the call log) to the front."""
        if page not in self._pages:
            self._pages.append(page)
        if self.indexOf(page) < 0:
            self._add(page, icon(name), title, tip)
        self.setCurrentWidget(page)

    def forget_page(self, page: QWidget) -> None:
        if page in self._pages:
            self.close_tab(self.indexOf(page))
            self._pages.remove(page)

    def _add(self, page: QWidget, tab_icon: QIcon, title: str, tip: str) -> None:
        placeholder = self.indexOf(self.placeholder)
        if placeholder >= 0:
            self.removeTab(placeholder)
        index = self.addTab(page, tab_icon, title)
        self.setTabToolTip(index, tip)
        self.setCurrentIndex(index)

    def close_tab(self, index: int) -> None:
        panel = self.widget(index)
        if panel is not None and panel in self._pages:
            self.removeTab(index)  # kept, to come back as it was
        elif isinstance(panel, CustomerPanel):
            panel.keep_draft_now()
            panel.close_authority()
            self.closed.append(panel.customer_id)
            del self.closed[:-RECENTLY_CLOSED]
            self.removeTab(index)
            panel.deleteLater()
        elif isinstance(panel, CasePanel):
            panel.keep_draft_now()
            panel.leave()
            self.removeTab(index)
            panel.deleteLater()
        else:
            return
        if self.count() == 0:
            self.addTab(self.placeholder, "Start")

    def close_all(self) -> None:
        """Switching databases: every tab belongs to the old one."""
        for index in reversed(range(self.count())):
            self.close_tab(index)
        self.closed.clear()  # ids of the old database

    def reopen_closed(self) -> None:
        if self.closed:
            self.open_customer(self.closed.pop())

    def cycle(self, step: int) -> None:
        if self.count() > 1:
            self.setCurrentIndex((self.currentIndex() + step) % self.count())

    def keep_drafts_now(self) -> None:
        for panel in self.panels():
            panel.keep_draft_now()
        for case in self.case_panels():
            case.keep_draft_now()
