"""Operations on concessions and override requests: each an `AuthorityService` call and
the `Changes` it made.

A concession recorded names the concession (with its customer: the customer's ledger
refreshes); a request asked, decided, withdrawn, countered or expired names the request
(Entity.OVERRIDE, id = the request's, with its customer: the agent's waiting panel and
every approver's queue refresh). A denial changes nothing anyone shows (its audit row
is no entity of the change bus). Reads are no operations: the UI runs them with
`bridge.run(services.authority.ledger, customer_id)` and the like.
"""

from __future__ import annotations

from sqlalchemy import select

from app.bootstrap import Services
from app.changes import Change, Changes, Entity
from app.operations import Done
from app.services.authority import ConcessionAsk, LimitRow, Outcome, Status
from models.authority import OverrideRequest
from models.enums import OverrideDecisionKind


def grant(services: Services, ask: ConcessionAsk, key: str) -> Done[Outcome]:
    """Grant within my authority (once per key: a retry returns the first outcome)."""
    outcome = services.authority.grant(ask, key)
    return Done(outcome, _concession(outcome, ask.customer_id))


def request_override(services: Services, ask: ConcessionAsk, key: str) -> Done[Outcome]:
    """Ask an available supervisor (or manager) to approve; pending, or told at once."""
    outcome = services.authority.request_override(ask, key)
    changes = Changes()
    if outcome.request_id is not None and outcome.status is Status.PENDING:
        changes = _override(outcome.request_id, ask.customer_id)
    return Done(outcome, changes)


def withdraw(services: Services, request_id: int, customer_id: int | None = None) -> Done[Outcome]:
    outcome = services.authority.withdraw(request_id)
    return Done(outcome, _answered(services, outcome, request_id, customer_id))


def decide(
    services: Services,
    request_id: int,
    decision: OverrideDecisionKind,
    comment: str,
    counter_amount_cents: int | None = None,
    customer_id: int | None = None,
) -> Done[Outcome]:
    """Approve, reject or counter-offer a request (supervisors and managers)."""
    outcome = services.authority.decide(request_id, decision, comment, counter_amount_cents)
    return Done(outcome, _answered(services, outcome, request_id, customer_id))


def accept_counter(
    services: Services, request_id: int, key: str, customer_id: int | None = None
) -> Done[Outcome]:
    outcome = services.authority.accept_counter(request_id, key)
    return Done(outcome, _answered(services, outcome, request_id, customer_id))


def expire_due(services: Services) -> Done[int]:
    """Pending requests past their time become expired; how many."""
    if services.backend == "postgresql":
        # The function returns a count; the change bus announces each request it expired.
        return Done(services.authority.expire_due(), Changes())
    expired = services.authority.expire_due_requests()
    changes = Changes.of(*(Change(Entity.OVERRIDE, rid, customer) for rid, customer in expired))
    return Done(len(expired), changes)


def set_presence(services: Services, available: bool) -> Done[None]:
    """A heartbeat (every 10 s from a supervisor's or manager's app)."""
    services.authority.set_presence(available)
    return Done(None, Changes())


def set_limit(services: Services, row: LimitRow, key: str) -> Done[Outcome]:
    # The matrix is no entity of the change bus: the editor reads it again after a save.
    return Done(services.authority.set_limit(row, key), Changes())


def delete_limit(services: Services, limit_id: int) -> Done[Outcome]:
    return Done(services.authority.delete_limit(limit_id), Changes())


def _concession(outcome: Outcome, customer_id: int) -> Changes:
    if outcome.concession_id is None or outcome.status is not Status.GRANTED:
        return Changes()
    return Changes.of(Change(Entity.CONCESSION, outcome.concession_id, customer_id))


def _answered(
    services: Services, outcome: Outcome, request_id: int, customer_id: int | None
) -> Changes:
    """The request (and its concession, if one was recorded), when the call changed it."""
    changed = outcome.status in (
        Status.APPROVED,
        Status.REJECTED,
        Status.COUNTERED,
        Status.WITHDRAWN,
        Status.EXPIRED,
        Status.GRANTED,
    )
    if not changed:
        return Changes()
    if customer_id is None:
        with services.db.lookup() as session:
            customer_id = session.scalar(
                select(OverrideRequest.customer_id).where(OverrideRequest.id == request_id)
            )
    changes = _override(request_id, customer_id)
    if outcome.concession_id is not None:
        changes |= Changes.of(Change(Entity.CONCESSION, outcome.concession_id, customer_id))
    return changes


def _override(request_id: int, customer_id: int | None) -> Changes:
    return Changes.of(Change(Entity.OVERRIDE, request_id, customer_id))
