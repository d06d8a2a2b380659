"""The status bar's permanent indicators, right to left as the agent reads them: the
database, "Working…", one dot per call source, the call log button and the call bar.

The call bar belongs to the calls feature and the database label to the connection;
this module only puts them in their places, with the shell's own indicators between.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QLabel, QStatusBar, QToolButton

from ui import actions
from ui.bridge import DatabaseBridge
from ui.features.calls.widgets import AdapterStatusBar
from ui.icons import icon


class StatusIndicators(QObject):
    def __init__(
        self, bar: QStatusBar, bridge: DatabaseBridge, call_label: QLabel, db_label: QLabel
    ) -> None:
        super().__init__(bar)
        self.call_label = call_label
        self.call_log_button = QToolButton()
        self.call_log_button.setIcon(icon("call_log"))
        self.call_log_button.setText("Call log")
        self.call_log_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.call_log_button.setAutoRaise(True)
        self.call_log_button.setToolTip(actions.tooltip("call_log.show"))
        self.adapter_status = AdapterStatusBar()
        self.adapter_status.setAccessibleName("Telephony status")
        self.busy_label = QLabel("")
        bridge.busy_changed.connect(self._show_busy)
        self.db_label = db_label
        for widget in (
            call_label,
            self.call_log_button,
            self.adapter_status,
            self.busy_label,
            db_label,
        ):
            bar.addPermanentWidget(widget)

    def _show_busy(self, busy: bool) -> None:
        self.busy_label.setText("Working…" if busy else "")
