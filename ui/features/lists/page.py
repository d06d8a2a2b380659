"""The Marketing lists page: the criteria form, the preview (how many, who is left out
and why, the first rows), "Save as campaign", the campaigns with their return, and
Export of the campaign selected (CSV or XLSX, written on a worker).

Every query runs on the bridge's workers; the page keeps no ORM object. Keys: the
form's fields take the Tab order; Alt+P previews, Alt+S saves, Alt+X exports (the
buttons' mnemonics).

Signals:
    previewed(): a preview was shown (its numbers are in `preview`).
    saved(int): a campaign was saved (its id).
    exported(str): a campaign was exported (the file's path).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.clock import Clock, system_clock
from app.errors import UserError
from app.operations import marketing
from app.segments import SEGMENTS
from app.services.marketing_lists import (
    MAX_KEY_DATE_DAYS,
    MAX_MONTHS,
    MAX_RETURN_DAYS,
    CampaignReturn,
    CampaignView,
    ListCriteria,
    ListMember,
    ListPreview,
)
from models.enums import Channel, KeyDateKind, Tier
from ui import formatting as fmt
from ui.bridge import DatabaseBridge
from ui.features.lists.pickers import CheckList, PickList
from ui.table_model import Column, RowTableModel
from ui.widgets import make_table, plain_label

if TYPE_CHECKING:
    from app.bootstrap import Services

CHANNELS = (
    ("E-mail", Channel.EMAIL),
    ("Text message", Channel.SMS),
    ("Phone", Channel.PHONE),
    ("Post", Channel.MAIL),
)
LINE_PREFIX = "Line: "

MEMBER_COLUMNS: list[Column[ListMember]] = [
    Column("Name", lambda m: m.name),
    Column("Contact", lambda m: m.contact, stretch=True),
    Column("Tier", lambda m: fmt.label(m.tier)),
    Column("Segment", lambda m: m.segment or ""),
]


def _return_text(r: CampaignReturn | None) -> str:
    if r is None:
        return ""
    money = ", ".join(fmt.money(cents, currency) for currency, cents in r.revenue) or "nothing"
    state = "final" if r.complete else "so far"
    return f"{r.orders} orders from {r.customers} customers, {money} ({state})"


Campaign = tuple[CampaignView, CampaignReturn]
CAMPAIGN_COLUMNS: list[Column[Campaign]] = [
    Column("Campaign", lambda c: c[0].name),
    Column("Channel", lambda c: fmt.label(c[0].channel.value)),
    Column("Saved", lambda c: f"{c[0].created_at.astimezone():%d %b %Y %H:%M}"),
    Column("By", lambda c: c[0].created_by),
    Column("On it", lambda c: f"{c[0].member_count:,}", align_right=True),
    Column("Left out", lambda c: f"{sum(c[0].left_out.values()):,}", align_right=True),
    Column(
        "Return", lambda c: f"within {c[0].return_days} days: {_return_text(c[1])}", stretch=True
    ),
]


class MarketingListsPage(QWidget):
    previewed = Signal()
    saved = Signal(int)
    exported = Signal(str)

    def __init__(
        self, services: Services, bridge: DatabaseBridge, clock: Clock = system_clock
    ) -> None:
        super().__init__()
        self.services = services
        self.bridge = bridge
        self.clock = clock  # "the last 12 months" and a campaign's time are read from it
        self.lists = marketing.lists_for(services, clock)
        self.preview: ListPreview | None = None
        self._generation = 0
        # Asks where to export; tests replace it (a file dialog would wait for a click).
        self.choose_path = self._ask_path

        self.bought = PickList("Bought", "Product or line bought… (Enter adds)")
        self.not_bought = PickList("Not bought", "…and never bought (Enter adds)")
        self.months = QSpinBox()
        self.months.setRange(1, MAX_MONTHS)
        self.months.setValue(12)
        self.months.setSuffix(" months")
        self.months.setAccessibleName("Bought within the last months")
        self.segments = CheckList("Value segments")
        self.segments.set_items([(name, name) for name in SEGMENTS])
        self.tiers = CheckList("Tiers")
        self.tiers.set_items([(fmt.label(t.value), t) for t in Tier])
        self.stores = CheckList("Bought at store")
        self.key_date = QCheckBox("&Key date within")
        self.key_days = QSpinBox()
        self.key_days.setRange(0, MAX_KEY_DATE_DAYS)
        self.key_days.setValue(14)
        self.key_days.setSuffix(" days")
        self.key_kind = QComboBox()
        self.key_kind.addItem("any kind", None)
        for kind in KeyDateKind:
            self.key_kind.addItem(fmt.label(kind.value), kind)
        self.channel = QComboBox()
        for text, channel in CHANNELS:
            self.channel.addItem(text, channel)
        self.channel.setAccessibleName("Channel")

        self.preview_button = QPushButton("&Preview")
        self.preview_button.clicked.connect(lambda: self.bridge.spawn(self.run_preview()))
        self.summary = plain_label()
        self.summary.setWordWrap(True)
        self.left_out = plain_label()
        self.left_out.setWordWrap(True)
        self.members = RowTableModel(MEMBER_COLUMNS)
        self.members_table = make_table(self.members, "On the list")  # type: ignore[arg-type]

        self.name = QLineEdit()
        self.name.setPlaceholderText("Campaign name, e.g. New day cream, December")
        self.name.setAccessibleName("Campaign name")
        self.return_days = QSpinBox()
        self.return_days.setRange(1, MAX_RETURN_DAYS)
        self.return_days.setValue(30)
        self.return_days.setPrefix("return within ")
        self.return_days.setSuffix(" days")
        self.save_button = QPushButton("&Save as campaign")
        self.save_button.clicked.connect(lambda: self.bridge.spawn(self.save()))
        self.campaigns = RowTableModel(CAMPAIGN_COLUMNS)
        self.campaigns_table = make_table(self.campaigns, "Campaigns")  # type: ignore[arg-type]
        self.export_button = QPushButton("E&xport…")
        self.export_button.clicked.connect(self.export_selected)
        self.message = plain_label()
        self._lay_out()

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow("&Bought", self.bought)
        form.addRow("&Within", self.months)
        form.addRow("&Not bought", self.not_bought)
        form.addRow("Se&gments", self.segments)
        form.addRow("&Tiers", self.tiers)
        form.addRow("St&ores", self.stores)
        key = QHBoxLayout()
        for widget in (self.key_date, self.key_days, self.key_kind):
            key.addWidget(widget)
        form.addRow("Key date", key)
        form.addRow("&Channel", self.channel)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(plain_label("Marketing list", bold=True, point_delta=2))
        left_layout.addLayout(form)
        left_layout.addWidget(self.preview_button)
        left_layout.addStretch(1)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.summary)
        right_layout.addWidget(self.left_out)
        right_layout.addWidget(self.members_table, 2)
        save = QHBoxLayout()
        save.addWidget(self.name, 1)
        save.addWidget(self.return_days)
        save.addWidget(self.save_button)
        right_layout.addLayout(save)
        right_layout.addWidget(plain_label("Campaigns", bold=True))
        right_layout.addWidget(self.campaigns_table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.export_button)
        right_layout.addLayout(bottom)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    # -- loading -------------------------------------------------------------------------

    async def load(self) -> None:
        """The pickers' choices and the campaigns (on a worker)."""
        lines, products, stores = await self.bridge.run(self._choices)
        choices = [(f"{LINE_PREFIX}{line}", ("line", line)) for line in lines]
        choices += [(text, ("product", pid)) for pid, text in products]
        self.bought.set_choices(choices)
        self.not_bought.set_choices(choices)
        self.stores.set_items([(name, sid) for sid, name in stores])
        await self.load_campaigns()

    def _choices(self) -> tuple[list[str], list[tuple[int, str]], list[tuple[int, str]]]:
        return self.lists.product_lines(), self.lists.products(), self.lists.stores()

    async def load_campaigns(self) -> None:
        self.campaigns.set_rows(await self.bridge.run(self._campaigns_with_return))

    def _campaigns_with_return(self) -> list[Campaign]:
        return [(c, self.lists.campaign_return(c.id)) for c in self.lists.campaigns()]

    # -- the list ------------------------------------------------------------------------

    def criteria(self) -> ListCriteria:
        bought, not_bought = self.bought.values(), self.not_bought.values()
        return ListCriteria(
            # Qt hands enums stored as item data back as plain strings: made whole here.
            channel=Channel(self.channel.currentData()),
            products=tuple(v for k, v in bought if k == "product"),
            lines=tuple(v for k, v in bought if k == "line"),
            months=self.months.value(),
            not_products=tuple(v for k, v in not_bought if k == "product"),
            not_lines=tuple(v for k, v in not_bought if k == "line"),
            segments=tuple(self.segments.checked()),
            tiers=tuple(Tier(t) for t in self.tiers.checked()),
            stores=tuple(self.stores.checked()),
            key_date_kinds=((self.key_kind.currentData(),) if self.key_kind.currentData() else ()),
            key_date_days=self.key_days.value() if self.key_date.isChecked() else None,
        )

    async def run_preview(self) -> None:
        self._generation += 1
        generation = self._generation
        self.summary.setText("Counting…")
        try:
            preview = await self.bridge.run(self.lists.preview, self.criteria())
        except UserError as exc:
            self.summary.setText(str(exc))
            return
        if generation != self._generation:
            return  # a newer preview was asked for
        self.preview = preview
        channel = self.channel.currentText().lower()
        left = sum(preview.left_out.values())
        self.summary.setText(
            f"{preview.member_count:,} customer{'' if preview.member_count == 1 else 's'} "
            f"on the list ({channel}), of "
            f"{preview.matched:,} who match; {left:,} left out."
            + (
                f" Showing the first {len(preview.first)}."
                if preview.member_count > len(preview.first)
                else ""
            )
        )
        self.left_out.setText(
            "Left out: " + "; ".join(preview.left_out_lines()) + "." if left else "Nobody left out."
        )
        self.members.set_rows(list(preview.first))
        self.previewed.emit()

    async def save(self) -> None:
        name = self.name.text()
        try:
            campaign_id = await self.bridge.perform(
                marketing.save_campaign,
                self.services,
                name,
                self.criteria(),
                self.return_days.value(),
                self.clock,
            )
        except UserError as exc:
            self.message.setText(str(exc))
            return
        self.message.setText(f"Saved “{name.strip()}”.")
        await self.load_campaigns()
        for row, (view, _) in enumerate(self.campaigns.rows):
            if view.id == campaign_id:
                self.campaigns_table.selectRow(row)
        self.saved.emit(campaign_id)

    # -- export --------------------------------------------------------------------------

    def selected_campaign(self) -> CampaignView | None:
        index = self.campaigns_table.currentIndex()
        row = self.campaigns.row_at(index.row()) if index.isValid() else None
        return row[0] if row else None

    def export_selected(self) -> None:
        campaign = self.selected_campaign()
        if campaign is None:
            self.message.setText("Select a campaign to export.")
            return
        path = self.choose_path(campaign)
        if path is not None:
            self.bridge.spawn(self.export(campaign, path))

    async def export(self, campaign: CampaignView, path: Path) -> None:
        try:
            rows = await self.bridge.run(self.lists.export, campaign.id, path)
        except UserError as exc:
            self.message.setText(str(exc))
            return
        self.message.setText(f"Exported {rows:,} customers to {path}.")
        self.exported.emit(str(path))

    def _ask_path(self, campaign: CampaignView) -> Path | None:
        suggested = f"{campaign.name} {dt.date.today():%Y-%m-%d}.csv".replace("/", "-")
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Export campaign", suggested, "CSV (*.csv);;Excel (*.xlsx)"
        )
        return Path(chosen) if chosen else None
