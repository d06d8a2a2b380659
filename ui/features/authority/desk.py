"""Authority in one customer tab: the strip under the header (the policy exceptions the
customer qualifies for, and the override requests waiting for an answer), the
Concessions section, and the "Make it right…" dialog.

`CustomerPanel` makes one `AuthorityDesk` once the tab is painted and hands it every
`Changes` record. All reads run on the bridge's workers:
- opening: the policy hints and this agent's open requests for the customer (one call);
- the Concessions section: the ledger and the agent's budget today, read when the
  section is first shown and again when a concession of this customer (or, for the
  budget, any of this agent's) is written, here or on another desktop; a section out of
  sight catches up when shown.

Signals:
    show_requested(): bring this customer's tab forward (the agent clicked the answer's
        note while looking at another tab).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.changes import Changes, Entity
from app.services import views as v
from app.services.authority import (
    ConcessionAsk,
    LedgerRow,
    OverrideView,
    PolicyHint,
    TypeAuthority,
)
from models.enums import OverrideStatus, Role
from ui.bridge import DatabaseBridge
from ui.features.authority.concessions import ConcessionsSection
from ui.features.authority.grant_dialog import GrantDialog, Prefill, grant_context
from ui.features.authority.hints import PolicyHints
from ui.features.authority.toast import AnswerToast
from ui.features.authority.waiting import WaitingPanel
from ui.features.authority.words import answer_text, is_open

if TYPE_CHECKING:
    from app.bootstrap import Services  # the core loads after the first paint
    from app.services.authority import AuthorityService, Outcome

log = logging.getLogger(__name__)
COALESCE_MS = 50  # a burst of concession changes makes one re-read
# A counter-offer answered this recently is shown again when the customer is reopened.
RECENT_OFFER = dt.timedelta(minutes=30)


def opening_read(
    authority: AuthorityService, customer_id: int
) -> tuple[list[PolicyHint], list[OverrideView]]:
    """Runs on a worker: the hints, and this agent's requests for the customer that still
    wait (or carry an offer not yet taken)."""
    hints = authority.policy_hints(customer_id)
    now = dt.datetime.now(dt.UTC)
    mine = [
        r
        for r in authority.my_requests()
        if r.customer_id == customer_id
        and is_open(r)
        and (r.status == OverrideStatus.PENDING or (r.decided_at or now) >= now - RECENT_OFFER)
    ]
    return hints, mine


def section_read(
    authority: AuthorityService, customer_id: int
) -> tuple[list[LedgerRow], list[TypeAuthority]]:
    """Runs on a worker: the customer's ledger and the agent's authority today."""
    return authority.ledger(customer_id), authority.my_authority()


class AuthorityDesk(QObject):
    show_requested = Signal()

    def __init__(
        self,
        customer_id: int,
        data: Callable[[], v.CustomerView],
        services: Services,
        bridge: DatabaseBridge,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.customer_id = customer_id
        self._data = data
        self._services = services
        self._bridge = bridge
        self._tab = parent
        self.hints: tuple[PolicyHint, ...] = ()
        self.ready = False  # the opening read is in
        # The strip under the customer header: qualifying hints, then waiting requests.
        self.strip = QWidget()
        self.strip.setAccessibleName("Authority")
        strip_layout = QVBoxLayout(self.strip)
        strip_layout.setContentsMargins(0, 0, 0, 0)
        strip_layout.setSpacing(4)
        self.strip_hints = PolicyHints(fold_others=False)
        strip_layout.addWidget(self.strip_hints)
        self.strip.hide()  # until there is something to say
        self.waiting: list[WaitingPanel] = []
        self.section: ConcessionsSection | None = None
        self.dialog: GrantDialog | None = None
        self.toast: AnswerToast | None = None
        self._stale = True  # the section has never been read
        self._loading = False
        self.section_reads = 0  # tests count them
        self._timer = QTimer(self, singleShot=True, interval=COALESCE_MS)
        self._timer.timeout.connect(self._refresh_section)

    @property
    def name(self) -> str:
        header = self._data().header
        return f"{header.first_name} {header.last_name}"

    # -- opening ---------------------------------------------------------------------

    def start(self) -> None:
        self._bridge.spawn(self._open())

    async def _open(self) -> None:
        try:
            hints, mine = await self._bridge.run(
                opening_read, self._services.authority, self.customer_id
            )
        except Exception:
            log.warning("reading authority hints of %s failed", self.customer_id, exc_info=True)
            return
        if not shiboken6.isValid(self.strip):
            return
        self.show_hints(hints)
        for view in mine:
            self.add_waiting(view)
        self.ready = True

    def show_hints(self, hints: Sequence[PolicyHint]) -> None:
        self.hints = tuple(hints)
        self.strip_hints.show_hints(hints)
        self._update_strip()
        if self.section is not None:
            self.section.show_hints(hints)

    # -- the Concessions section -------------------------------------------------------

    def make_section(self) -> ConcessionsSection:
        section = ConcessionsSection(self._data().header.currency)
        section.grant_requested.connect(self.make_it_right)
        section.show_hints(self.hints)
        section.installEventFilter(self)
        self.section = section
        return section

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.section and event.type() == QEvent.Type.Show:
            self._schedule()
        return False

    def _schedule(self) -> None:
        if self._stale and not self._timer.isActive() and not self._loading:
            self._timer.start()

    def _refresh_section(self) -> None:
        section = self.section
        if section is None or not self._stale or not section.isVisible():
            return  # shown later: the event filter starts it then
        self._stale = False
        self._loading = True
        self.section_reads += 1
        self._bridge.spawn(self._load_section())

    async def _load_section(self) -> None:
        try:
            ledger, authority = await self._bridge.run(
                section_read, self._services.authority, self.customer_id
            )
        except Exception:
            log.warning("reading concessions of %s failed", self.customer_id, exc_info=True)
            return
        finally:
            if shiboken6.isValid(self):
                self._loading = False
                self._schedule()  # what changed while this read ran
        if self.section is not None and shiboken6.isValid(self.section):
            self.section.show_ledger(ledger)
            self.section.show_budget(authority)

    # -- changes -----------------------------------------------------------------------

    def apply_changes(self, changes: Changes) -> None:
        if changes.everything or changes.touches((Entity.CONCESSION,)):
            # This customer's ledger, or this agent's budget (spent on another customer).
            self._stale = True
            self._schedule()
        if changes.everything:
            self._bridge.spawn(self._open_again())
        for panel in list(self.waiting):
            panel.apply_changes(changes)

    async def _open_again(self) -> None:
        """After a reconnect: hints again, and requests answered while we were away."""
        try:
            hints, _mine = await self._bridge.run(
                opening_read, self._services.authority, self.customer_id
            )
        except Exception:
            return
        if shiboken6.isValid(self.strip):
            self.show_hints(hints)

    # -- asking and waiting ------------------------------------------------------------

    def make_it_right(
        self, case_id: int | None = None, prefill: Prefill | None = None
    ) -> GrantDialog:
        """The grant dialog for this customer (Ctrl+G), its pickers from the tab's data;
        `prefill`: what a suggestion proposes (an open dialog takes it over)."""
        if self.dialog is not None and shiboken6.isValid(self.dialog) and self.dialog.isVisible():
            if prefill is not None:
                self.dialog.fill(prefill)
            self.dialog.raise_()
            self.dialog.activateWindow()
            return self.dialog
        data = self._data()
        context = grant_context(
            self.customer_id,
            self.name,
            data.header.currency,
            data.cases,
            data.orders,
            self.hints,
            case_id=case_id,
        )
        dialog = GrantDialog(
            context, self._services, self._bridge, parent=self._tab.window(), prefill=prefill
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.asked.connect(self._asked)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _asked(self, outcome: Outcome, ask: ConcessionAsk) -> None:
        assert outcome.request_id is not None
        now = dt.datetime.now(dt.UTC)
        case = next((c for c in self._data().cases if c.id == ask.case_id), None)
        hint = next((h for h in self.hints if h.policy_id == ask.policy_id), None)
        view = OverrideView(
            id=outcome.request_id,
            status=OverrideStatus.PENDING,
            customer_id=self.customer_id,
            customer_name=self.name,
            case_id=ask.case_id,
            case_reference=case.reference if case else None,
            type=ask.type,
            amount_cents=ask.amount_cents,
            currency=ask.currency,
            percent=ask.percent,
            policy_code=hint.code if hint else None,
            reason=ask.reason,
            requested_by=self._services.agent.display_name,
            requested_by_login=self._services.agent.login,
            requested_at=now,
            required_role=outcome.required_role or Role.SUPERVISOR,
            expires_at=outcome.expires_at,
        )
        panel = self.add_waiting(view, asked=outcome.approvers, asked_clock=time.monotonic())
        self._bridge.spawn(panel.reread())  # an answer may be in already

    def add_waiting(
        self, view: OverrideView, asked: int | None = None, asked_clock: float | None = None
    ) -> WaitingPanel:
        existing = next((p for p in self.waiting if p.request_id == view.id), None)
        if existing is not None:
            existing.show_view(view)
            return existing
        policy = next((h.name for h in self.hints if h.code == view.policy_code), None)
        panel = WaitingPanel(view, self._services, self._bridge, policy, asked, asked_clock)
        panel.answered.connect(lambda answer, p=panel: self._answered(p, answer))
        panel.dismissed.connect(lambda p=panel: self._dismiss(p))
        self.waiting.append(panel)
        layout = self.strip.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.addWidget(panel)
        self._update_strip()
        return panel

    def _dismiss(self, panel: WaitingPanel) -> None:
        if panel in self.waiting:
            self.waiting.remove(panel)
        panel.stop()
        panel.hide()
        panel.deleteLater()
        self._update_strip()

    def _update_strip(self) -> None:
        self.strip.setVisible(bool(self.waiting) or not self.strip_hints.isHidden())

    def _answered(self, panel: WaitingPanel, view: OverrideView) -> None:
        """The answer is in the panel; if the agent looks elsewhere, a note says so."""
        if view.status == OverrideStatus.WITHDRAWN:
            return  # the agent did it here
        if panel.isVisible() and self._tab.window().isActiveWindow():
            return
        if self.toast is None:
            self.toast = AnswerToast(self._tab)  # a window of its own, gone with the tab
            self.toast.clicked.connect(self.show_requested)
        self.toast.show_answer(f"Answer for {view.customer_name}", answer_text(view), self._tab)

    def close(self) -> None:
        """The tab closes: stop the countdowns and the note (requests go on waiting)."""
        for panel in self.waiting:
            panel.stop()
        if self.toast is not None:
            self.toast.close()
            self.toast.deleteLater()
            self.toast = None


__all__ = ["AuthorityDesk"]
