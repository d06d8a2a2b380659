"""The customer header: who this is, what they are worth, what is wrong, how to reach them.

Built once per tab; a refresh (another agent's edit, a contact saved here) rewrites its
labels in place, so nothing the agent looks at moves or flickers.

Signals:
    edit_requested(): the agent pressed "Edit contact…".
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from app.services import views as v
from ui import actions
from ui import formatting as fmt
from ui.icons import icon
from ui.widgets import plain_label

ALERT_STYLE = "color: #c62828;"


class CustomerHeaderView(QFrame):
    edit_requested = Signal()

    def __init__(self, header: v.CustomerHeader, today: dt.date, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("customerHeader")
        grid = QGridLayout(self)
        grid.setContentsMargins(12, 10, 12, 10)
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(4)

        self.name_label = plain_label("", bold=True, point_delta=6)
        self.name_label.setAccessibleName("Customer name")
        title = QHBoxLayout()
        title.addWidget(self.name_label)
        self.tier_label = plain_label("", bold=True)
        self.tier_label.setAccessibleName("Tier")
        title.addWidget(self.tier_label)
        self.status_label = plain_label("")
        title.addWidget(self.status_label)
        self._badges = title.count()  # where `add_badge` puts the next one
        title.addStretch(1)
        self.edit_button = QPushButton(icon("edit"), "Edit contact…")
        self.edit_button.setToolTip(actions.tooltip("customer.edit_contact"))
        self.edit_button.setAccessibleName("Edit contact details")
        self.edit_button.clicked.connect(self.edit_requested)
        title.addWidget(self.edit_button)
        grid.addLayout(title, 0, 0, 1, 3)
        self._title = title

        self.facts_label = plain_label("")
        grid.addWidget(self.facts_label, 1, 0, 1, 3)
        self.value_label = plain_label("")
        grid.addWidget(self.value_label, 2, 0, 1, 3)
        self.alerts_label = plain_label("", bold=True)
        self.alerts_label.setAccessibleName("Cases and promises")
        grid.addWidget(self.alerts_label, 3, 0, 1, 3)

        self.contact_label = plain_label("")
        self.contact_label.setAccessibleName("Phones and e-mails")
        self.contact_label.setWordWrap(True)
        grid.addWidget(self.contact_label, 0, 3, 4, 1, Qt.AlignmentFlag.AlignTop)
        self.preferences_label = plain_label("")
        self.preferences_label.setAccessibleName("Contact preferences")
        self.preferences_label.setWordWrap(True)
        grid.addWidget(self.preferences_label, 0, 4, 4, 1, Qt.AlignmentFlag.AlignTop)
        grid.setColumnStretch(2, 1)
        grid.setColumnStretch(3, 1)
        grid.setColumnStretch(4, 2)
        self.header: v.CustomerHeader | None = None
        self.today = today
        self.show_header(header, today)

    def add_badge(self, badge: QWidget) -> None:
        """A badge another part of the tab keeps (the churn risk), after the tier."""
        self._title.insertSpacing(self._badges, 6)
        self._title.insertWidget(self._badges + 1, badge)
        self._title.insertSpacing(self._badges + 2, 6)
        self._badges += 3

    def show_header(self, h: v.CustomerHeader, today: dt.date) -> None:
        """Show `h`; labels whose text is the same are left as they are."""
        if h == self.header and today == self.today:
            return
        self.header, self.today = h, today
        _set_text(self.name_label, h.name)
        _set_text(self.tier_label, h.tier.upper())
        if self.tier_label.objectName() != f"tier_{h.tier}":
            # The theme colours the tier by object name: restyle it for the new one.
            self.tier_label.setObjectName(f"tier_{h.tier}")
            self.tier_label.style().unpolish(self.tier_label)
            self.tier_label.style().polish(self.tier_label)
        _set_text(self.status_label, f"({h.status})")
        self.status_label.setVisible(h.status != "active")
        facts = [
            f"Customer since {fmt.day(h.customer_since)} ({fmt.tenure(h.customer_since, today)})",
            f"Segment: {h.segment or 'none'}",
            f"Language: {h.preferred_language.upper()}",
        ]
        _set_text(self.facts_label, "   ·   ".join(facts))
        _set_text(
            self.value_label,
            f"Lifetime value {fmt.money_totals(h.values_by_currency, 'total_cents')}   ·   "
            f"{fmt.plural(h.order_count, 'order')}   ·   "
            f"average {fmt.money_totals(h.values_by_currency, 'average_cents', ' / ')}",
        )
        alerts = [fmt.plural(h.open_cases, "open case")]
        if h.broken_commitments:
            alerts.append(fmt.plural(h.broken_commitments, "broken promise"))
        if h.overdue_commitments:
            alerts.append(fmt.plural(h.overdue_commitments, "overdue promise"))
        _set_text(self.alerts_label, "   ·   ".join(alerts))
        warn = bool(h.broken_commitments or h.overdue_commitments)
        self.alerts_label.setStyleSheet(ALERT_STYLE if warn else "")
        _set_text(self.contact_label, contact_text(h))
        _set_text(self.preferences_label, preferences_text(h))


def contact_text(h: v.CustomerHeader) -> str:
    """The numbers and addresses; one the customer asked us not to use says so instead of
    "(primary)", so the header never offers an avoided number as the one to call."""
    avoided = {pref.target: pref.note for pref in h.preferences if pref.avoid and pref.target}
    lines = []
    for p in h.phones:
        target = f"{p.kind} {p.display or p.raw}"
        if target in avoided or h.do_not_call:
            why = avoided.get(target) or "do not call"
            lines.append(f"{p.kind}: {p.display or p.raw}  ✖ don't call: {why}")
        else:
            lines.append(
                f"{p.kind}: {p.display or p.raw}" + ("  (primary)" if p.is_primary else "")
            )
    lines += [f"e-mail: {e.address}" for e in h.emails]
    return "\n".join(lines) or "no phone or e-mail"


def preferences_text(h: v.CustomerHeader) -> str:
    lines = []
    for pref in h.preferences:
        if pref.avoid:
            lines.append(f"✖ not {pref.target or pref.channel}: {pref.note or ''}".rstrip(": "))
        else:
            where = pref.target or pref.channel
            line = f"✔ {pref.rank}. {where}, {pref.days}, {pref.hours}"
            lines.append(line + (f" ({pref.note})" if pref.note else ""))
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
        lines.append("⚠ " + ", ".join(flags))
    return "\n".join(lines) or "No contact preferences recorded"


def _set_text(label: QLabel, text: str) -> None:
    # Setting the same text again still lays the label out anew: skip it.
    if label.text() != text:
        label.setText(text)
