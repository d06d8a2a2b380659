"""What changed in the database: the one record every write and the change bus produce.

A write made here (an operation run by the UI) returns a `Changes` record naming the
entities it touched; the change bus turns what other agents commit into the same record.
Views subscribe to the entities they show and refresh only those, whoever made the
change. A record carries kinds and ids only, never personal data: it travels through
PostgreSQL NOTIFY payloads and logs.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Entity(enum.StrEnum):
    """Kinds of things a view shows. `customer_id` on a `Change` says whose they are."""

    CUSTOMER = "customer"  # the customer row and its contact details (phones, e-mails, ...)
    NOTE = "note"
    INTERACTION = "interaction"  # calls and other contacts, their wrap-ups
    TASK = "task"
    CASE = "case"
    COMMITMENT = "commitment"
    ORDER = "order"
    FEEDBACK = "feedback"
    PRESENCE = "presence"  # who has a case open or is typing in it (id: the case)
    OVERRIDE = "override"  # an override request asked, answered, withdrawn or expired
    CONCESSION = "concession"
    SUGGESTION = "suggestion"  # an impression recorded or answered (id: the impression's)


@dataclass(frozen=True, order=True)
class Change:
    """One entity written: its kind, its id and, when it belongs to one, the customer."""

    entity: Entity
    id: int
    customer_id: int | None = None


@dataclass(frozen=True)
class Changes:
    """A set of changes; `everything` means "re-query all you show" (after a reconnect,
    when changes may have been missed)."""

    items: frozenset[Change] = frozenset()
    everything: bool = False

    @classmethod
    def of(cls, *changes: Change) -> Changes:
        return cls(frozenset(changes))

    @classmethod
    def all(cls) -> Changes:
        return cls(everything=True)

    def __or__(self, other: Changes) -> Changes:
        return Changes(self.items | other.items, self.everything or other.everything)

    def __bool__(self) -> bool:
        return self.everything or bool(self.items)

    def ids(self, entity: Entity) -> frozenset[int]:
        return frozenset(c.id for c in self.items if c.entity == entity)

    def customers(self, entities: Iterable[Entity] | None = None) -> frozenset[int]:
        """The customers whose `entities` (all kinds when None) changed."""
        wanted = None if entities is None else frozenset(entities)
        return frozenset(
            c.customer_id
            for c in self.items
            if c.customer_id is not None and (wanted is None or c.entity in wanted)
        )

    def touches(self, entities: Iterable[Entity], customer_id: int | None = None) -> bool:
        """Whether a view showing `entities` (of `customer_id`, if given) must refresh."""
        if self.everything:
            return True
        wanted = frozenset(entities)
        return any(
            c.entity in wanted and (customer_id is None or c.customer_id == customer_id)
            for c in self.items
        )
