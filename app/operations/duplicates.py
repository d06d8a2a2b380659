"""Operations on duplicate customers: saving a new customer although it looks like one
that exists (S8), which puts the pairs in the review queue."""

from __future__ import annotations

from app.bootstrap import Services
from app.changes import Change, Changes, Entity
from app.operations import Done
from app.services.contacts import ContactDetails, SavedContact
from app.services.duplicates import Match


def create_customer_anyway(
    services: Services, details: ContactDetails, matches: tuple[Match, ...]
) -> Done[SavedContact]:
    """Create the customer, then record each likely duplicate as a creation candidate.

    Two units of work, not one: the customer is what the agent asked for, and if the
    record of the candidates failed the next scan would find the pair again."""
    saved = services.contacts.create(details)
    services.duplicates.record_created_anyway(saved.customer_id, matches)
    customer = saved.customer_id
    return Done(saved, Changes.of(Change(Entity.CUSTOMER, customer, customer)))
