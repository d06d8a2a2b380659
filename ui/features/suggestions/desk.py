"""Suggestions in one customer tab: the churn badge in the header and its factors in
words under it, the Suggested section, and what the agent does with a suggestion.

`CustomerPanel` makes one `SuggestionsDesk` once the tab is painted. All reads and writes
run on the bridge's workers:
- opening, and again when the customer's orders, notes, calls, cases, promises or
  concessions change (the controller's `Part.SUGGESTIONS`): one `suggest` call, which
  brings the suggestions and the churn risk together;
- impressions: once the Suggested section is in sight, what it lists is recorded as
  shown (`app/operations/suggestions.py`), under one view key made when the tab opens
  (uuid4), so showing the section again, or a refresh listing the same suggestions,
  records nothing twice; a suggestion that appears later is recorded then;
- accept, decline with a reason, and offer: each an operation on the suggestion's
  impression. Offer opens authority's "Make it right…" dialog prefilled (a discount or a
  sample of the product, or the retention or welcome offer itself), so the concession
  goes through the authority rules; once it is granted the impression is marked offered
  with the concession's id (above the agent's authority: when the supervisor's approval
  writes it, which the change bus reports as a concession of this customer).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

from app.errors import UserError
from app.services import views as v
from models.enums import ConcessionType, OfferOutcome, OverrideStatus
from models.errors import DatabaseError
from ui.bridge import DatabaseBridge
from ui.features.authority.grant_dialog import GrantDialog, Prefill
from ui.features.suggestions import words
from ui.features.suggestions.churn import ChurnBadge, ChurnLine
from ui.features.suggestions.section import SuggestedSection

if TYPE_CHECKING:
    from app.bootstrap import Services  # the core loads after the first paint
    from app.services.authority import Outcome

log = logging.getLogger(__name__)
COALESCE_MS = 50  # a burst of changes makes one re-read
# Products to try are offered as a sample; what she buys again, or a cheaper one, at a
# discount. The agent may change either in the dialog.
SAMPLE_KINDS = frozenset({"add_on", "counterpart", "new_line"})
PROPOSED_SHARE = Decimal("0.10")  # of the price: the value the dialog proposes


def prefill_for(item: v.Suggestion, newest_order_id: int | None = None) -> Prefill:
    """What "Make it right…" opens with for `item`: an offer's own concession, else a
    discount or a sample worth a tenth of the price."""
    reason = f"Suggested: {item.title}"
    if words.is_offer(item) and item.concession_type:
        percent = Decimal(str(item.percent)) if item.percent is not None else None
        return Prefill(
            type=ConcessionType(item.concession_type),
            reason=reason,
            amount_cents=item.amount_cents,
            percent=percent,
            order_id=newest_order_id if percent is not None and not item.amount_cents else None,
        )
    kind = ConcessionType.SAMPLE if item.kind in SAMPLE_KINDS else ConcessionType.DISCOUNT
    amount = None
    if item.price_cents:
        amount = max(int((Decimal(item.price_cents) * PROPOSED_SHARE).to_integral_value()), 1)
    return Prefill(type=kind, reason=reason, amount_cents=amount)


def _operations() -> Any:
    from app.operations import suggestions  # the core loads after the first paint

    return suggestions


class SuggestionsDesk(QObject):
    def __init__(
        self,
        customer_id: int,
        data: Callable[[], v.CustomerView],
        services: Services,
        bridge: DatabaseBridge,
        make_it_right: Callable[[Prefill], GrantDialog],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.customer_id = customer_id
        self._data = data
        self._services = services
        self._bridge = bridge
        self._make_it_right = make_it_right
        self.view_key = uuid.uuid4().hex  # one opening of this customer's tab
        self.badge = ChurnBadge()
        self.line = ChurnLine()
        self.section: SuggestedSection | None = None
        self.suggestions: v.Suggestions | None = None
        self.impressions: dict[str, v.Impression] = {}  # by the suggestion's key
        self.ready = False  # the first read is in
        self.reads = 0  # tests count them
        self._stale = True
        self._loading = False
        self._recording = False
        self._offering: dict[int, v.Suggestion] = {}  # grant dialog (id) -> its suggestion
        # Above the agent's authority: override request id -> its suggestion, marked
        # offered when the approval's concession is written (a CONCESSION change).
        self._asked: dict[int, v.Suggestion] = {}
        self._timer = QTimer(self, singleShot=True, interval=COALESCE_MS)
        self._timer.timeout.connect(self._read)

    # -- reading -------------------------------------------------------------------

    def start(self) -> None:
        self._schedule()

    def refresh(self) -> None:
        """What the suggestions depend on changed (the controller's Part.SUGGESTIONS)."""
        self._stale = True
        self._schedule()
        if self._asked:
            self._bridge.spawn(self._answered())

    def _schedule(self) -> None:
        if self._stale and not self._timer.isActive() and not self._loading:
            self._timer.start()

    def _read(self) -> None:
        if not self._stale:
            return
        self._stale = False
        self._loading = True
        self.reads += 1
        self._bridge.spawn(self._load())

    async def _load(self) -> None:
        try:
            suggestions = await self._bridge.run(
                self._services.suggestions.suggest, self.customer_id
            )
        except Exception:
            log.warning("reading suggestions of %s failed", self.customer_id, exc_info=True)
            if shiboken6.isValid(self) and self.section is not None:
                self.section.summary.setText("Suggestions cannot be read now.")
            return
        finally:
            if shiboken6.isValid(self):
                self._loading = False
                self._schedule()  # what changed while this read ran
        if not shiboken6.isValid(self.badge):
            return
        self.show_suggestions(suggestions)

    def show_suggestions(self, suggestions: v.Suggestions) -> None:
        self.suggestions = suggestions
        self.badge.show_churn(suggestions.churn)
        self.line.show_churn(suggestions.churn)
        if self.section is not None:
            self.section.show_suggestions(suggestions, self._data().today)
        self.ready = True
        self._record_if_shown()

    # -- the section ---------------------------------------------------------------

    def make_section(self) -> SuggestedSection:
        section = SuggestedSection(self._data().today)
        section.accept_requested.connect(self.accept)
        section.decline_requested.connect(self.decline)
        section.offer_requested.connect(self.offer)
        section.installEventFilter(self)
        self.section = section
        if self.suggestions is not None:
            section.show_suggestions(self.suggestions, self._data().today)
            for impression in self.impressions.values():
                section.show_outcome(impression)
        return section

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.section and event.type() == QEvent.Type.Show:
            self._record_if_shown()
        return False

    # -- impressions ---------------------------------------------------------------

    def _unrecorded(self) -> tuple[v.Suggestion, ...]:
        items = self.suggestions.items if self.suggestions is not None else ()
        return tuple(i for i in items if i.key not in self.impressions)

    def _record_if_shown(self) -> None:
        section = self.section
        if section is None or not section.isVisible() or self._recording:
            return
        if self._unrecorded():
            self._bridge.spawn(self._record())

    async def _record(self) -> None:
        if not self._unrecorded():
            return
        self._recording = True
        try:
            await self._record_items()
        except Exception:
            log.warning("recording suggestions shown failed", exc_info=True)
        finally:
            if shiboken6.isValid(self):
                self._recording = False
        if shiboken6.isValid(self):
            self._record_if_shown()  # suggestions that came meanwhile

    async def _record_items(self) -> None:
        """Record the list as shown. The whole list each time, so each keeps the rank it
        is shown at; the ones stored already come back as they are (the view key)."""
        items = self.suggestions.items if self.suggestions is not None else ()
        impressions = await self._bridge.perform(
            _operations().show, self._services, self.customer_id, tuple(items), self.view_key
        )
        if shiboken6.isValid(self):
            for impression in impressions:
                self._keep(impression)

    def _keep(self, impression: v.Impression) -> None:
        self.impressions[impression.key] = impression
        if self.section is not None and shiboken6.isValid(self.section):
            self.section.show_outcome(impression)

    async def _impression(self, item: v.Suggestion) -> v.Impression:
        """The impression of `item`, recorded now if the agent acts before it was."""
        if item.key not in self.impressions:
            await self._record_items()
        impression = self.impressions.get(item.key)
        if impression is None:
            raise UserError("That suggestion is no longer listed: it was not recorded.")
        return impression

    # -- what the agent does -----------------------------------------------------------

    def accept(self, item: v.Suggestion) -> None:
        self._bridge.spawn(self._react(item, OfferOutcome.ACCEPTED))

    def decline(self, item: v.Suggestion, reason: str) -> None:
        self._bridge.spawn(self._react(item, OfferOutcome.DECLINED, reason=reason))

    async def _react(
        self,
        item: v.Suggestion,
        outcome: OfferOutcome,
        reason: str | None = None,
        concession_id: int | None = None,
    ) -> v.Impression | None:
        try:
            impression = await self._impression(item)
            answer: v.Impression = await self._bridge.perform(
                _operations().react,
                self._services,
                impression.id,
                outcome,
                reason=reason,
                concession_id=concession_id,
            )
        except (UserError, DatabaseError) as exc:
            self._say(f"Not recorded: {exc}", problem=True)
            return None
        except Exception:
            log.warning("recording %s of %s failed", outcome, item.key, exc_info=True)
            self._say("Not recorded: something went wrong (it is in the log).", problem=True)
            return None
        if shiboken6.isValid(self):
            self._keep(answer)
            self._say(f"{words.outcome_text(answer)}: {words.kind_label(item.kind)} {item.title}")
        return answer

    def _say(self, text: str, problem: bool = False) -> None:
        if self.section is not None and shiboken6.isValid(self.section):
            self.section.say(text, problem)

    def offer(self, item: v.Suggestion) -> GrantDialog:
        """ "Make it right…" prefilled for `item`; a grant marks its impression offered."""
        orders = self._data().orders
        dialog = self._make_it_right(prefill_for(item, orders[0].id if orders else None))
        if id(dialog) not in self._offering:
            key = id(dialog)
            dialog.granted.connect(lambda outcome, k=key: self._granted(k, outcome))
            dialog.asked.connect(lambda outcome, _ask, k=key: self._asked_override(k, outcome))
            dialog.destroyed.connect(lambda _gone=None, k=key: self._offering.pop(k, None))
        self._offering[id(dialog)] = item  # an open dialog now offers this one
        if item.key not in self.impressions:
            self._bridge.spawn(self._impression(item))
        return dialog

    def _granted(self, key: int, outcome: Outcome) -> None:
        item = self._offering.get(key)
        if item is None or outcome.concession_id is None:
            return
        self._bridge.spawn(
            self._react(item, OfferOutcome.OFFERED, concession_id=outcome.concession_id)
        )

    def _asked_override(self, key: int, outcome: Outcome) -> None:
        item = self._offering.get(key)
        if item is None or outcome.request_id is None:
            return
        self._asked[outcome.request_id] = item
        self._say(f"Asked a supervisor: {item.title} is recorded as offered once approved.")

    async def _answered(self) -> None:
        """The requests asked with a suggestion: an approved one marks it offered."""
        try:
            requests = await self._bridge.run(self._services.authority.my_requests)
        except Exception:
            log.warning("reading the requests asked with suggestions failed", exc_info=True)
            return
        for request in requests:
            item = self._asked.get(request.id)
            if item is None:
                continue
            if request.concession_id is not None:
                del self._asked[request.id]
                await self._react(item, OfferOutcome.OFFERED, concession_id=request.concession_id)
            elif request.status not in (OverrideStatus.PENDING, OverrideStatus.COUNTERED):
                del self._asked[request.id]  # rejected, withdrawn or expired: not offered


__all__ = ["SuggestionsDesk", "prefill_for"]
