"""Operations on suggestions: recording what was shown and what became of it (S6).

Each names the impressions it wrote (Entity.SUGGESTION, with the customer) so the
customer's panel, and anyone slicing conversion, can refresh. `suggest` and
`conversion` are reads: the UI runs them with `bridge.run(services.suggestions.suggest,
customer_id)`.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.bootstrap import Services
from app.changes import Change, Changes, Entity
from app.operations import Done
from app.services.views import Impression, Suggestion
from models.enums import OfferOutcome


def show(
    services: Services,
    customer_id: int,
    items: Sequence[Suggestion],
    view_key: str,
    interaction_id: int | None = None,
    case_id: int | None = None,
) -> Done[tuple[Impression, ...]]:
    """Record the suggestions shown in one view (`view_key`: one per showing, kept for
    its refreshes and retries, so nothing is recorded twice)."""
    shown = services.suggestions.record_shown(
        customer_id, items, view_key, interaction_id=interaction_id, case_id=case_id
    )
    return Done(shown, Changes.of(*(Change(Entity.SUGGESTION, i.id, customer_id) for i in shown)))


def react(
    services: Services,
    impression_id: int,
    outcome: OfferOutcome,
    reason: str | None = None,
    concession_id: int | None = None,
) -> Done[Impression]:
    """Accepted, declined (with one of DECLINE_REASONS) or offered (with the concession
    granted with it)."""
    suggestions = services.suggestions
    if outcome is OfferOutcome.ACCEPTED:
        done = suggestions.accept(impression_id)
    elif outcome is OfferOutcome.DECLINED:
        done = suggestions.decline(impression_id, reason or "")
    elif outcome is OfferOutcome.OFFERED:
        if concession_id is None:
            raise ValueError("an offered suggestion names the concession granted with it")
        done = suggestions.offered(impression_id, concession_id)
    else:
        raise ValueError(f"not a reaction: {outcome}")
    customer = suggestions.impression_customer(impression_id)
    return Done(done, Changes.of(Change(Entity.SUGGESTION, done.id, customer)))
