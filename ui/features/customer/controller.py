"""Keeping an open customer tab current: which of its parts a `Changes` record makes
stale, one re-query for a burst of changes, none while the tab is out of sight.

Every write (here or by another agent, app/changes.py) reaches each open tab. Most are
about other customers and cost nothing: no query. For this customer, the parts that show
what changed are marked stale; the first change starts a short timer, and the changes
that arrive before it fires ride along, so a wrap-up that writes the call, its task and
the case makes one query, not three. A tab that is not shown waits until it is.

There is one read of the record (`CustomerService.load_customer`); the tab then updates
only the stale parts, and of those only the widgets whose rows differ.

Signals:
    refreshed(object, object): a fresh `CustomerView` and the frozenset of `Part`s to
        update from it.
    failed(str): the re-query failed for a reason the agent should see (the customer was
        merged or deleted). A lost connection is the banner's business: the change bus
        sends "everything" once it is back.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from app.changes import Changes, Entity
from app.errors import UserError
from ui.bridge import DatabaseBridge

if TYPE_CHECKING:
    from app.services.customers import CustomerService  # the core loads after the first paint

log = logging.getLogger(__name__)
# Changes closer together than this make one re-query: long enough for our own write
# and its echo from the change feed (PostgreSQL: within ~10 ms) to cost one query, short
# enough not to add to what another agent waits for.
COALESCE_MS = 30


class Part(enum.Enum):
    HEADER = "header"
    OVERVIEW = "overview"
    ORDERS = "orders"
    CASES = "cases"
    TIMELINE = "timeline"
    HOUSEHOLD = "household"
    NOTES = "notes"
    # The Concessions section (ui/features/authority): it reads its own rows when a
    # concession changes; from the customer view it takes the open cases and the orders
    # its "Make it right…" dialog offers.
    CONCESSIONS = "concessions"
    # The Suggested section and the churn badge (ui/features/suggestions): they read
    # their own rows again when what they are made of changes.
    SUGGESTIONS = "suggestions"


ALL_PARTS = frozenset(Part)

# Which parts show each kind of entity of this customer.
SHOWN_IN: dict[Entity, frozenset[Part]] = {
    # Name, tier, phones, preferences; key dates and addresses; and the calls linked to
    # the customer after the fact (`link_caller` reports the customer, not the call).
    Entity.CUSTOMER: frozenset({Part.HEADER, Part.OVERVIEW, Part.HOUSEHOLD, Part.TIMELINE}),
    Entity.NOTE: frozenset({Part.NOTES, Part.SUGGESTIONS}),
    # A case counts its contacts (Cases, and the Overview's open cases).
    Entity.INTERACTION: frozenset({Part.TIMELINE, Part.CASES, Part.OVERVIEW, Part.SUGGESTIONS}),
    Entity.CASE: frozenset(
        {Part.HEADER, Part.OVERVIEW, Part.CASES, Part.TIMELINE, Part.CONCESSIONS, Part.SUGGESTIONS}
    ),
    Entity.COMMITMENT: frozenset({Part.HEADER, Part.OVERVIEW, Part.CASES, Part.SUGGESTIONS}),
    Entity.ORDER: frozenset(
        {Part.HEADER, Part.OVERVIEW, Part.ORDERS, Part.CONCESSIONS, Part.SUGGESTIONS}
    ),
    # A retention offer once granted is not suggested again.
    Entity.CONCESSION: frozenset({Part.SUGGESTIONS}),
    # Entity.TASK: no part of the tab shows tasks.
}
# A relative who is a customer appears by name in Household and in the key dates.
RELATIVE_PARTS = frozenset({Part.HOUSEHOLD, Part.OVERVIEW})


def stale_parts(changes: Changes, customer_id: int, relatives: frozenset[int]) -> frozenset[Part]:
    """The parts of customer `customer_id`'s tab that `changes` make stale."""
    if changes.everything:
        return ALL_PARTS
    parts: set[Part] = set()
    for change in changes.items:
        if change.customer_id == customer_id:
            parts |= SHOWN_IN.get(change.entity, frozenset())
        elif change.entity == Entity.CUSTOMER and change.id in relatives:
            parts |= RELATIVE_PARTS
    return frozenset(parts)


class CustomerController(QObject):
    refreshed = Signal(object, object)
    failed = Signal(str)

    def __init__(
        self,
        customer_id: int,
        customers: CustomerService,
        bridge: DatabaseBridge,
        is_shown: Callable[[], bool],
        relatives: Callable[[], frozenset[int]],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.customer_id = customer_id
        self._customers = customers
        self._bridge = bridge
        self._is_shown = is_shown
        self._relatives = relatives
        self._stale: set[Part] = set()
        self._loading = False
        self.queries = 0  # re-queries made (tests and the bench count them)
        self._timer = QTimer(self, singleShot=True, interval=COALESCE_MS)
        self._timer.timeout.connect(self._refresh)

    @property
    def pending(self) -> frozenset[Part]:
        """The parts waiting for a re-query."""
        return frozenset(self._stale)

    @property
    def scheduled(self) -> bool:
        return self._timer.isActive() or self._loading

    def apply_changes(self, changes: Changes) -> None:
        parts = stale_parts(changes, self.customer_id, self._relatives())
        if not parts:
            return
        self._stale |= parts
        self._schedule()

    def shown(self) -> None:
        """The tab came into sight: catch up with what changed while it was hidden."""
        self._schedule()

    def _schedule(self) -> None:
        if self._stale and not self._timer.isActive() and not self._loading:
            self._timer.start()

    def _refresh(self) -> None:
        if not self._stale or not self._is_shown():
            return  # `shown` starts again when the tab is brought forward
        parts = frozenset(self._stale)
        self._stale.clear()
        self._loading = True
        self.queries += 1
        self._bridge.spawn(self._load(parts))

    async def _load(self, parts: frozenset[Part]) -> None:
        try:
            view = await self._bridge.run(self._customers.load_customer, self.customer_id)
        except UserError as exc:  # merged or deleted meanwhile
            if shiboken6.isValid(self):
                self.failed.emit(str(exc))
            return
        except Exception:
            log.warning("refreshing customer %s failed", self.customer_id, exc_info=True)
            return
        finally:
            if shiboken6.isValid(self):
                self._loading = False
                self._schedule()  # what changed while this query ran
        if shiboken6.isValid(self):
            self.refreshed.emit(view, parts)


__all__ = ["ALL_PARTS", "CustomerController", "Part", "stale_parts"]
