"""Operations on cases: each a `CaseService` call and the `Changes` it made.

Every write names the case (Entity.CASE, with its customer, so the customer's tab and
the case tab both refresh); attaching a contact names the contact too.
"""

from __future__ import annotations

from typing import Any

from app.bootstrap import Services
from app.changes import Change, Changes, Entity
from app.operations import Done
from app.services.cases import EditResult
from models.enums import CaseStatus, Priority


def open_case(
    services: Services,
    customer_id: int,
    category: str,
    subject: str,
    description: str | None,
    priority: Priority | str,
    order_id: int | None = None,
    order_line_id: int | None = None,
    contract_id: int | None = None,
    interaction_id: int | None = None,
) -> Done[tuple[int, str]]:
    """Open a case; its (id, reference)."""
    case_id, reference = services.cases.open_case(
        customer_id,
        category,
        subject,
        description,
        priority,
        order_id=order_id,
        order_line_id=order_line_id,
        contract_id=contract_id,
        interaction_id=interaction_id,
    )
    changes = _case(case_id, customer_id)
    if interaction_id is not None:
        changes |= Changes.of(Change(Entity.INTERACTION, interaction_id, customer_id))
    return Done((case_id, reference), changes)


def change_status(
    services: Services,
    case_id: int,
    customer_id: int,
    to: CaseStatus | str,
    expected_version: int,
    reason: str | None = None,
) -> Done[int]:
    version = services.cases.change_status(case_id, to, expected_version, reason)
    return Done(version, _case(case_id, customer_id))


def add_case_note(
    services: Services, case_id: int, customer_id: int, body: str, internal: bool
) -> Done[int]:
    event_id = services.cases.add_note(case_id, body, internal)
    return Done(event_id, _case(case_id, customer_id))


def attach_interaction(services: Services, case_id: int, interaction_id: int) -> Done[int]:
    customer_id = services.cases.attach_interaction(case_id, interaction_id)
    changes = _case(case_id, customer_id) | Changes.of(
        Change(Entity.INTERACTION, interaction_id, customer_id)
    )
    return Done(customer_id, changes)


def edit_case(
    services: Services,
    case_id: int,
    customer_id: int,
    expected_version: int,
    changes: dict[str, Any],
    base: dict[str, Any],
) -> Done[EditResult]:
    result = services.cases.edit(case_id, expected_version, changes, base)
    return Done(result, _case(case_id, customer_id) if result.applied else Changes())


def _case(case_id: int, customer_id: int) -> Changes:
    return Changes.of(Change(Entity.CASE, case_id, customer_id))
