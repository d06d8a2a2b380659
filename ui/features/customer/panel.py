"""The customer screen: a header clear at a glance and the record in sections.

All user data is shown as plain text (never interpreted as HTML).

Signals:
    open_customer_requested(int): the agent asked to open a related customer.
    note_added(int): a note was saved for this customer id.
    reload_requested(int): the record changed (contact edited); reload this customer.

Changes: `apply_changes` is called by the shell with every `Changes` record (made here
or by another agent) and reloads the customer when it touches what the panel shows.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.changes import Changes, Entity
from app.drafts import DraftKey, DraftStore
from app.errors import KeyReusedError, UserError
from app.services import views as v
from models.limits import NOTE_LENGTH
from ui import actions
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.icons import icon
from ui.table_model import Column, RowTableModel
from ui.widgets import DRAFT_SAVE_MS, make_table, plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services  # the core loads after the first paint

log = logging.getLogger(__name__)
WARN = QBrush(QColor("#c62828"))
# Alt+1 ... Alt+6, in the order of the section tabs.
SECTION_ACTIONS = tuple(a.id for a in actions.ACTIONS if a.id.startswith("customer.section."))


def section(title: str, body: QWidget) -> QWidget:
    box = QFrame()
    box.setObjectName("section")
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(4)
    layout.addWidget(plain_label(title, bold=True))
    layout.addWidget(body)
    return box


# What a customer tab shows, by entity (app/changes.py).
SHOWN = (
    Entity.CUSTOMER,
    Entity.NOTE,
    Entity.INTERACTION,
    Entity.TASK,
    Entity.CASE,
    Entity.COMMITMENT,
    Entity.ORDER,
)


class CustomerPanel(QWidget):
    open_customer_requested = Signal(int)
    note_added = Signal(int)
    reload_requested = Signal(int)

    def apply_changes(self, changes: Changes) -> None:
        if changes.touches(SHOWN, self.customer_id):
            self.reload_requested.emit(self.customer_id)

    def __init__(
        self,
        data: v.CustomerView,
        services: Services,
        bridge: DatabaseBridge,
        drafts: DraftStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._drafts = drafts
        # The note's idempotency key: made when the agent starts typing, sent again on
        # every retry, dropped once the note is saved (CustomerService.add_note).
        self._note_key: str | None = None
        self._saving_note = False
        self._currency = data.header.currency
        self.data = data
        self.customer_id = data.header.id
        self._services = services
        self._bridge = bridge
        self._today = data.today
        self.setAccessibleName(f"Customer {data.header.name}")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        layout.addWidget(self._build_header(data.header))
        self.sections = QTabWidget()
        self.sections.setAccessibleName("Customer sections")
        self.sections.setDocumentMode(True)
        # Only the Overview is built before the first paint (a screen pop must paint in
        # tens of milliseconds); each other section is built when first shown, or one
        # per event-loop turn right after, so the GUI never stalls for all of them.
        builders = (
            (self._build_overview, "overview", "&Overview"),
            (self._build_orders, "orders", "O&rders"),
            (self._build_cases, "cases", "&Cases"),
            (self._build_timeline, "timeline", "&Timeline"),
            (self._build_household, "household", "&Household"),
            (self._build_notes, "notes", "&Notes"),
        )
        self._unbuilt: dict[int, Callable[[v.CustomerView], QWidget]] = {}
        for index, (build, icon_name, title) in enumerate(builders):
            page = QWidget()
            page_layout = QVBoxLayout(page)
            page_layout.setContentsMargins(0, 0, 0, 0)
            self.sections.addTab(page, icon(icon_name), title)
            self._unbuilt[index] = build
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

    def ensure_section(self, index: int) -> None:
        """Build section `index` now if it is not built yet."""
        build = self._unbuilt.pop(index, None)
        if build is not None:
            page = self.sections.widget(index)
            page.layout().addWidget(build(self.data))

    @property
    def fully_built(self) -> bool:
        return not self._unbuilt

    def ensure_all_sections(self) -> None:
        for index in list(self._unbuilt):
            self.ensure_section(index)

    def _build_next_section(self) -> None:
        if self._unbuilt:
            self.ensure_section(min(self._unbuilt))
        if self._unbuilt:
            self._section_timer.start()

    # -- header --------------------------------------------------------------------

    def _build_header(self, h: v.CustomerHeader) -> QWidget:
        frame = QFrame()
        frame.setObjectName("customerHeader")
        grid = QGridLayout(frame)
        grid.setContentsMargins(12, 10, 12, 10)
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(4)

        self.name_label = plain_label(h.name, bold=True, point_delta=6)
        self.name_label.setAccessibleName("Customer name")
        title = QHBoxLayout()
        title.addWidget(self.name_label)
        tier = plain_label(h.tier.upper(), bold=True)
        tier.setObjectName(f"tier_{h.tier}")
        tier.setAccessibleName("Tier")
        title.addWidget(tier)
        if h.status != "active":
            title.addWidget(plain_label(f"({h.status})"))
        title.addStretch(1)
        self.edit_button = QPushButton(icon("edit"), "Edit contact…")
        self.edit_button.setToolTip(actions.tooltip("customer.edit_contact"))
        self.edit_button.setAccessibleName("Edit contact details")
        self.edit_button.clicked.connect(self.edit_contact)
        title.addWidget(self.edit_button)
        actions.bind("customer.edit_contact", self, self.edit_contact)
        grid.addLayout(title, 0, 0, 1, 3)

        tenure = fmt.tenure(h.customer_since, self._today)
        facts = [
            f"Customer since {fmt.day(h.customer_since)} ({tenure})",
            f"Segment: {h.segment or 'none'}",
            f"Language: {h.preferred_language.upper()}",
        ]
        grid.addWidget(plain_label("   ·   ".join(facts)), 1, 0, 1, 3)

        value = (
            f"Lifetime value {fmt.money_totals(h.values_by_currency, 'total_cents')}   ·   "
            f"{fmt.plural(h.order_count, 'order')}   ·   "
            f"average {fmt.money_totals(h.values_by_currency, 'average_cents', ' / ')}"
        )
        self.value_label = plain_label(value)
        grid.addWidget(self.value_label, 2, 0, 1, 3)

        alerts = [fmt.plural(h.open_cases, "open case")]
        if h.broken_commitments:
            alerts.append(fmt.plural(h.broken_commitments, "broken promise"))
        if h.overdue_commitments:
            alerts.append(fmt.plural(h.overdue_commitments, "overdue promise"))
        self.alerts_label = plain_label("   ·   ".join(alerts), bold=True)
        self.alerts_label.setAccessibleName("Cases and promises")
        if h.broken_commitments or h.overdue_commitments:
            self.alerts_label.setStyleSheet("color: #c62828;")
        grid.addWidget(self.alerts_label, 3, 0, 1, 3)

        contact_lines = []
        for p in h.phones:
            shown = p.display or p.raw
            contact_lines.append(f"{p.kind}: {shown}" + ("  (primary)" if p.is_primary else ""))
        for e in h.emails:
            contact_lines.append(f"e-mail: {e.address}")
        contact = plain_label("\n".join(contact_lines) or "no phone or e-mail")
        contact.setAccessibleName("Phones and e-mails")
        contact.setWordWrap(True)
        grid.addWidget(contact, 0, 3, 4, 1, Qt.AlignmentFlag.AlignTop)

        pref_lines = []
        for pref in h.preferences:
            if pref.avoid:
                pref_lines.append(
                    f"✖ not {pref.target or pref.channel}: {pref.note or ''}".rstrip(": ")
                )
            else:
                where = pref.target or pref.channel
                line = f"✔ {pref.rank}. {where}, {pref.days}, {pref.hours}"
                pref_lines.append(line + (f" ({pref.note})" if pref.note else ""))
        flags = [
            name
            for name, on in (
                ("do not call", h.do_not_call),
                ("do not e-mail", h.do_not_email),
                ("no SMS", h.do_not_sms),
                ("no post", h.do_not_mail),
            )
            if on
        ]
        if flags:
            pref_lines.append("⚠ " + ", ".join(flags))
        self.preferences_label = plain_label(
            "\n".join(pref_lines) or "No contact preferences recorded"
        )
        self.preferences_label.setAccessibleName("Contact preferences")
        self.preferences_label.setWordWrap(True)
        grid.addWidget(self.preferences_label, 0, 4, 4, 1, Qt.AlignmentFlag.AlignTop)
        grid.setColumnStretch(2, 1)
        grid.setColumnStretch(3, 1)
        grid.setColumnStretch(4, 2)
        return frame

    def edit_contact(self) -> None:
        self._bridge.spawn(self._open_contact_dialog())

    async def _open_contact_dialog(self) -> None:
        from ui.features.customer.contact_dialog import ContactDialog

        contact = await self._bridge.run(self._services.contacts.load, self.customer_id)
        dialog = ContactDialog(
            contact,
            self._services.contacts,
            self._bridge,
            actor=self._services.agent.actor,
            parent=self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda _saved: self.reload_requested.emit(self.customer_id))
        self.contact_dialog = dialog
        dialog.open()

    # -- overview ------------------------------------------------------------------

    def _build_overview(self, data: v.CustomerView) -> QWidget:
        page = QWidget()
        grid = QGridLayout(page)
        grid.setContentsMargins(0, 8, 0, 0)

        self.key_dates_model: RowTableModel[v.KeyDateRow] = RowTableModel(
            [
                Column("When", lambda k: fmt.relative_day(k.next_on, self._today)),
                Column("Whose", lambda k: k.whose),
                Column("What", lambda k: k.label or fmt.label(k.kind), stretch=True),
            ]
        )
        soon = [k for k in data.key_dates if k.days_until <= 60]
        self.key_dates_model.set_rows(soon)
        key_table = make_table(self.key_dates_model, "Upcoming key dates")
        grid.addWidget(section("Coming up (next 60 days)", key_table), 0, 0)

        self.promises_model: RowTableModel[v.CommitmentRow] = RowTableModel(
            [
                Column(
                    "Status",
                    lambda c: "OVERDUE" if c.overdue else c.status.upper(),
                    foreground=lambda c: WARN if c.overdue or c.status == "broken" else None,
                ),
                Column("Promise", lambda c: c.description, stretch=True),
                Column("Due", lambda c: fmt.day(c.due_until)),
                Column("Case", lambda c: c.case_reference or ""),
            ]
        )
        self.promises_model.set_rows(list(data.commitments))
        grid.addWidget(section("Promises", make_table(self.promises_model, "Promises made")), 0, 1)

        self.last_bought_model: RowTableModel[v.LastBought] = RowTableModel(
            [
                Column("Product", lambda b: b.product, stretch=True),
                Column("Last bought", lambda b: fmt.day(b.last_at)),
                Column("Times", lambda b: str(b.times), align_right=True),
                Column(
                    "Every",
                    lambda b: (
                        f"{b.average_days_between:.0f} days" if b.average_days_between else ""
                    ),
                    align_right=True,
                ),
            ]
        )
        self.last_bought_model.set_rows(list(data.last_bought))
        grid.addWidget(
            section(
                "Last bought"
                + (
                    f" (in the last {v.LAST_BOUGHT_ORDERS} orders)"
                    if data.header.order_count > v.LAST_BOUGHT_ORDERS
                    else ""
                ),
                make_table(self.last_bought_model, "Last bought"),
            ),
            1,
            0,
        )

        self.open_cases_model: RowTableModel[v.CaseRow] = RowTableModel(_case_columns())
        self.open_cases_model.set_rows([c for c in data.cases if c.is_open])
        grid.addWidget(section("Open cases", make_table(self.open_cases_model, "Open cases")), 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        return page

    # -- orders --------------------------------------------------------------------

    def _build_orders(self, data: v.CustomerView) -> QWidget:
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.orders_model: RowTableModel[v.OrderRow] = RowTableModel(
            [
                Column("Placed", lambda o: fmt.day(o.placed_at)),
                Column("Order", lambda o: o.number),
                Column("Total", lambda o: fmt.money(o.total_cents, o.currency), align_right=True),
                Column("Lines", lambda o: str(o.line_count), align_right=True),
                Column("Channel", lambda o: fmt.label(o.channel)),
                Column("Status", lambda o: fmt.label(o.status), stretch=True),
            ]
        )
        self.orders_model.set_rows(list(data.orders), more=data.more_orders)
        self.orders_model.request_more = self._request_more_orders
        self.orders_table = make_table(self.orders_model, "Orders, newest first")
        self.orders_table.selectionModel().currentRowChanged.connect(self._order_selected)
        splitter.addWidget(self.orders_table)

        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        self.lines_model: RowTableModel[v.OrderLineRow] = RowTableModel(
            [
                Column("Product", lambda line: line.product, stretch=True),
                Column("SKU", lambda line: line.sku),
                Column("Qty", lambda line: str(line.quantity), align_right=True),
                Column(
                    "Price",
                    lambda line: fmt.money(line.unit_price_cents, self._currency),
                    align_right=True,
                ),
                Column(
                    "Discount",
                    lambda line: (
                        fmt.money(line.discount_cents, self._currency)
                        if line.discount_cents
                        else ""
                    ),
                    align_right=True,
                ),
                Column("Personalisation", lambda line: line.personalisation or ""),
            ]
        )
        self.lines_table = make_table(self.lines_model, "Order lines")
        self.shipment_label = plain_label("Select an order to see its lines and delivery.")
        self.shipment_label.setWordWrap(True)
        detail_layout.addWidget(self.lines_table, 1)
        detail_layout.addWidget(self.shipment_label)
        splitter.addWidget(detail)
        splitter.setSizes([300, 200])
        if data.orders:
            self.orders_table.selectRow(0)
        return splitter

    def _request_more_orders(self) -> None:
        rows = self.orders_model.rows
        if rows:
            self._bridge.spawn(self._load_more_orders(rows[-1].placed_at))

    async def _load_more_orders(self, before: dt.datetime) -> None:
        rows, more = await self._bridge.run(
            self._services.customers.more_orders, self.customer_id, before
        )
        self.orders_model.append_rows(rows, more)

    def _order_selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        order = self.orders_model.row_at(current.row())
        if order is not None:
            self._bridge.spawn(self._show_order(order.id))

    async def _show_order(self, order_id: int) -> None:
        detail = await self._bridge.run(self._services.customers.order_detail, order_id)
        if not shiboken6.isValid(self.orders_table):
            return  # the tab was closed while the order was loading
        current = self.orders_model.row_at(self.orders_table.currentIndex().row())
        if current is None or current.id != order_id:
            return  # the agent moved on meanwhile
        self._currency = detail.order.currency
        self.lines_model.set_rows(list(detail.lines))
        parts = []
        for s in detail.shipments:
            promised = f"promised {fmt.day(s.promised_date)}" if s.promised_date else ""
            delivered = (
                f"delivered {fmt.day(s.delivered_at)}" if s.delivered_at else "not delivered"
            )
            late = "  LATE" if s.late else ""
            parts.append(
                f"{s.carrier} {s.tracking_number or ''}: {fmt.label(s.status)}, "
                f"{promised}, {delivered}{late}"
            )
        self.shipment_label.setText(
            "\n".join(parts) if parts else f"Order {detail.order.number}: no shipment (store sale)"
        )

    # -- cases, timeline, household, notes ----------------------------------------

    def _build_cases(self, data: v.CustomerView) -> QWidget:
        self.cases_model: RowTableModel[v.CaseRow] = RowTableModel(_case_columns())
        self.cases_model.set_rows(list(data.cases))
        return make_table(self.cases_model, "Cases, open first")

    def _build_timeline(self, data: v.CustomerView) -> QWidget:
        self.timeline_model: RowTableModel[v.TimelineRow] = RowTableModel(
            [
                Column("When", lambda t: fmt.day_time(t.started_at)),
                Column("Channel", lambda t: fmt.label(t.channel)),
                Column("Dir.", lambda t: "in" if t.direction == "inbound" else "out"),
                Column("Outcome", lambda t: fmt.label(t.outcome)),
                Column("Case", lambda t: t.case_reference or ""),
                Column("Agent", lambda t: t.agent or ""),
                Column("Length", lambda t: fmt.duration(t.duration_s), align_right=True),
                Column(
                    "Feedback",
                    lambda t: (f"{t.rating}★ " if t.rating else "") + (t.sentiment or ""),
                    foreground=lambda t: WARN if t.sentiment == "negative" else None,
                ),
                Column("Summary", lambda t: t.summary or t.feedback or "", stretch=True),
            ]
        )
        self.timeline_model.set_rows(list(data.timeline))
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 8, 0, 0)
        filters = QHBoxLayout()
        filters.addWidget(plain_label("Channel:"))
        self.channel_filter = QComboBox()
        self.channel_filter.setAccessibleName("Filter the timeline by channel")
        channels = sorted({t.channel for t in data.timeline})
        self.channel_filter.addItem(f"All channels ({len(data.timeline)})", "")
        for channel in channels:
            count = sum(t.channel == channel for t in data.timeline)
            self.channel_filter.addItem(f"{fmt.label(channel)} ({count})", channel)
        self.channel_filter.currentIndexChanged.connect(self._filter_timeline)
        filters.addWidget(self.channel_filter)
        filters.addStretch(1)
        layout.addLayout(filters)
        self.timeline_table = make_table(self.timeline_model, "Timeline, newest first")
        layout.addWidget(self.timeline_table, 1)
        return page

    def _filter_timeline(self) -> None:
        channel = self.channel_filter.currentData()
        rows = [t for t in self.data.timeline if not channel or t.channel == channel]
        self.timeline_model.set_rows(rows)

    def _build_household(self, data: v.CustomerView) -> QWidget:
        page = QWidget()
        layout = QHBoxLayout(page)
        layout.setContentsMargins(0, 8, 0, 0)
        self.relations_model: RowTableModel[v.RelationRow] = RowTableModel(
            [
                Column("Relation", lambda r: fmt.label(r.relation)),
                Column("Name", lambda r: r.name, stretch=True),
                Column("Customer", lambda r: "yes" if r.customer_id else ""),
            ]
        )
        self.relations_model.set_rows(list(data.relations))
        relations = make_table(self.relations_model, "Household and relations")
        relations.doubleClicked.connect(self._open_relation)
        layout.addWidget(section("Household and relations", relations), 1)

        self.addresses_model: RowTableModel[v.AddressRow] = RowTableModel(
            [
                Column("Kind", lambda a: fmt.label(a.kind)),
                Column("Address", lambda a: a.text, stretch=True),
                Column("Nearest stores", lambda a: "; ".join(a.nearest_stores)),
            ]
        )
        self.addresses_model.set_rows(list(data.addresses))
        layout.addWidget(section("Addresses", make_table(self.addresses_model, "Addresses")), 2)
        return page

    def _open_relation(self, index: QModelIndex) -> None:
        relation = self.relations_model.row_at(index.row())
        if relation is not None and relation.customer_id:
            self.open_customer_requested.emit(relation.customer_id)

    def _build_notes(self, data: v.CustomerView) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 8, 0, 0)
        self.notes_model: RowTableModel[v.NoteRow] = RowTableModel(
            [
                Column("Written", lambda n: fmt.day_time(n.created_at)),
                Column("By", lambda n: n.author or ""),
                Column(
                    "Note",
                    lambda n: n.body.replace("\n", " "),
                    tooltip=lambda n: n.body,
                    stretch=True,
                ),
            ]
        )
        self.notes_model.set_rows(list(data.notes))
        layout.addWidget(make_table(self.notes_model, "Notes"), 1)
        self.note_editor = QPlainTextEdit()
        self.note_editor.setAccessibleName("New note")
        self.note_editor.setPlaceholderText("Write a note about this customer…")
        self.note_editor.setMaximumHeight(90)
        layout.addWidget(self.note_editor)
        row = QHBoxLayout()
        self.note_status = plain_label("")
        row.addWidget(self.note_status, 1)
        self.note_length = plain_label("")
        self.note_length.setAccessibleName("Note length")
        row.addWidget(self.note_length)
        self.add_note_button = QPushButton(icon("add"), "Add note")
        self.add_note_button.setToolTip(actions.tooltip("note.save"))
        self.add_note_button.setAccessibleName("Add note")
        self.add_note_button.clicked.connect(self.submit_note)
        row.addWidget(self.add_note_button)
        layout.addLayout(row)
        actions.bind("note.save", self.note_editor, self.submit_note)
        self._draft_timer = QTimer(self, singleShot=True, interval=DRAFT_SAVE_MS)
        self._draft_timer.timeout.connect(self._keep_draft)
        self.note_editor.textChanged.connect(self._draft_timer.start)
        self.note_editor.textChanged.connect(self._show_note_length)
        self.note_editor.textChanged.connect(self._note_started)
        self._show_note_length()
        if self._drafts is not None:
            # The draft file is read on a worker; the editor waits for it (milliseconds).
            self.note_editor.setReadOnly(True)
            self._bridge.spawn(self._restore_draft(self._drafts))
        return page

    def _note_started(self) -> None:
        if self._note_key is None and self.note_editor.toPlainText().strip():
            self._note_key = str(uuid.uuid4())

    async def _restore_draft(self, drafts: DraftStore) -> None:
        try:
            draft = await self._bridge.run(drafts.get, self._draft_key)
        finally:
            if shiboken6.isValid(self.note_editor):
                self.note_editor.setReadOnly(False)
        if draft is None or not shiboken6.isValid(self.note_editor):
            return
        if not self.note_editor.toPlainText():
            self.note_editor.setPlainText(draft.text)
            self._draft_timer.stop()  # it is the draft already
            self.note_status.setText("Unsaved draft restored.")

    def show_notes(self) -> None:
        """Bring the Notes section forward with the cursor in the note being written."""
        self.sections.setCurrentIndex(self.sections.count() - 1)
        self.note_editor.setFocus()

    def note_length_problem(self) -> str | None:
        """Why the note cannot be saved as it stands, or None."""
        length = self._note_length()
        if length > NOTE_LENGTH:
            return (
                f"The note is {fmt.plural(length - NOTE_LENGTH, 'character')} over the "
                f"{NOTE_LENGTH:,} limit: shorten it to add it (your text is kept as a draft)."
            )
        return None

    def _note_length(self) -> int:
        # characterCount is cheap (no copy of a 10 MB paste per keystroke) and counts
        # UTF-16 units, never fewer than the characters the service counts; the exact
        # count (stripped, as the service does) is taken only when it can matter.
        units = self.note_editor.document().characterCount() - 1
        if units > 2 * NOTE_LENGTH:
            return units
        return len(self.note_editor.toPlainText().strip())

    def _show_note_length(self) -> None:
        length = self._note_length()
        over = length > NOTE_LENGTH
        self.note_length.setText(f"{length:,} / {NOTE_LENGTH:,}")
        self.note_length.setStyleSheet("color: #c62828; font-weight: bold;" if over else "")
        self.add_note_button.setEnabled(not over and not self._saving_note)
        problem = self.note_length_problem()
        if problem is not None:
            self.note_status.setText(problem)
        elif self.note_status.text().startswith("The note is"):
            self.note_status.setText("")

    @property
    def _draft_key(self) -> DraftKey:
        return self._services.agent.note_draft(self.customer_id)

    def _keep_draft(self) -> None:
        if self._drafts is not None and not self.note_editor.isReadOnly():
            self._drafts.put(
                self._draft_key, self.note_editor.toPlainText(), label=self.data.header.name
            )

    def keep_draft_now(self) -> None:
        """Write the draft typed in the last moments (before a tab closes or the app quits)."""
        timer = getattr(self, "_draft_timer", None)  # absent until Notes is built
        if timer is not None and timer.isActive():
            timer.stop()
            self._keep_draft()

    def submit_note(self) -> None:
        body = self.note_editor.toPlainText()
        if not body.strip():
            self.note_status.setText("Type the note first.")
            return
        problem = self.note_length_problem()
        if problem is not None:
            self.note_status.setText(problem)
            return
        self._bridge.spawn(self._save_note(body))

    async def _save_note(self, body: str) -> None:
        self.add_note_button.setEnabled(False)
        self._saving_note = True
        self.note_status.setText("Saving…")
        self._note_started()
        try:
            note = await self._bridge.run(
                self._services.customers.add_note,
                self.customer_id,
                body,
                self._services.agent.login,
                client_key=self._note_key,
            )
        except KeyReusedError as exc:  # the first try was saved; this text is another note
            self._note_key = str(uuid.uuid4())
            self.note_status.setText(str(exc))
            return
        except UserError as exc:
            self.note_status.setText(str(exc))
            return
        except Exception as exc:  # keep the typed text; say what happened
            log.exception("saving a note failed")
            self.note_status.setText(f"Not saved, your text is kept: {exc}")
            return
        finally:
            self._saving_note = False
            self.add_note_button.setEnabled(self.note_length_problem() is None)
        self._note_key = None
        if self.note_editor.toPlainText() == body:
            self.note_editor.clear()
            self._draft_timer.stop()
            if self._drafts is not None:
                self._drafts.discard(self._draft_key)
        else:  # typed on while it saved: what remains is a new note
            self._note_started()
        if all(row.id != note.id for row in self.notes_model.rows):
            self.notes_model.set_rows([note, *self.notes_model.rows])
        self.note_status.setText("Note saved.")
        self.note_added.emit(self.customer_id)


def _case_columns() -> list[Column[v.CaseRow]]:
    return [
        Column("Case", lambda c: c.reference),
        Column("Subject", lambda c: c.subject, stretch=True),
        Column("Status", lambda c: fmt.label(c.status)),
        Column("Priority", lambda c: fmt.label(c.priority)),
        Column("SLA due", lambda c: fmt.day_time(c.sla_due_at) if c.is_open else ""),
        Column("Contacts", lambda c: str(c.contacts), align_right=True),
        Column(
            "Promises",
            lambda c: ", ".join(
                part
                for part in (
                    f"{c.broken_commitments} broken" if c.broken_commitments else "",
                    f"{c.overdue_commitments} overdue" if c.overdue_commitments else "",
                )
                if part
            ),
            foreground=lambda c: WARN if c.broken_commitments or c.overdue_commitments else None,
        ),
    ]


__all__ = ["CustomerPanel"]
