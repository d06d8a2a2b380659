"""The Timeline section: every contact with the customer, newest first, by channel."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QVBoxLayout, QWidget

from app.services import views as v
from ui import formatting as fmt
from ui.features.customer.common import WARN, by_id, refill
from ui.table_model import Column, RowTableModel
from ui.widgets import make_table, plain_label


class TimelineSection(QWidget):
    def __init__(self, data: v.CustomerView) -> None:
        super().__init__()
        self.rows: tuple[v.TimelineRow, ...] = ()
        self.model: RowTableModel[v.TimelineRow] = RowTableModel(
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
            ],
            self,
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        filters = QHBoxLayout()
        filters.addWidget(plain_label("Channel:"))
        self.channel_filter = QComboBox()
        self.channel_filter.setAccessibleName("Filter the timeline by channel")
        self.channel_filter.currentIndexChanged.connect(self._filter)
        filters.addWidget(self.channel_filter)
        filters.addStretch(1)
        layout.addLayout(filters)
        self.table = make_table(self.model, "Timeline, newest first")
        layout.addWidget(self.table, 1)
        self.refresh_from(data)

    def refresh_from(self, data: v.CustomerView) -> None:
        """New contacts appear; the channel chosen and the row the agent is on stay."""
        if data.timeline == self.rows:
            return
        self.rows = data.timeline
        channels = sorted({t.channel for t in self.rows})
        items = [(f"All channels ({len(self.rows)})", "")] + [
            (f"{fmt.label(c)} ({sum(t.channel == c for t in self.rows)})", c) for c in channels
        ]
        chosen = self.channel_filter.currentData() or ""
        self.channel_filter.blockSignals(True)  # one filtering below, not one per item
        try:
            self.channel_filter.clear()
            for text, channel in items:
                self.channel_filter.addItem(text, channel)
            self.channel_filter.setCurrentIndex(max(0, self.channel_filter.findData(chosen)))
        finally:
            self.channel_filter.blockSignals(False)
        refill(self.table, self.model, self._shown(), by_id)

    def _filter(self) -> None:
        self.model.set_rows(self._shown())  # another channel: from the top

    def _shown(self) -> list[v.TimelineRow]:
        channel = self.channel_filter.currentData()
        return [t for t in self.rows if not channel or t.channel == channel]


__all__ = ["TimelineSection"]
