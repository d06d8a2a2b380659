"""The customer tab: a header clear at a glance and the record in sections.

All user data is shown as plain text (never interpreted as HTML). Each section lives in
a module of its own (overview, orders, cases, timeline, household, notes; Concessions and
Suggested come from ui/features/authority and ui/features/suggestions) and is built
when first shown, or one per event-loop turn after the first paint, so a screen pop
paints in tens of milliseconds.

Changes: the shell calls `apply_changes` with every `Changes` record (made here or by
another agent). The tab re-queries only when the record touches this customer (or a
relative's name), and then updates in place only the parts that show what changed
(controller.py): the sections are not rebuilt, the section shown, the selected rows and
the note being written stay as they are.

Signals:
    open_customer_requested(int): the agent asked to open a related customer.
    open_case_requested(int): the agent asked to open this case in a tab.
    show_requested(): bring this tab forward (an override's answer arrived while the
        agent looked at another tab, and they clicked its note).
    new_case_requested(int, object): a new case for this customer, about an order line
        given as (order id, line number) or None.
    title_changed(str): the customer's name changed (the tab's title).
    merged(int): the customer was merged into another, whose id this is (by this agent
        or another); the tab gives way to the survivor's (ui/shell/tabs.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, TypeVar, cast

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes
from app.drafts import DraftStore
from app.errors import UserError
from app.services import views as v
from ui import actions
from ui.bridge import DatabaseBridge
from ui.features.customer.cases import CasesSection
from ui.features.customer.common import SectionPage
from ui.features.customer.controller import CustomerController, Part
from ui.features.customer.header import CustomerHeaderView
from ui.features.customer.household import HouseholdSection
from ui.features.customer.notes import NotesSection
from ui.features.customer.orders import OrdersSection
from ui.features.customer.overview import OverviewSection
from ui.features.customer.timeline import TimelineSection
from ui.icons import icon
from ui.table_model import RowTableModel

if TYPE_CHECKING:
    from app.bootstrap import Services  # the core loads after the first paint
    from ui.features.authority.desk import AuthorityDesk  # loaded after the first paint
    from ui.features.suggestions.desk import SuggestionsDesk  # loaded after the first paint

log = logging.getLogger(__name__)
# Alt+1 ... Alt+8, in the order of the section tabs.
SECTION_ACTIONS = tuple(a.id for a in actions.ACTIONS if a.id.startswith("customer.section."))
# The section tabs in order: their part (controller.py), icon and title.
SECTIONS = (
    (Part.OVERVIEW, "overview", "&Overview"),
    (Part.ORDERS, "orders", "O&rders"),
    (Part.CASES, "cases", "&Cases"),
    (Part.TIMELINE, "timeline", "&Timeline"),
    (Part.HOUSEHOLD, "household", "&Household"),
    (Part.NOTES, "notes", "&Notes"),
    (Part.CONCESSIONS, "concessions", "Concession&s"),
    (Part.SUGGESTIONS, "suggested", "S&uggested"),
)
PART_INDEX = {part: index for index, (part, _icon, _title) in enumerate(SECTIONS)}
NOTES_INDEX = PART_INDEX[Part.NOTES]
CONCESSIONS_INDEX = PART_INDEX[Part.CONCESSIONS]
SUGGESTED_INDEX = PART_INDEX[Part.SUGGESTIONS]
S = TypeVar("S", bound=QWidget)


class CustomerPanel(QWidget):
    open_customer_requested = Signal(int)
    open_case_requested = Signal(int)
    new_case_requested = Signal(int, object)
    title_changed = Signal(str)
    show_requested = Signal()
    merged = Signal(int)

    def __init__(
        self,
        data: v.CustomerView,
        services: Services,
        bridge: DatabaseBridge,
        drafts: DraftStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.data = data
        self.customer_id = data.header.id
        self._services = services
        self._bridge = bridge
        self._drafts = drafts
        self.setAccessibleName(f"Customer {data.header.name}")
        self.controller = CustomerController(
            self.customer_id,
            services.customers,
            bridge,
            is_shown=self.isVisible,
            relatives=self._relatives,
            parent=self,
        )
        self.controller.refreshed.connect(self._refreshed)
        self.controller.failed.connect(self._refresh_failed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        self.header = CustomerHeaderView(data.header, data.today)
        self.header.edit_requested.connect(self.edit_contact)
        actions.bind("customer.edit_contact", self, self.edit_contact)
        if data.header.status == "staged":  # an unknown caller's quick record
            self.identify_button = QPushButton("This caller is…")
            self.identify_button.setToolTip("The caller is a customer on file: merge into them")
            self.identify_button.clicked.connect(self.identify_caller)
            self.header.add_badge(self.identify_button)
            self.keep_button = QPushButton("Keep as a new customer")
            self.keep_button.setToolTip(
                "Not a customer on file: stop holding this record as an unknown caller's"
            )
            self.keep_button.clicked.connect(self.keep_as_new)
            self.header.add_badge(self.keep_button)
        layout.addWidget(self.header)
        # The churn risk in words under the header (its badge is in the header): filled
        # once the tab is painted, with the Suggested section's read.
        self.suggestions_area = QVBoxLayout()
        self.suggestions_area.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.suggestions_area)
        self._suggestions: SuggestionsDesk | None = None
        # Authority's strip (hints, waiting requests): filled once the tab is painted.
        self.authority_area = QVBoxLayout()
        self.authority_area.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.authority_area)
        self._authority: AuthorityDesk | None = None
        actions.bind("authority.grant", self, self.make_it_right)
        self.sections = QTabWidget()
        self.sections.setAccessibleName("Customer sections")
        self.sections.setDocumentMode(True)
        self._built: dict[Part, QWidget] = {}
        for _part, icon_name, title in SECTIONS:
            page = QWidget()
            page_layout = QVBoxLayout(page)
            page_layout.setContentsMargins(0, 0, 0, 0)
            self.sections.addTab(page, icon(icon_name), title)
        self.ensure_section(0)
        self.sections.currentChanged.connect(self.ensure_section)
        # A child timer, not QTimer.singleShot(0, self, ...): PySide keeps the callable
        # of a single shot whose context died, and with it the whole closed panel.
        self._section_timer = QTimer(self, singleShot=True, interval=0)
        self._section_timer.timeout.connect(self._build_next_section)
        self._section_timer.start()
        layout.addWidget(self.sections, 1)
        for number, name in enumerate(SECTION_ACTIONS):
            actions.bind(name, self, lambda index=number: self.sections.setCurrentIndex(index))

    # -- sections ------------------------------------------------------------------

    def _make(self, part: Part) -> QWidget:
        data = self.data
        if part is Part.OVERVIEW:
            return OverviewSection(data)
        if part is Part.ORDERS:
            orders = OrdersSection(data, self._services.customers, self._bridge)
            orders.new_case_requested.connect(
                lambda order_id, line_no: self.new_case_requested.emit(
                    self.customer_id, (order_id, line_no)
                )
            )
            return orders
        if part is Part.CASES:
            cases = CasesSection(data)
            cases.open_case_requested.connect(self.open_case_requested)
            cases.new_case_requested.connect(
                lambda: self.new_case_requested.emit(self.customer_id, None)
            )
            return cases
        if part is Part.TIMELINE:
            return TimelineSection(data)
        if part is Part.HOUSEHOLD:
            household = HouseholdSection(data)
            household.open_customer_requested.connect(self.open_customer_requested)
            return household
        if part is Part.CONCESSIONS:
            return self.authority.make_section()
        if part is Part.SUGGESTIONS:
            return self.suggestions.make_section()
        return NotesSection(
            data, self._services, self._bridge, self._drafts, lambda: self.data.header.name
        )

    def ensure_section(self, index: int) -> None:
        """Build section `index` now if it is not built yet."""
        part = SECTIONS[index][0]
        if part not in self._built:
            section = self._make(part)
            self._built[part] = section
            self.sections.widget(index).layout().addWidget(section)

    def is_built(self, index: int) -> bool:
        return SECTIONS[index][0] in self._built

    @property
    def fully_built(self) -> bool:
        return len(self._built) == len(SECTIONS)

    def ensure_all_sections(self) -> None:
        for index in range(len(SECTIONS)):
            self.ensure_section(index)

    def _build_next_section(self) -> None:
        self.authority  # noqa: B018 (made after the first paint: hints and waiting requests)
        self.suggestions  # noqa: B018 (made after the first paint: churn and suggestions)
        unbuilt = [i for i in range(len(SECTIONS)) if not self.is_built(i)]
        if unbuilt:
            self.ensure_section(unbuilt[0])
        if len(unbuilt) > 1:
            self._section_timer.start()

    def _section(self, index: int) -> QWidget:
        self.ensure_section(index)
        return self._built[SECTIONS[index][0]]

    # Each section, built on first use (the tab builds the others when it has time).

    @property
    def overview(self) -> OverviewSection:
        return self._typed(0, OverviewSection)

    @property
    def orders(self) -> OrdersSection:
        return self._typed(1, OrdersSection)

    @property
    def cases(self) -> CasesSection:
        return self._typed(2, CasesSection)

    @property
    def timeline(self) -> TimelineSection:
        return self._typed(3, TimelineSection)

    @property
    def household(self) -> HouseholdSection:
        return self._typed(4, HouseholdSection)

    @property
    def notes(self) -> NotesSection:
        return self._typed(NOTES_INDEX, NotesSection)

    @property
    def concessions(self) -> QWidget:
        """The Concessions section (ui/features/authority/concessions.py)."""
        return self._section(CONCESSIONS_INDEX)

    @property
    def suggested(self) -> QWidget:
        """The Suggested section (ui/features/suggestions/section.py)."""
        return self._section(SUGGESTED_INDEX)

    def _typed(self, index: int, kind: type[S]) -> S:
        section = self._section(index)
        assert isinstance(section, kind)
        return section

    # -- refreshing in place -------------------------------------------------------

    def identify_caller(self) -> None:
        """A staged caller is a customer on file: search, pick, merge; this tab then gives
        way to theirs (`merged`), the note being written with it."""
        from ui.features.customer.identify import IdentifyCallerDialog

        dialog = IdentifyCallerDialog(
            self.customer_id, self.data.header.name, self._services, self._bridge, self
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.identified.connect(self.merged)
        self.identify_dialog = dialog
        dialog.open()

    def keep_as_new(self) -> None:
        self._bridge.spawn(self._keep_as_new())

    async def _keep_as_new(self) -> None:
        from app.operations.customers import keep_staged

        try:
            await self._bridge.perform(keep_staged, self._services, self.customer_id)
        except UserError as exc:
            QMessageBox.warning(self, "Keep as a new customer", str(exc))
            return
        self.keep_button.hide()
        self.identify_button.hide()

    def apply_changes(self, changes: Changes) -> None:
        """Refresh what `changes` make stale here (nothing, without a query, when they
        are about other customers)."""
        self.controller.apply_changes(changes)
        if self._authority is not None:
            self._authority.apply_changes(changes)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.controller.shown()

    def _relatives(self) -> frozenset[int]:
        return frozenset(r.customer_id for r in self.data.relations if r.customer_id)

    def _refreshed(self, data: v.CustomerView, parts: frozenset[Part]) -> None:
        if data.header.id != self.customer_id:  # read through a merge: the survivor
            self.merged.emit(data.header.id)
            return
        renamed = data.header.name != self.data.header.name
        self.data = data
        if Part.HEADER in parts:
            self.header.show_header(data.header, data.today)
        if Part.SUGGESTIONS in parts and self._suggestions is not None:
            self._suggestions.refresh()
        for part in parts:
            section = self._built.get(part)  # one not built yet is built from `data`
            if section is not None:
                cast(SectionPage, section).refresh_from(data)
        if renamed:
            self.setAccessibleName(f"Customer {data.header.name}")
            self.title_changed.emit(data.header.name)

    def _refresh_failed(self, message: str) -> None:
        self.header.status_label.setText(f"(not current: {message})")
        self.header.status_label.show()

    # -- contact details -----------------------------------------------------------

    def edit_contact(self) -> None:
        self._bridge.spawn(self._open_contact_dialog())

    async def _open_contact_dialog(self) -> None:
        from ui.features.customer.contact_dialog import ContactDialog

        contact = await self._bridge.run(self._services.contacts.load, self.customer_id)
        # Its save publishes the change; this tab refreshes from it like any other.
        dialog = ContactDialog(contact, self._services, self._bridge, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.contact_dialog = dialog
        dialog.open()

    # -- authority -----------------------------------------------------------------

    @property
    def authority(self) -> AuthorityDesk:
        """Concessions, hints and override requests of this tab (made on first use)."""
        if self._authority is None:
            from ui.features.authority.desk import AuthorityDesk

            desk = AuthorityDesk(
                self.customer_id, lambda: self.data, self._services, self._bridge, self
            )
            desk.show_requested.connect(self.show_requested)
            self.authority_area.addWidget(desk.strip)
            self._authority = desk
            desk.start()
        return self._authority

    def make_it_right(self) -> None:
        """Ctrl+G: grant a concession, or ask a supervisor (about the case shown, if any)."""
        case = None
        cases = PART_INDEX[Part.CASES]
        if self.sections.currentIndex() == cases and self.is_built(cases):
            current = self.cases.model.row_at(self.cases.table.currentIndex().row())
            case = current.id if current is not None and current.is_open else None
        self.authority.make_it_right(case_id=case)

    # -- suggestions ---------------------------------------------------------------

    @property
    def suggestions(self) -> SuggestionsDesk:
        """The churn badge and the Suggested section of this tab (made on first use)."""
        if self._suggestions is None:
            from ui.features.suggestions.desk import SuggestionsDesk

            desk = SuggestionsDesk(
                self.customer_id,
                lambda: self.data,
                self._services,
                self._bridge,
                lambda prefill: self.authority.make_it_right(prefill=prefill),
                self,
            )
            self.header.add_badge(desk.badge)
            self.suggestions_area.addWidget(desk.line)
            self._suggestions = desk
            desk.start()
        return self._suggestions

    def close_authority(self) -> None:
        if self._authority is not None:
            self._authority.close()

    # -- notes ---------------------------------------------------------------------

    def show_notes(self) -> None:
        """Bring the Notes section forward with the cursor in the note being written."""
        self.sections.setCurrentIndex(NOTES_INDEX)
        self.notes.editor.setFocus()

    def keep_draft_now(self) -> None:
        """Write the draft typed in the last moments (before a tab closes or the app quits)."""
        notes = self._built.get(Part.NOTES)
        if isinstance(notes, NotesSection):
            notes.keep_draft_now()

    def submit_note(self) -> None:
        self.notes.submit()

    def add_to_note(self, text: str) -> bool:
        """Append `text` to the note being written (the draft timer keeps it); False,
        and nothing done, while the Notes section is not built: its draft file is then
        the place for it, read when the section is built."""
        notes = self._built.get(Part.NOTES)
        if not isinstance(notes, NotesSection):
            return False
        mine = notes.editor.toPlainText()
        notes.editor.setPlainText(f"{mine}\n\n{text}" if mine.strip() else text)
        return True

    # The widgets the shell, the drafts tests and the screenshots reach by these names.

    @property
    def note_editor(self) -> QPlainTextEdit:
        return self.notes.editor

    @property
    def note_status(self) -> QLabel:
        return self.notes.status

    @property
    def note_length(self) -> QLabel:
        return self.notes.length

    @property
    def add_note_button(self) -> QPushButton:
        return self.notes.add_button

    @property
    def orders_model(self) -> RowTableModel[v.OrderRow]:
        return self.orders.model

    @property
    def orders_table(self) -> QTableView:
        return self.orders.table

    @property
    def value_label(self) -> QLabel:
        return self.header.value_label


__all__ = ["CustomerPanel"]
